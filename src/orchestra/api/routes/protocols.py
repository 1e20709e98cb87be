"""GET /protocols: the action protocols binding files may name on this server."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from orchestra.api.schemas import ProtocolsPublic
from orchestra.services.protocols import list_protocols

router = APIRouter(prefix="/protocols", tags=["protocols"])


@router.get("", response_model=ProtocolsPublic)
async def protocols() -> ProtocolsPublic:
    """Built-in `http` and the plug-ins installed with this server, broken ones with the reason
    (`POST /suites` validates bindings against these; each worker executes with its own)."""
    found = await asyncio.to_thread(list_protocols)  # reading entry points touches the disk
    return ProtocolsPublic.model_validate(found)
