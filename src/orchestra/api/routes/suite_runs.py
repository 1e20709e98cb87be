"""Suite runs: start one, list them, follow one, cancel it, fetch its report, delete it.

The API only creates runs; `orchestra worker` processes, sharing the database, execute them.
A suite run in a path, and the suite of a new one, is named by its id, `latest` or its process
(see `orchestra.domain.references`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterator
from tempfile import SpooledTemporaryFile
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from orchestra.api.deps import DbDep, JsonOnly, SuiteRunId
from orchestra.api.schemas import SuiteRunCreate, SuiteRunPagePublic, SuiteRunPublic
from orchestra.domain.statuses import SuiteRunStatus
from orchestra.errors import UnboundTasks
from orchestra.reports import ReportFormat
from orchestra.services import references, reporting, retention, running

router = APIRouter(prefix="/suite-runs", tags=["suite runs"])

MEDIA_TYPES = {
    ReportFormat.JUNIT: "application/xml",
    ReportFormat.JSON: "application/json",
    ReportFormat.HTML: "text/html",
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[JsonOnly],
    responses={422: {"description": "Tasks without a binding, and `allow_unbound` not set"}},
)
async def start_suite_run(body: SuiteRunCreate, db: DbDep, response: Response) -> SuiteRunPublic:
    """Create a suite run and its test runs (scenario × data row); workers pick them up."""
    try:
        suite_run = await running.start_suite_run(
            db,
            await references.suite_id(db, body.suite),
            environment=body.environment,
            data_set=body.data_set,
            max_attempts=body.max_attempts,
            allow_unbound=body.allow_unbound,
            force_rows=body.force_rows,
        )
    except UnboundTasks as exc:
        raise exc.advised("bind them, or set `allow_unbound: true` to run anyway") from None
    response.headers["Location"] = f"{router.prefix}/{suite_run.id}"
    return SuiteRunPublic.of(await running.progress(db, suite_run.id))


@router.get("")
async def list_suite_runs(
    request: Request,
    response: Response,
    db: DbDep,
    suite: Annotated[int | None, Query(ge=1, description="Only the runs of this suite")] = None,
    status_in: Annotated[
        list[SuiteRunStatus] | None,
        Query(alias="status", description="Only runs in this status (repeat for several)"),
    ] = None,
    before: Annotated[
        int | None, Query(ge=1, description="Only runs with a smaller id: the next page's cursor")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=running.MAX_PAGE)] = running.DEFAULT_PAGE,
    process: Annotated[
        str | None,
        Query(max_length=500, description="Only the runs of a suite of this process (its key)"),
    ] = None,
) -> SuiteRunPagePublic:
    """Suite runs, newest first, each summarised as `GET /suite-runs/{id}` does; a page holds
    `limit` of them, and `next` (also a `Link: rel="next"` header) asks for the following one."""
    page = await running.list_suite_runs(
        db,
        suite_id=suite,
        statuses=status_in or (),
        before=before,
        limit=limit,
        process=process,
    )
    next_url = None
    if page.next_before is not None:
        following = request.url.include_query_params(before=page.next_before)
        next_url = f"{following.path}?{following.query}"
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return SuiteRunPagePublic.of(page, next_url)


@router.get("/{suite_run}")
async def suite_run_progress(suite_run_id: SuiteRunId, db: DbDep) -> SuiteRunPublic:
    """How far the suite run is: its status and its test runs counted by status."""
    return SuiteRunPublic.of(await running.progress(db, suite_run_id))


@router.post("/{suite_run}/cancel", responses={409: {"description": "It has ended already"}})
async def cancel_suite_run(suite_run_id: SuiteRunId, db: DbDep) -> SuiteRunPublic:
    """Cancel the suite run: its unfinished test runs end CANCELLED, workers drop them."""
    return SuiteRunPublic.of(await running.cancel(db, suite_run_id))


@router.delete(
    "/{suite_run}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "It is in progress: cancel it first"}},
)
async def delete_suite_run(suite_run_id: SuiteRunId, db: DbDep) -> Response:
    """Delete an ended suite run with its test runs, step results and lost leases."""
    await retention.prune(db, ids=[suite_run_id])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{suite_run}/report",
    response_class=Response,
    responses={
        200: {
            "description": "The report: JUnit XML, JSON, or a self-contained HTML page",
            "content": {media: {"schema": {"type": "string"}} for media in MEDIA_TYPES.values()},
        }
    },
)
async def suite_run_report(
    suite_run_id: SuiteRunId,
    db: DbDep,
    format_name: Annotated[ReportFormat, Query(alias="format")] = ReportFormat.JSON,
    all_runs: Annotated[
        bool,
        Query(
            description="Detail every run's steps (the HTML and JSON reports detail 1,000 runs,"
            " failures first, by default)"
        ),
    ] = False,
) -> Response:
    """The suite run's report in one format, at any time (a running suite gives a partial one)."""
    pieces = await reporting.open_report(db, suite_run_id, format_name.value, all_runs=all_runs)
    spool = await _spooled(pieces)
    filename = f"orchestra-report-{suite_run_id}{format_name.suffix}"
    return _Spooled(
        spool,
        media_type=MEDIA_TYPES[format_name],
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


_SPOOL_IN_MEMORY = 8 * 1024 * 1024  # bytes of a report held in memory; the rest on disk
_SPOOL_WRITE = 1024 * 1024  # bytes gathered before a write (off the event loop)
_SEND = 256 * 1024  # bytes of a body sent at a time


async def _spooled(pieces: AsyncGenerator[str, None]) -> SpooledTemporaryFile[bytes]:
    """The whole report, read at the database's pace rather than the client's: its snapshot
    (a pooled connection in a transaction) is let go before the first byte is sent, and a
    failure while reading it is an error status, not a 200 cut short. Bounded in memory."""
    spool: SpooledTemporaryFile[bytes] = SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 (closed by the response)
    try:
        gathered: list[bytes] = []
        size = 0
        async with contextlib.aclosing(pieces):
            async for piece in pieces:
                gathered.append(piece.encode())
                size += len(gathered[-1])
                if size >= _SPOOL_WRITE:
                    await asyncio.to_thread(spool.write, b"".join(gathered))
                    gathered, size = [], 0
        await asyncio.to_thread(spool.write, b"".join(gathered))
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


class _Spooled(StreamingResponse):
    """A spooled report sent in parts, its file closed however the response ends (the client
    gone mid-way included)."""

    def __init__(
        self, spool: SpooledTemporaryFile[bytes], *, media_type: str, headers: dict[str, str]
    ) -> None:
        super().__init__(_parts(spool), media_type=media_type, headers=headers)
        self._spool = spool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._spool.close()


def _parts(spool: SpooledTemporaryFile[bytes]) -> Iterator[bytes]:
    """The spool's bytes in parts (read in starlette's thread pool)."""
    while part := spool.read(_SEND):
        yield part
