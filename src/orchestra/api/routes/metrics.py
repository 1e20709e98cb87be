"""GET /metrics: the gauges of the suite runs in progress in Prometheus's text format, read
from PostgreSQL at each scrape. Each worker serves its own counters (`orchestra worker
--metrics-port`)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from orchestra.api.deps import DbDep
from orchestra.services import watching

router = APIRouter(tags=["metrics"])

_DESCRIPTION = (
    "Prometheus text format: `orchestra_suite_runs_in_progress`, `orchestra_test_runs{status}`"
    " (of the suite runs in progress) and `orchestra_queued_runs` (claimable now)"
)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": _DESCRIPTION,
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(db: DbDep) -> Response:
    """How things stand, for Prometheus to scrape (with the API token, as every route)."""
    from orchestra.metrics.gauges import MEDIA_TYPE, exposition  # prometheus_client: scraped

    return Response(exposition(await watching.gauges(db)), media_type=MEDIA_TYPE)
