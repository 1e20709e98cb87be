"""The web UI's list pages: suite runs (start, cancel, re-run the failed ones), processes,
suites, environments and data sets. Each reads through the services the API and the CLI use;
a form's refusal is shown on the page it came from, with the status its class says."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from orchestra.api.deps import DbDep
from orchestra.api.web.auth import signed_in
from orchestra.api.web.forms import HOME, form_fields, local_path, optional
from orchestra.api.web.rendering import page
from orchestra.domain.records import StoredSuite
from orchestra.domain.statuses import SuiteRunStatus, TestRunStatus
from orchestra.errors import OrchestraError, UsageError
from orchestra.services import config, generating, rerunning, running
from orchestra.store.database import Database

router = APIRouter(prefix="/ui", include_in_schema=False, dependencies=[Depends(signed_in)])

PAGE_SIZE = 50


class RunFilters:
    """The suite runs page's query: what it filters by, and the page's cursor."""

    def __init__(
        self,
        status: Annotated[str | None, Query()] = None,
        suite: Annotated[str | None, Query()] = None,
        process: Annotated[str | None, Query()] = None,
        before: Annotated[int | None, Query(ge=1)] = None,
        started: Annotated[int | None, Query(ge=1)] = None,
    ) -> None:
        self.status = _status(status)
        self.suite = _number(suite, "suite")
        self.process = process or None
        self.before = before
        self.started = started

    def query(self, **changes: Any) -> str:
        values = {"status": self.status, "suite": self.suite, "process": self.process}
        values |= changes
        return urlencode({k: str(v) for k, v in values.items() if v not in (None, "")})


@router.get("/suite-runs")
async def suite_runs(
    request: Request, db: DbDep, filters: Annotated[RunFilters, Depends()]
) -> Response:
    return await _suite_runs_page(request, db, filters)


async def _suite_runs_page(
    request: Request,
    db: Database,
    filters: RunFilters,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    found = await running.list_suite_runs(
        db,
        suite_id=filters.suite,
        statuses=[filters.status] if filters.status else (),
        process=filters.process,
        before=filters.before,
        limit=PAGE_SIZE,
    )
    suites = await generating.list_suites(db)
    names = {suite.id: suite_name(suite) for suite in suites}
    return page(
        request,
        "suite_runs.html.jinja",
        status_code=status_code,
        runs=found.suite_runs,
        rerunnable={p.suite_run.id for p in found.suite_runs if _rerunnable(p)},
        next_before=found.next_before,
        filters=filters,
        suites=sorted(suites, key=lambda s: s.id, reverse=True),
        suite_names=names,
        processes=sorted({suite.process_key for suite in suites}),
        statuses=[s.value for s in SuiteRunStatus],
        environments=[e["environment"] for e in await config.list_environments(db)],
        data_sets=await config.data_set_names(db),
        error=error,
    )


@router.post("/suite-runs")
async def start_suite_run(request: Request, db: DbDep) -> Response:
    fields = await form_fields(request)
    try:
        suite_id = _number(fields.get("suite"), "suite")
        if suite_id is None:
            raise UsageError("choose the suite to run")
        started = await running.start_suite_run(
            db,
            suite_id,
            environment=optional(fields, "environment"),
            data_set=optional(fields, "data_set"),
            allow_unbound=fields.get("allow_unbound") == "on",
        )
    except OrchestraError as exc:
        return await _refused(request, db, exc)
    return _see(f"{HOME}?started={started.id}")


@router.post("/suite-runs/{suite_run_id}/cancel")
async def cancel_suite_run(request: Request, db: DbDep, suite_run_id: int) -> Response:
    fields = await form_fields(request)
    try:
        await running.cancel(db, suite_run_id)
    except OrchestraError as exc:
        return await _refused(request, db, exc)
    return _see(local_path(fields.get("next")))


@router.post("/suite-runs/{suite_run_id}/rerun")
async def rerun_failed(request: Request, db: DbDep, suite_run_id: int) -> Response:
    await form_fields(request)
    try:
        rerun = await rerunning.rerun_failed(db, suite_run_id)
    except OrchestraError as exc:
        return await _refused(request, db, exc)
    return _see(f"{HOME}?started={rerun.suite_run.id}")


async def _refused(request: Request, db: Database, exc: OrchestraError) -> Response:
    """The suite runs page again, saying why the form was refused."""
    return await _suite_runs_page(
        request, db, RunFilters(), error=exc.message, status_code=exc.http_status
    )


FAILING = frozenset({TestRunStatus.FAILED, TestRunStatus.ERROR, TestRunStatus.FAILED_STUCK})


def _rerunnable(progress: running.Progress) -> bool:
    """An ended suite run with runs `orchestra run --rerun-failed` would run again."""
    ended = progress.suite_run.status.is_terminal
    return ended and any(progress.counts.get(status, 0) for status in FAILING)


def suite_name(suite: StoredSuite) -> str:
    """`order_fulfilment@1:all-flows`: how the CLI names a suite."""
    return f"{suite.process_key}@{suite.process_version}:{suite.criterion}"


def _status(value: str | None) -> SuiteRunStatus | None:
    if not value:
        return None
    try:
        return SuiteRunStatus(value.upper())
    except ValueError:
        known = ", ".join(s.value for s in SuiteRunStatus)
        raise UsageError(f"unknown suite run status {value!r} (one of {known})") from None


def _number(value: str | None, name: str) -> int | None:
    if value is None or not value.strip():
        return None
    if not value.strip().isdigit():
        raise UsageError(f"{name} must be an id, not {value!r}")
    return int(value)


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)
