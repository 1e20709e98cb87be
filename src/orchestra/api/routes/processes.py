"""POST /processes (import a BPMN file), GET /processes, GET /processes/{key}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from orchestra.api.bodies import BPMN_BODY, bpmn_file, bpmn_only
from orchestra.api.deps import DbDep, LimitsDep, UploadsDep
from orchestra.api.parsers import ParserProcess
from orchestra.api.schemas import NAME_PATTERN, ImportPublic, ProcessPublic
from orchestra.services import importing

router = APIRouter(prefix="/processes", tags=["processes"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=BPMN_BODY,
    responses={200: {"description": "Every process of the file was stored already"}},
)
async def import_processes(
    request: Request,
    response: Response,
    db: DbDep,
    limits: LimitsDep,
    uploads: UploadsDep,
    filename: str | None = None,
    strict: bool = False,
) -> ImportPublic:
    """Import a BPMN file: each process becomes a new version unless this content is stored.

    A file with errors is refused whole (422, every problem listed) and nothing is stored;
    with `strict`, so is a model only partly testable (no start event, unreachable nodes,
    gateways leading nowhere). `filename` names the source of a raw XML body (a multipart
    upload names its own).
    """
    bpmn_only(request)
    parsers: ParserProcess = request.state.parsers
    async with uploads.spooled(request) as body:
        path, source = await bpmn_file(request, body, filename)
        parsed = await importing.parse_bpmn(
            path, source=source, limits=limits, strict=strict, offload=parsers.run
        )
    async with db.transaction() as uow:  # a connection of the pool once parsed, not before
        outcome = await importing.store_bpmn(uow, parsed)
    if not any(item.created for item in outcome.processes):
        response.status_code = status.HTTP_200_OK
    return ImportPublic.of(outcome)


@router.get("")
async def list_processes(db: DbDep) -> list[ProcessPublic]:
    """The latest version of every process."""
    async with db.transaction() as uow:
        found = await importing.list_processes(uow)
    return [ProcessPublic.model_validate(importing.summary(stored)) for stored in found]


@router.get("/{key}")
async def show_process(
    key: Annotated[str, Path(pattern=NAME_PATTERN)], db: DbDep, version: int | None = None
) -> ProcessPublic:
    """One process: its latest version, or `version`."""
    async with db.transaction() as uow:
        stored = await importing.show_process(uow, key, version)
    return ProcessPublic.model_validate(importing.summary(stored))
