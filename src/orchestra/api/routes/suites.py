"""POST /suites (generate), GET /suites, GET /suites/{suite}, GET /suites/{suite}/report; a
suite in a path is its id, `latest` or PROCESS[@VERSION][:CRITERION]."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from orchestra.api.deps import DbDep, JsonOnly, SuiteId
from orchestra.api.parsers import ParserProcess
from orchestra.api.schemas import SuiteCreate, SuiteDetail, SuiteGenerated, SuitePublic
from orchestra.binding.yamlsource import Source
from orchestra.services import generating, reporting

router = APIRouter(prefix="/suites", tags=["suites"])


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[JsonOnly])
async def generate_suite(request: Request, body: SuiteCreate, db: DbDep) -> SuiteGenerated:
    """Generate and store the test suite of an imported process, with its bindings attached.

    A large process (a graph of 256 KiB of JSON or more, some thousands of elements) is
    generated in the server's parser process, as a large upload is parsed: if that process
    dies twice while generating, the answer is 503 (`ParserUnavailable`) and nothing is stored.
    """
    parsers: ParserProcess = request.state.parsers  # a large process is generated there
    bindings = Source("bindings", body.bindings) if body.bindings is not None else None
    summary = await generating.generate(
        db,
        body.process,
        criterion=body.coverage,
        loop_bound=body.loop_bound,
        max_scenarios=body.max_scenarios,
        bindings=bindings,
        data_values=body.data_values,
        offload=parsers.run,
    )
    return SuiteGenerated.model_validate(summary)


@router.get("")
async def list_suites(db: DbDep) -> list[SuitePublic]:
    """Every generated suite, oldest first, without its scenarios."""
    return [SuitePublic.of(suite) for suite in await generating.list_suites(db)]


@router.get("/{suite}")
async def show_suite(suite_id: SuiteId, db: DbDep) -> SuiteDetail:
    """One suite with its scenarios and their steps."""
    return SuiteDetail.of(await generating.show(db, suite_id))


@router.get(
    "/{suite}/report",
    response_class=Response,
    responses={
        200: {
            "description": "The suite's coverage page: a self-contained HTML page",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
        404: {"description": "No such suite"},
    },
)
async def suite_report(suite_id: SuiteId, db: DbDep) -> Response:
    """The suite's coverage before any run: its diagram coloured by the scenarios through each
    element (uncovered ones and tasks without a binding marked), and its scenarios."""
    text = await reporting.render_suite_report(db, suite_id)
    filename = reporting.default_suite_path(suite_id).name
    return Response(
        text,
        media_type="text/html",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
