"""The HTML reports: one self-contained file (inline CSS, JS and SVG) that works from file://.

`render_html` gives a suite run's report; `render_suite_html` a suite's coverage page, before
any run. Both fill the same page (templates/page.html.jinja) with the same diagram and script.

Nothing is fetched when it is viewed; a Content-Security-Policy allows only the page's own
style and script (by hash), so even a body from the SUT that slipped past escaping could not
run. Every run and step is a collapsed `<details>`: a suite of 1,000 runs opens at once, and
the filters only toggle one class on the list.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from orchestra.domain.statuses import TestRunStatus
from orchestra.reports.coverage import CoverageMarking, coverage_counts, element_coverage
from orchestra.reports.diagram import diagram_of, draw_svg, render_svg
from orchestra.reports.events import event_texts
from orchestra.reports.model import RunReport, SuiteReport, unbound_steps
from orchestra.reports.outcomes import element_outcomes, outcome_counts
from orchestra.reports.text import (
    failure_message,
    format_ms,
    lost_lease_text,
    pretty,
    show,
    step_label,
)


def render_html(report: RunReport) -> str:
    """The report as one HTML document."""
    outcomes = element_outcomes(report)
    process = report.process
    return _page(
        "report.html.jinja",
        r=report,
        title=f"{process.name or process.key} — suite run {report.suite_run.id}",
        noun="runs",
        total=len(report.test_runs),
        duration=_seconds(report.duration_s) if report.duration_s is not None else None,
        counts={status.value: report.count(status) for status in TestRunStatus},
        failures=sum(1 for run in report.test_runs if run.is_failure),
        not_run=report.count(
            TestRunStatus.SKIPPED,
            TestRunStatus.CANCELLED,
            TestRunStatus.PENDING,
            TestRunStatus.QUEUED,
            TestRunStatus.RUNNING,
        ),
        elements=outcome_counts(outcomes),
        svg=render_svg(process.graph, outcomes),
    )


def render_suite_html(report: SuiteReport) -> str:
    """A suite's coverage page as one HTML document: the same page, its diagram coloured by the
    scenarios through each element, its scenarios listed instead of runs."""
    elements = element_coverage(report)
    process = report.process
    return _page(
        "suite.html.jinja",
        extra_style="suite.css",
        r=report,
        title=f"{process.name or process.key} — suite {report.suite.id} coverage",
        noun="scenarios",
        total=len(report.scenarios),
        elements=coverage_counts(elements),
        svg=draw_svg(process.graph, CoverageMarking(elements)),
    )


def _page(
    template_name: str, *, r: RunReport | SuiteReport, extra_style: str = "", **values: Any
) -> str:
    style = _asset("report.css") + (_asset(extra_style) if extra_style else "")
    script = _asset("report.js")
    return (
        _environment()
        .get_template(template_name)
        .render(
            r=r,
            from_model=diagram_of(r.process.graph)[1],
            events=event_texts(r.process.graph),
            style=Markup(style),
            script=Markup(script),
            style_hash=_csp_hash(style),
            script_hash=_csp_hash(script),
            **values,
        )
    )


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("orchestra.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    helpers: dict[str, Any] = {
        "why": failure_message,
        "step_label": step_label,
        "lost_lease_text": lost_lease_text,
        "show": show,
        "pretty": pretty,
        "ms": format_ms,
        "seconds": _seconds,
        "unbound_steps": unbound_steps,
    }
    environment.globals.update(helpers)
    return environment


@cache
def _asset(name: str) -> str:
    return resources.files("orchestra.reports").joinpath("templates", name).read_text("utf-8")


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"
