"""GET /health: the one route without a token, for load balancers and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter

from orchestra.api.deps import DbDep
from orchestra.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def health(db: DbDep) -> Health:
    """Up, and PostgreSQL answers (503 when it does not)."""
    async with db.connection() as conn:
        await conn.execute("SELECT 1")
    return Health(status="ok", database="ok")
