"""The live pages: one suite run as it runs (`/ui/suite-runs/{id}`) and one test run with its
steps (`/ui/test-runs/{id}`).

The suite run's page is drawn from its overview (`reporting.load_overview`: the HTML report's
diagram coloured by counts over every run, every node with a badge to count on, and its first
runs, failures first; `?runs=N` lists more), whatever the suite run's size; then
`static/live.js` follows the suite run's event stream (`GET /suite-runs/{id}/events`): a
`test-run` event changes its row at once (a run that failed joins the list), for a run that
ended unpassed it fetches that run (`GET /test-runs/{id}`) for its failure, and while runs end
it reads the diagram's counts again (`GET /suite-runs/{id}/elements`). A red element leads,
through `/ui/suite-runs/{id}/failed-at?element=ID`, to the step that failed there in the first
run that failed there: `/ui/test-runs/{id}?element=ID#failed-step`.

The test run's page shows each step's request and response (JSON indented, other text as it
came), each check's expected and actual, its re-sends and lost leases, and the request as a
curl command: all as recorded, so secrets are masked as the reports mask them. While the run
is in progress, `static/live.js` follows its event stream (`GET /test-runs/{id}/events`) and
draws the page again from the server when a step is recorded or its status changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup

from orchestra.api.deps import DbDep, SuiteRunId
from orchestra.api.web.auth import signed_in
from orchestra.api.web.rendering import page
from orchestra.domain.generation.calls import SEPARATOR
from orchestra.domain.statuses import TestRunStatus
from orchestra.reports.calls import CallLinks, call_anchor, call_view
from orchestra.reports.curl import curl_command
from orchestra.reports.diagram import OutcomeMarking, badge_text, draw_svg
from orchestra.reports.model import ProcessInfo, StepReport, TestRunReport
from orchestra.reports.outcomes import Tally, run_elements, tallied_outcomes
from orchestra.reports.text import (
    cleanup_summary,
    failure_message,
    format_ms,
    lost_lease_text,
    show,
    show_actual,
)
from orchestra.services import reporting, watching

router = APIRouter(prefix="/ui", include_in_schema=False, dependencies=[Depends(signed_in)])

FOCUS = "failed-step"
"""The anchor on a test run's page just before the step a red element links to."""


@dataclass(frozen=True)
class LiveMarking(OutcomeMarking):
    """The report's marking, with a badge on every node (empty until runs pass or fail there)
    for the page's script to count on."""

    def badge(self, element_id: str, bounds: Any) -> str:
        return super().badge(element_id, bounds) or badge_text("", bounds)


@dataclass(frozen=True)
class Drawing:
    """One diagram on the page: the process, or a process one of its call activities called."""

    title: str | None
    anchor: str | None
    svg: Markup


@dataclass(frozen=True)
class RunRow:
    """One test run's line on the suite run's page."""

    run: TestRunReport
    failure: str | None
    passed: str
    failed: str


RUNS_SHOWN = 100
"""Test runs listed when the suite run's page opens; *Show more* adds as many each time."""
MAX_RUNS_SHOWN = 10_000


@router.get("/suite-runs/{suite_run}")
async def suite_run_page(
    request: Request,
    suite_run_id: SuiteRunId,
    db: DbDep,
    runs: Annotated[int, Query(ge=1, le=MAX_RUNS_SHOWN)] = RUNS_SHOWN,
) -> Response:
    overview = await reporting.load_overview(db, suite_run_id, runs=runs)
    counts = {status.value: overview.counts.get(status, 0) for status in TestRunStatus}
    shown = len(overview.test_runs)
    return page(
        request,
        "suite_run.html.jinja",
        r=overview.header,
        total=overview.total,
        drawings=drawings(overview.header.process, overview.elements),
        rows=[_row(run) for run in overview.test_runs],
        more=min(shown + RUNS_SHOWN, MAX_RUNS_SHOWN) if shown < overview.total else None,
        counts=counts,
        done=sum(n for status, n in counts.items() if TestRunStatus(status).is_terminal),
    )


@router.get("/suite-runs/{suite_run}/failed-at")
async def failed_at_page(
    suite_run_id: SuiteRunId, db: DbDep, element: Annotated[str, Query(max_length=1000)]
) -> Response:
    """The step that failed at `element` in the first run that failed there (a red element
    of the diagram leads here); the suite run's page when none did."""
    elements = await reporting.element_tally(db, suite_run_id)
    run = elements.first_failed.get(element)
    if run is None:
        return RedirectResponse(f"/ui/suite-runs/{suite_run_id}", status_code=303)
    where = urlencode({"element": element})
    return RedirectResponse(f"/ui/test-runs/{run}?{where}#{FOCUS}", status_code=303)


