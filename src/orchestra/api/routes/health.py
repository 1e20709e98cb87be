"""GET /health: the one route without a token, for load balancers and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter

from orchestra.api.deps import DbDep
from orchestra.api.schemas import Health

router = APIRouter(tags=["health"])

HEALTH_TIMEOUT = 5.0


@router.get("/health", response_model=Health)
async def health(db: DbDep) -> Health:
    """Up, and PostgreSQL answers (503 when it does not within 5 s: a probe's own timeout is
    often about that, and the pool would otherwise wait 30 s for a lost server)."""
    async with db.connection(wait_seconds=HEALTH_TIMEOUT) as conn:
        await conn.execute("SELECT 1")
    return Health(status="ok", database="ok")
