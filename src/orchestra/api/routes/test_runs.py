"""A suite run's test runs as resources, and the event streams:
`GET /suite-runs/{suite_run}/test-runs` (paged), `GET /suite-runs/{suite_run}/elements` (the
diagram's counts), `GET /test-runs/{id}` (with its steps), `GET /suite-runs/{suite_run}/events`
and `GET /test-runs/{id}/events` (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from orchestra.api.deps import DbDep, SuiteRunId
from orchestra.api.schemas import ElementCountsPublic, TestRunDetailPublic, TestRunPagePublic
from orchestra.domain.statuses import TestRunStatus
from orchestra.services import reporting, watching
from orchestra.store.notifications import Wakeups

router = APIRouter(tags=["test runs"])


def _event_stream_responses(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answer of an event stream: `description` and a `text/event-stream` body."""
    return {
        200: {
            "description": description,
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    }


EVENTS_DESCRIPTION = """Server-Sent Events (`text/event-stream`), each `data` one JSON object:
`progress` first (the suite run's summary, as `GET /suite-runs/{suite_run}` answers), then a
`test-run` each time a test run's status changes (`test_run`, `scenario`, `data_row_index`,
`status`, `previous`, `error`, `started_at`, `finished_at`) followed by a `progress`, a
`progress` every 15 s when nothing changes, and `end` (the summary as it ended, or
`{"deleted": true}`) before the stream closes. A stream opened on an ended suite run sends
`end` at once; a server stopping ends its streams without `end` (an EventSource reconnects).
Changes are seen within a fraction of a second: PostgreSQL notifications wake the stream, a
poll each second stands behind them. To list the runs and follow them without missing a
change, open the stream first, then read the test runs."""


@router.get("/suite-runs/{suite_run}/test-runs")
async def list_test_runs(
    suite_run_id: SuiteRunId,
    request: Request,
    response: Response,
    db: DbDep,
    status_in: Annotated[
        list[TestRunStatus] | None,
        Query(alias="status", description="Only runs in this status (repeat for several)"),
    ] = None,
    after: Annotated[
        int | None, Query(ge=0, description="Only runs with a greater id: the next page's cursor")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=watching.MAX_PAGE)] = watching.DEFAULT_PAGE,
) -> TestRunPagePublic:
    """The suite run's test runs in id order (by scenario, then data row), without their steps;
    a page holds `limit` of them, and `next` (also a `Link: rel="next"` header) asks for the
    following one."""
    page = await watching.list_test_runs(
        db, suite_run_id, statuses=status_in or (), after=after, limit=limit
    )
    next_url = None
    if page.next_after is not None:
        following = request.url.include_query_params(after=page.next_after)
        next_url = f"{following.path}?{following.query}"
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return TestRunPagePublic.of(page, next_url)


@router.get("/suite-runs/{suite_run}/elements")
async def element_counts(suite_run_id: SuiteRunId, db: DbDep) -> ElementCountsPublic:
    """For each BPMN element some test run reached, the runs that passed it and those that
    failed there: the counts and colours of the report's diagram, over every run so far
    (counted in PostgreSQL by groups of runs that went alike, whatever the suite run's size)."""
    return ElementCountsPublic.of(suite_run_id, await reporting.element_tally(db, suite_run_id))


@router.get("/test-runs/{test_run}")
async def show_test_run(
    test_run: Annotated[int, Path(ge=1, description="The test run's id")], db: DbDep
) -> TestRunDetailPublic:
    """One test run with its steps, as the reports show them: each step's request and response
    (secrets masked), each check's expected and actual, its error, and the leases it lost."""
    return TestRunDetailPublic.of(await watching.test_run(db, test_run))


@router.get(
    "/suite-runs/{suite_run}/events",
    response_class=StreamingResponse,
    responses=_event_stream_responses(EVENTS_DESCRIPTION),
)
async def suite_run_events(suite_run_id: SuiteRunId, request: Request, db: DbDep) -> Response:
    """The suite run's events as they happen, until it has ended (Server-Sent Events)."""
    return _event_stream(watching.suite_run_events(db, suite_run_id, *_followed_by(request)))


TEST_RUN_EVENTS_DESCRIPTION = """Server-Sent Events (`text/event-stream`), each `data` one JSON
object `{"test_run", "suite_run", "status", "steps"}` (`steps`: the step results it recorded):
`progress` first, again each time its status or its steps change (and every 15 s when nothing
does), and `end` when it has ended (or `{"deleted": true}`), before the stream closes."""


@router.get(
    "/test-runs/{test_run}/events",
    response_class=StreamingResponse,
    responses=_event_stream_responses(TEST_RUN_EVENTS_DESCRIPTION),
)
async def follow_test_run(
    test_run: Annotated[int, Path(ge=1, description="The test run's id")],
    request: Request,
    db: DbDep,
) -> Response:
    """The test run's events as it runs, until it has ended (Server-Sent Events)."""
    await watching.step_state(db, test_run)  # a 404 before the stream opens
    return _event_stream(watching.step_events(db, test_run, *_followed_by(request)))


def _followed_by(request: Request) -> tuple[Wakeups, watching.EventTimes, asyncio.Event]:
    """What wakes an event stream (the server's notifications), paces it, and ends it (the
    server stopping)."""
    return request.state.wakeups, request.state.event_times, request.app.state.stopping


def _event_stream(events: AsyncIterator[watching.Event]) -> StreamingResponse:
    return StreamingResponse(
        _server_sent(events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _server_sent(events: AsyncIterator[watching.Event]) -> AsyncIterator[str]:
    async for event in events:
        yield f"event: {event.name}\ndata: {json.dumps(event.data, separators=(',', ':'))}\n\n"
