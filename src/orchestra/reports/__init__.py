"""Reports of one suite run, all rendered from `RunReport`: JUnit XML, JSON, self-contained HTML.

`render(report, "junit" | "json" | "html")` is what `orchestra report --format` calls;
`render_suite_html(SuiteReport)` is a suite's coverage page before any run (`report --suite`).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from orchestra.errors import UsageError
from orchestra.reports.html import render_html, render_suite_html
from orchestra.reports.json_report import render_json
from orchestra.reports.junit import render_junit
from orchestra.reports.model import RunReport, SuiteReport, step_report


class ReportFormat(StrEnum):
    JUNIT = "junit"
    JSON = "json"
    HTML = "html"

    @property
    def suffix(self) -> str:
        return ".xml" if self is ReportFormat.JUNIT else f".{self.value}"


_RENDERERS: dict[ReportFormat, Callable[[RunReport], str]] = {
    ReportFormat.JUNIT: render_junit,
    ReportFormat.JSON: render_json,
    ReportFormat.HTML: render_html,
}


def render(report: RunReport, format_name: str) -> str:
    """The report in one format; UsageError naming the formats for an unknown one."""
    try:
        chosen = ReportFormat(format_name.lower())
    except ValueError:
        known = ", ".join(f.value for f in ReportFormat)
        raise UsageError(f"unknown report format {format_name!r} (one of {known})") from None
    return _RENDERERS[chosen](report)


__all__ = [
    "ReportFormat",
    "RunReport",
    "SuiteReport",
    "render",
    "render_html",
    "render_json",
    "render_junit",
    "render_suite_html",
    "step_report",
]
