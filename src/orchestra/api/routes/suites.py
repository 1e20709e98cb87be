"""POST /suites (generate), GET /suites, GET /suites/{suite_id}."""

from __future__ import annotations

from fastapi import APIRouter, status

from orchestra.api.deps import DbDep
from orchestra.api.schemas import SuiteCreate, SuiteDetail, SuiteGenerated, SuitePublic
from orchestra.binding.yamlsource import Source
from orchestra.services import generating

router = APIRouter(prefix="/suites", tags=["suites"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def generate_suite(body: SuiteCreate, db: DbDep) -> SuiteGenerated:
    """Generate and store the test suite of an imported process, with its bindings attached."""
    bindings = Source("bindings", body.bindings) if body.bindings is not None else None
    summary = await generating.generate(
        db,
        body.process,
        criterion=body.coverage,
        loop_bound=body.loop_bound,
        max_scenarios=body.max_scenarios,
        bindings=bindings,
    )
    return SuiteGenerated.model_validate(summary)


@router.get("")
async def list_suites(db: DbDep) -> list[SuitePublic]:
    """Every generated suite, oldest first, without its scenarios."""
    return [SuitePublic.of(suite) for suite in await generating.list_suites(db)]


@router.get("/{suite_id}")
async def show_suite(suite_id: int, db: DbDep) -> SuiteDetail:
    """One suite with its scenarios and their steps."""
    return SuiteDetail.of(await generating.show(db, suite_id))
