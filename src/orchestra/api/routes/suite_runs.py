"""Suite runs: start one, follow it, cancel it, fetch its report.

The API only creates runs; `orchestra worker` processes, sharing the database, execute them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from orchestra.api.deps import DbDep
from orchestra.api.schemas import SuiteRunCreate, SuiteRunPublic
from orchestra.reports import ReportFormat
from orchestra.services import reporting, running

router = APIRouter(prefix="/suite-runs", tags=["suite runs"])

MEDIA_TYPES = {
    ReportFormat.JUNIT: "application/xml",
    ReportFormat.JSON: "application/json",
    ReportFormat.HTML: "text/html",
}


@router.post("", status_code=status.HTTP_201_CREATED)
async def start_suite_run(body: SuiteRunCreate, db: DbDep, response: Response) -> SuiteRunPublic:
    """Create a suite run and its test runs (scenario × data row); workers pick them up."""
    suite_run = await running.start_suite_run(
        db,
        body.suite,
        environment=body.environment,
        data_set=body.data_set,
        max_attempts=body.max_attempts,
    )
    response.headers["Location"] = f"{router.prefix}/{suite_run.id}"
    return SuiteRunPublic.of(await running.progress(db, suite_run.id))


@router.get("/{suite_run_id}")
async def suite_run_progress(suite_run_id: int, db: DbDep) -> SuiteRunPublic:
    """How far the suite run is: its status and its test runs counted by status."""
    return SuiteRunPublic.of(await running.progress(db, suite_run_id))


@router.post("/{suite_run_id}/cancel", responses={409: {"description": "It has ended already"}})
async def cancel_suite_run(suite_run_id: int, db: DbDep) -> SuiteRunPublic:
    """Cancel the suite run: its unfinished test runs end CANCELLED, workers drop them."""
    return SuiteRunPublic.of(await running.cancel(db, suite_run_id))


@router.get(
    "/{suite_run_id}/report",
    response_class=Response,
    responses={
        200: {
            "description": "The report: JUnit XML, JSON, or a self-contained HTML page",
            "content": {media: {"schema": {"type": "string"}} for media in MEDIA_TYPES.values()},
        }
    },
)
async def suite_run_report(
    suite_run_id: int,
    db: DbDep,
    format_name: Annotated[ReportFormat, Query(alias="format")] = ReportFormat.JSON,
) -> Response:
    """The suite run's report in one format, at any time (a running suite gives a partial one)."""
    text = await reporting.render_report(db, suite_run_id, format_name.value)
    filename = f"orchestra-report-{suite_run_id}{format_name.suffix}"
    return Response(
        text,
        media_type=MEDIA_TYPES[format_name],
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
