"""The HTML reports: one self-contained file (inline CSS, JS and SVG) that works from file://.

`render_html` gives a suite run's report; `render_suite_html` a suite's coverage page, before
any run. Both fill the same page (templates/page.html.jinja) with the same diagram and script.

Nothing is fetched when it is viewed; a Content-Security-Policy allows only the page's own
style and script (by hash), so even a body from the SUT that slipped past escaping could not
run. Every run and step is a collapsed `<details>`: a suite of 1,000 runs opens at once, and
the filters only toggle one class on the list.

Each call activity whose process the suite inlined gets a section below the process: the called
process drawn with the same marking, its elements under their inlined ids (`CALL/<id>`), the
call's box linking to it; a step links to its element in whichever drawing shows it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from orchestra.domain.process import ProcessGraph
from orchestra.domain.statuses import TestRunStatus
from orchestra.domain.timestamps import rfc3339
from orchestra.reports.calls import CallLinks, call_anchor, call_view
from orchestra.reports.coverage import CoverageMarking, coverage_counts, element_coverage
from orchestra.reports.diagram import Marking, OutcomeMarking, diagram_of, draw_svg, element_anchor
from orchestra.reports.events import event_texts
from orchestra.reports.model import (
    MAX_DETAILED_RUNS,
    CalledProcess,
    RunReport,
    SuiteReport,
    TestRunReport,
    runs_to_detail,
    unbound_steps,
)
from orchestra.reports.outcomes import element_outcomes, outcome_counts, reached_elements
from orchestra.reports.text import (
    cleanup_summary,
    failure_message,
    format_ms,
    lost_lease_text,
    pretty,
    resent_after,
    show,
    show_actual,
    step_label,
)

Counts = dict[str, dict[str, int]]
MarkingFor = Callable[[ProcessGraph | None], tuple[Marking, Counts]]
"""A drawing's marking and its counts per kind and state, for the process (None) or a call's
view of a called process."""


@dataclass(frozen=True)
class CallSection:
    """One called process on the page, below the process."""

    called: CalledProcess
    view: ProcessGraph
    """The called process under its inlined ids (`calls.call_view`)."""
    anchor: str
    svg: Markup
    from_model: bool
    states: tuple[str, ...]
    counts: Counts


def render_html(report: RunReport, *, detailed_runs: int = MAX_DETAILED_RUNS) -> str:
    """The report as one HTML document, the steps of at most `detailed_runs` runs in it
    (`model.MAX_DETAILED_RUNS`: failures first); every run has its summary line."""

    def marking_for(graph: ProcessGraph | None) -> tuple[Marking, Counts]:
        outcomes = element_outcomes(report, graph)
        return OutcomeMarking(outcomes), outcome_counts(outcomes)

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
        marking_for=marking_for,
        detailed=_detailed(report, detailed_runs),
    )


def _detailed(report: RunReport, limit: int) -> frozenset[int]:
    """The ids of the runs whose steps the page shows: failures first, then in order."""
    return frozenset(run.id for run in runs_to_detail(report, limit))


def render_suite_html(report: SuiteReport) -> str:
    """A suite's coverage page as one HTML document: the same page, its diagram coloured by the
    scenarios through each element, its scenarios listed instead of runs."""

    def marking_for(graph: ProcessGraph | None) -> tuple[Marking, Counts]:
        elements = element_coverage(report, graph)
        return CoverageMarking(elements), coverage_counts(elements)

    process = report.process
    return _page(
        "suite.html.jinja",
        extra_style="suite.css",
        r=report,
        title=f"{process.name or process.key} — suite {report.suite.id} coverage",
        noun="scenarios",
        total=len(report.scenarios),
        marking_for=marking_for,
    )


def _page(
    template_name: str,
    *,
    r: RunReport | SuiteReport,
    marking_for: MarkingFor,
    extra_style: str = "",
    **values: Any,
) -> str:
    style = _asset("report.css") + (_asset(extra_style) if extra_style else "")
    script = _asset("report.js")
    calls = r.process.calls
    linked = frozenset(called.call for called in calls)
    marking, counts = marking_for(None)
    sections = [_section(n, called, linked, marking_for) for n, called in enumerate(calls, 1)]
    return (
        _environment()
        .get_template(template_name)
        .render(
            r=r,
            svg=draw_svg(r.process.graph, CallLinks(marking, linked)),
            elements=counts,
            calls=sections,
            targets=_targets(r.process.graph, sections),
            from_model=diagram_of(r.process.graph)[1],
            events=event_texts(r.process.graph),
            style=Markup(style),
            script=Markup(script),
            style_hash=_csp_hash(style),
            script_hash=_csp_hash(script),
            **values,
        )
    )


def _section(
    number: int, called: CalledProcess, linked: frozenset[str], marking_for: MarkingFor
) -> CallSection:
    view = call_view(called)
    marking, counts = marking_for(view)
    return CallSection(
        called=called,
        view=view,
        anchor=call_anchor(called.call),
        svg=draw_svg(view, CallLinks(marking, linked), scope=f"call{number}"),
        from_model=diagram_of(view)[1],
        states=marking.states,
        counts=counts,
    )


def _targets(graph: ProcessGraph, sections: list[CallSection]) -> Mapping[str, str]:
    """Element id -> what a step's link to it says: the process's own elements `diagram`, a
    called process's the call they sit in."""
    targets = dict.fromkeys(_element_ids(graph), "diagram")
    for section in sections:
        said = f"in {section.called.call_name or section.called.call}"
        targets |= dict.fromkeys(_element_ids(section.view), said)
    return targets


def _element_ids(graph: ProcessGraph) -> list[str]:
    return [node.id for node in graph.nodes] + [flow.id for flow in graph.flows]


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
        "cleanup_summary": cleanup_summary,
        "step_label": step_label,
        "lost_lease_text": lost_lease_text,
        "resent_after": resent_after,
        "show": show,
        "show_actual": show_actual,
        "pretty": pretty,
        "ms": format_ms,
        "seconds": _seconds,
        "unbound_steps": unbound_steps,
        "anchor": element_anchor,
        "reached": _reached,
        "when": _when,
    }
    environment.globals.update(helpers)
    return environment


def _when(moment: datetime) -> str:
    return rfc3339(moment, timespec="seconds")


def _reached(run: TestRunReport) -> str:
    """The elements a run reached, in its path's order, for the element filter: a run that
    stopped early is not listed under the elements it was to reach (see report.js)."""
    reached = reached_elements(run)
    ordered = dict.fromkeys(e for e in run.path if e in reached)
    return " ".join([*ordered, *sorted(reached - set(ordered))])


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
