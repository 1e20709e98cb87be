"""Environments and data sets: POST (create or replace, by name) and GET (list)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from orchestra.api.bodies import DATA_SET_TYPES, ENVIRONMENT_TYPES, file_suffix, text_body
from orchestra.api.deps import DbDep, UploadsDep
from orchestra.api.parsers import ParserProcess
from orchestra.api.schemas import NAME_PATTERN, DataSetPublic, EnvironmentPublic
from orchestra.binding.yamlsource import Upload
from orchestra.domain.records import MAX_NAME_LENGTH
from orchestra.services import config

router = APIRouter(tags=["configuration"])

_ENVIRONMENT = text_body(ENVIRONMENT_TYPES, "An environment file (YAML or JSON)")
_DATA_SET = text_body(
    DATA_SET_TYPES, "Rows: a JSON or YAML list (or a mapping with `rows`), or CSV with a header"
)


@router.post("/environments", status_code=status.HTTP_201_CREATED, openapi_extra=_ENVIRONMENT)
async def apply_environment(request: Request, db: DbDep, uploads: UploadsDep) -> EnvironmentPublic:
    """Create or replace the environment the body describes; secrets stay `${VARIABLE}`."""
    suffix = file_suffix(request, ENVIRONMENT_TYPES)
    parsers: ParserProcess = request.state.parsers
    async with uploads.spooled(request) as body:
        upload = Upload(body, f"environment{suffix}")
        applied = await config.apply_environment(db, upload, offload=parsers.run)
    return EnvironmentPublic.model_validate(applied)


@router.get("/environments")
async def list_environments(db: DbDep) -> list[EnvironmentPublic]:
    return [EnvironmentPublic.model_validate(e) for e in await config.list_environments(db)]


@router.post("/data-sets/{name}", status_code=status.HTTP_201_CREATED, openapi_extra=_DATA_SET)
async def import_data_set(
    name: Annotated[str, Path(pattern=NAME_PATTERN, max_length=MAX_NAME_LENGTH)],
    request: Request,
    db: DbDep,
    uploads: UploadsDep,
) -> DataSetPublic:
    """Create or replace data set `name`: a scenario runs once per row of it."""
    suffix = file_suffix(request, DATA_SET_TYPES)
    parsers: ParserProcess = request.state.parsers
    async with uploads.spooled(request) as body:
        upload = Upload(body, f"{name}{suffix}")
        stored = await config.import_data_set(
            db, name, upload, offload=parsers.run, scratch=body.parent
        )
    return DataSetPublic.model_validate(stored)


@router.get("/data-sets")
async def list_data_sets(db: DbDep) -> list[DataSetPublic]:
    return [DataSetPublic.model_validate(d) for d in await config.list_data_sets(db)]
