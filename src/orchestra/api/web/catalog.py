"""The pages of what is stored: processes (their versions and diagram), suites (their coverage),
environments (secrets as the API shows them: references, never values) and data sets (their
first rows only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from orchestra.api.deps import DbDep
from orchestra.api.web.auth import signed_in
from orchestra.api.web.diagrams import coverage_drawing, process_drawing
from orchestra.api.web.rendering import page
from orchestra.reports.model import unbound_steps
from orchestra.services import config, generating, importing, reporting

router = APIRouter(prefix="/ui", include_in_schema=False, dependencies=[Depends(signed_in)])

HEAD_ROWS = 10  # the rows of a data set a page shows


@router.get("/processes")
async def processes(request: Request, db: DbDep) -> Response:
    async with db.transaction() as uow:
        found = await importing.list_processes(uow)
    summaries = [importing.summary(stored) for stored in found]
    return page(request, "processes.html.jinja", processes=summaries)


@router.get("/processes/{key}")
async def process(
    request: Request,
    db: DbDep,
    key: Annotated[str, Path(max_length=500)],
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    async with db.transaction() as uow:
        stored = await importing.show_process(uow, key, version)
        versions = await importing.process_versions(uow, key)
    suites = [s for s in await generating.list_suites(db) if s.process_id == stored.id]
    return page(
        request,
        "process.html.jinja",
        process=importing.summary(stored),
        versions=versions,
        suites=suites,
        drawing=process_drawing(stored.graph),
    )


@router.get("/suites")
async def suites(request: Request, db: DbDep) -> Response:
    found = sorted(await generating.list_suites(db), key=lambda s: s.id, reverse=True)
    return page(request, "suites.html.jinja", suites=found)


@router.get("/suites/{suite_id}")
async def suite(request: Request, db: DbDep, suite_id: int) -> Response:
    report = await reporting.load_suite_report(db, suite_id)
    drawing, elements = coverage_drawing(report)
    return page(
        request,
        "suite.html.jinja",
        r=report,
        drawing=drawing,
        elements=elements,
        unbound_steps=unbound_steps,
    )


@router.get("/environments")
async def environments(request: Request, db: DbDep) -> Response:
    found = await config.list_environments(db)
    return page(request, "environments.html.jinja", environments=found)


@router.get("/data-sets")
async def data_sets(request: Request, db: DbDep) -> Response:
    found = await config.data_set_heads(db, HEAD_ROWS)
    return page(request, "data_sets.html.jinja", data_sets=found, head_rows=HEAD_ROWS)
