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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from orchestra.domain.process import ProcessGraph
from orchestra.domain.statuses import FAILING_STATUSES, TestRunStatus
from orchestra.domain.timestamps import rfc3339
from orchestra.reports.calls import CallLinks, call_anchor, call_view
from orchestra.reports.coverage import CoverageMarking, coverage_counts, element_coverage
from orchestra.reports.diagram import Marking, OutcomeMarking, diagram_of, draw_svg, element_anchor
from orchestra.reports.events import event_texts
from orchestra.reports.model import (
    MAX_DETAILED_RUNS,
    CalledProcess,
    RunOrder,
    RunReport,
    SuiteReport,
    TestRunReport,
    unbound_steps,
)
from orchestra.reports.outcomes import (
    Tally,
    outcome_counts,
    reached_elements,
    tallied_outcomes,
    tally,
)
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
    order = RunOrder.of(report.test_runs)
    elements = tally((run, 1) for run in report.test_runs)
    return html_report(report, order, elements, frozenset(order.to_detail(detailed_runs)))


def html_report(
    report: RunReport,
    order: RunOrder,
    elements: Tally,
    detailed: frozenset[int],
    left_out_steps: Mapping[int, int] | None = None,
) -> str:
    """The report as one HTML document: `report.test_runs` lists every run of `order`, with
    their steps those `detailed` (the others need only what their summary line reads, as
    `summary_only` keeps it: `left_out_steps` counts the steps of those it keeps none of);
    `elements` counts the runs at each element."""
    return "".join(html_report_pieces(report, order, elements, detailed, left_out_steps))


def html_report_pieces(
    report: RunReport,
    order: RunOrder,
    elements: Tally,
    detailed: frozenset[int],
    left_out_steps: Mapping[int, int] | None = None,
) -> Iterator[str]:
    """`html_report` piece by piece, as the template writes it (the diagram drawn first)."""

    def marking_for(graph: ProcessGraph | None) -> tuple[Marking, Counts]:
        outcomes = tallied_outcomes(elements, report.process.graph if graph is None else graph)
        return OutcomeMarking(outcomes), outcome_counts(outcomes)

    process = report.process
    counts = order.counts()
    return _page(
        "report.html.jinja",
        r=report,
        title=f"{process.name or process.key} — suite run {report.suite_run.id}",
        noun="runs",
        total=len(order),
        duration=_seconds(report.duration_s) if report.duration_s is not None else None,
        counts={status.value: n for status, n in counts.items()},
        failures=sum(counts[status] for status in FAILING_STATUSES),
        not_run=sum(counts[status] for status in _NOT_RUN),
        marking_for=marking_for,
        detailed=detailed,
        left_out_steps=left_out_steps or {},
    )


def summary_only(run: TestRunReport) -> tuple[TestRunReport, int]:
    """A run a page lists without its steps, with what its summary line reads of them, and
    how many it has: one that passed and lost no lease keeps none of them (its line says
    neither where it failed nor what a lost lease had in flight)."""
    if run.status is not TestRunStatus.PASSED or run.lost_leases:
        return run, len(run.steps)
    return run.model_copy(update={"steps": ()}), len(run.steps)


_NOT_RUN = (
    TestRunStatus.SKIPPED,
    TestRunStatus.CANCELLED,
    TestRunStatus.PENDING,
    TestRunStatus.QUEUED,
    TestRunStatus.RUNNING,
)


def render_suite_html(report: SuiteReport) -> str:
    """A suite's coverage page as one HTML document: the same page, its diagram coloured by the
    scenarios through each element, its scenarios listed instead of runs."""

    def marking_for(graph: ProcessGraph | None) -> tuple[Marking, Counts]:
        elements = element_coverage(report, graph)
        return CoverageMarking(elements), coverage_counts(elements)

    process = report.process
    return "".join(
        _page(
            "suite.html.jinja",
            extra_style="suite.css",
            r=report,
            title=f"{process.name or process.key} — suite {report.suite.id} coverage",
            noun="scenarios",
            total=len(report.scenarios),
            marking_for=marking_for,
        )
    )


def _page(
    template_name: str,
    *,
    r: RunReport | SuiteReport,
    marking_for: MarkingFor,
    extra_style: str = "",
    **values: Any,
) -> Iterator[str]:
    """The page's pieces as the template writes them (its parts drawn and counted first)."""
    style = _asset("report.css") + (_asset(extra_style) if extra_style else "")
    script = _asset("report.js")
    calls = r.process.calls
    linked = frozenset(called.call for called in calls)
    marking, counts = marking_for(None)
    sections = [_section(n, called, linked, marking_for) for n, called in enumerate(calls, 1)]
    return (
        _environment()
        .get_template(template_name)
        .generate(
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
