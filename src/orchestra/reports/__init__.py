"""Reports of one suite run, all rendered from `RunReport`: JUnit XML, JSON, self-contained HTML.

`render(report, "junit" | "json" | "html", all_runs=False)` is what `orchestra report --format`
calls (the HTML and JSON detail `MAX_DETAILED_RUNS` runs, failures first, unless `all_runs`);
`render_suite_html(SuiteReport)` is a suite's coverage page before any run (`report --suite`).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from orchestra.errors import UsageError
from orchestra.reports.model import MAX_DETAILED_RUNS, RunReport, SuiteReport, step_report


class ReportFormat(StrEnum):
    JUNIT = "junit"
    JSON = "json"
    HTML = "html"

    @property
    def suffix(self) -> str:
        return ".xml" if self is ReportFormat.JUNIT else f".{self.value}"


# Each renderer is imported when its format is asked for: JUnit alone needs no Jinja2.
def render_junit(report: RunReport) -> str:
    from orchestra.reports.junit import render_junit

    return render_junit(report)


def render_json(report: RunReport, *, detailed_runs: int = MAX_DETAILED_RUNS) -> str:
    from orchestra.reports.json_report import render_json

    return render_json(report, detailed_runs=detailed_runs)


def render_html(report: RunReport, *, detailed_runs: int = MAX_DETAILED_RUNS) -> str:
    from orchestra.reports.html import render_html

    return render_html(report, detailed_runs=detailed_runs)


def render_suite_html(report: SuiteReport) -> str:
    from orchestra.reports.html import render_suite_html

    return render_suite_html(report)


_RENDERERS: dict[ReportFormat, Callable[[RunReport, int], str]] = {
    ReportFormat.JUNIT: lambda report, _detailed: render_junit(report),  # always every run
    ReportFormat.JSON: lambda report, detailed: render_json(report, detailed_runs=detailed),
    ReportFormat.HTML: lambda report, detailed: render_html(report, detailed_runs=detailed),
}


def render(report: RunReport, format_name: str, *, all_runs: bool = False) -> str:
    """The report in one format, detailing every run's steps with `all_runs` (the HTML and
    JSON reports otherwise detail `MAX_DETAILED_RUNS`, failures first); UsageError naming the
    formats for an unknown one."""
    try:
        chosen = ReportFormat(format_name.lower())
    except ValueError:
        known = ", ".join(f.value for f in ReportFormat)
        raise UsageError(f"unknown report format {format_name!r} (one of {known})") from None
    detailed = len(report.test_runs) if all_runs else MAX_DETAILED_RUNS
    return _RENDERERS[chosen](report, detailed)


__all__ = [
    "MAX_DETAILED_RUNS",
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