def drawings(process: ProcessInfo, elements: Tally) -> list[Drawing]:
    """The process, then each process its calls inlined, coloured by the runs so far."""
    linked = frozenset(called.call for called in process.calls)
    marking = LiveMarking(tallied_outcomes(elements, process.graph))
    found = [Drawing(None, None, draw_svg(process.graph, CallLinks(marking, linked)))]
    for number, called in enumerate(process.calls, 1):
        view = call_view(called)
        marked = CallLinks(LiveMarking(tallied_outcomes(elements, view)), linked)
        svg = draw_svg(view, marked, scope=f"c{number}")
        title = f"{called.call_name or called.call} calls {called.name or called.key}"
        found.append(Drawing(title, call_anchor(called.call), svg))
    return found


def _row(run: TestRunReport) -> RunRow:
    passed, failed = run_elements(run)
    ended = run.status.is_terminal and run.status is not TestRunStatus.PASSED
    return RunRow(run, failure_message(run) if ended else None, " ".join(passed), " ".join(failed))


@router.get("/test-runs/{test_run}")
async def run_page(
    request: Request,
    test_run: Annotated[int, Path(ge=1)],
    db: DbDep,
    element: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    detail = await watching.test_run(db, test_run)
    run = detail.report
    focus = focused_step(run, element)
    return page(
        request,
        "test_run.html.jinja",
        run=run,
        recorded=detail.recorded,
        suite_run=detail.suite_run_id,
        failure=failure_message(run) if run.is_failure or run.error else None,
        focus=None if focus is None else focus.position,
        focus_anchor=FOCUS,
        leases=[lost_lease_text(run, lease) for lease in run.lost_leases],
        cleanup_summary=cleanup_summary(run),
        shown=shown_value,
        show_actual=show_actual,
        request_view=request_view,
        response_view=response_view,
        curl=curl_command,
        ms=format_ms,
    )


def focused_step(run: TestRunReport, element: str | None) -> StepReport | None:
    """The step a red `element` of the diagram leads to: the first that failed or errored at
    it (or inside it, for a call activity); without one, the run's first failing step, or for
    a run given up on, the step it hung in."""
    failing = [step for step in run.steps if step.status.run_ending is not None]
    if element:
        for step in failing:
            at = step.element_id or step.at or ""
            if at == element or at.startswith(element + SEPARATOR):
                return step
    return run.failing_step() or run.stuck_step()


@dataclass(frozen=True)
class Message:
    """A recorded request or response for reading: its first line (`POST URL`, `200 in 12
    ms`), headers, body (indented when JSON), and what the record says besides."""

    line: str
    headers: dict[str, str]
    body: str | None
    notes: tuple[str, ...]


def request_view(record: dict[str, Any]) -> Message:
    line = f"{record.get('method', '')} {record.get('url', '')}".strip()
    body = record.get("body")
    notes = ("body cut short when recorded",) if record.get("truncated") else ()
    return Message(line, _headers(record), None if body is None else shown_value(body), notes)


def response_view(record: dict[str, Any]) -> Message:
    said = [str(record["status"])] if "status" in record else []
    if isinstance(record.get("elapsed_ms"), int | float):
        said.append(f"in {format_ms(record['elapsed_ms'])}")
    if "json" in record:
        body: str | None = shown_value(record["json"])
    else:
        body = None if record.get("body") is None else shown_value(record["body"])
    notes = []
    if record.get("truncated"):
        size = f" of {record['size']} bytes" if "size" in record else ""
        notes.append(f"body cut at the recorded limit{size}")
    known = {"status", "elapsed_ms", "headers", "json", "body", "truncated", "size", "url"}
    rest = {key: value for key, value in record.items() if key not in known}
    if rest:  # a plug-in protocol's own fields
        notes.append(shown_value(rest))
    return Message(" ".join(said), _headers(record), body, tuple(notes))


def _headers(record: dict[str, Any]) -> dict[str, str]:
    headers = record.get("headers")
    return {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}


def shown_value(value: Any) -> str:
    """A body or value for reading: JSON indented (a string holding JSON too), other text as
    it came."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if not isinstance(parsed, dict | list):
            return show(parsed)
        value = parsed
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
