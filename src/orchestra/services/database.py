"""Use cases about the store itself: which server, is the schema current, upgrade it."""

from __future__ import annotations

import asyncio
from typing import Any

from orchestra.config import Settings
from orchestra.store import migrate
from orchestra.store.database import resolve_server
from orchestra.store.migrate import redact_url


async def upgrade(settings: Settings) -> dict[str, Any]:
    server = await resolve_server(settings)
    before = await asyncio.to_thread(migrate.status, server.url)
    after = await asyncio.to_thread(migrate.upgrade, server.url)
    return {
        **_describe(server.url, server.embedded, settings),
        "from_revision": before.current,
        "revision": after.current,
        "changed": before.current != after.current,
    }


async def status(settings: Settings) -> dict[str, Any]:
    server = await resolve_server(settings)
    schema = await asyncio.to_thread(migrate.status, server.url)
    return {
        **_describe(server.url, server.embedded, settings),
        "revision": schema.current,
        "head": schema.head,
        "current": schema.is_current,
    }


def _describe(url: str, embedded: bool, settings: Settings) -> dict[str, Any]:
    described: dict[str, Any] = {"server": "embedded" if embedded else "external"}
    described["url"] = redact_url(url)
    if embedded:
        described["data_directory"] = str(settings.home / "pgdata")
    return described
