"""The HTML report: one self-contained file (inline CSS, JS and SVG) that works from file://.

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
from orchestra.reports.diagram import diagram_of, render_svg
from orchestra.reports.events import event_texts
from orchestra.reports.model import RunReport
from orchestra.reports.outcomes import element_outcomes, outcome_counts
from orchestra.reports.text import failure_message, format_ms, pretty, show, step_label


def render_html(report: RunReport) -> str:
    """The report as one HTML document."""
    outcomes = element_outcomes(report)
    style, script = _asset("report.css"), _asset("report.js")
    process = report.process
    template = _environment().get_template("report.html.jinja")
    return template.render(
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
        from_model=diagram_of(process.graph)[1],
        svg=render_svg(process.graph, outcomes),
        events=event_texts(process.graph),
        style=Markup(style),
        script=Markup(script),
        style_hash=_csp_hash(style),
        script_hash=_csp_hash(script),
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
        "show": show,
        "pretty": pretty,
        "ms": format_ms,
        "seconds": _seconds,
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
