"""Use cases about the store itself: which server, is the schema current, upgrade it, stop the
embedded server, carry an embedded home over to a new PostgreSQL major version."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from orchestra.config import Settings
from orchestra.errors import UsageError
from orchestra.store import embedded, home_migration, migrate
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
        "schema": schema.state,
    }


async def stop(settings: Settings) -> dict[str, Any]:
    data = _embedded_only(settings, "to stop")
    stopped = await asyncio.to_thread(embedded.stop_embedded, settings.home)
    return {"server": "embedded", "data_directory": str(data), "stopped": stopped}


async def migrate_home(settings: Settings) -> dict[str, Any]:
    _embedded_only(settings, "to migrate")
    done = await asyncio.to_thread(home_migration.migrate_home, settings.home)
    return {
        "server": "embedded",
        "data_directory": str(done.data_directory),
        "migrated": done.migrated,
        "from_major": done.from_major,
        "to_major": done.to_major,
        "databases": list(done.databases),
        "kept_as": None if done.kept_as is None else str(done.kept_as),
    }


def _embedded_only(settings: Settings, what: str) -> Path:
    if settings.database_url:
        raise UsageError(
            "ORCHESTRA_DATABASE_URL is set, so Orchestra uses the server it names and has no "
            f"embedded server {what}; unset it to act on the one in {settings.home / 'pgdata'}"
        )
    return settings.home / "pgdata"


def _describe(url: str, embedded: bool, settings: Settings) -> dict[str, Any]:
    described: dict[str, Any] = {"server": "embedded" if embedded else "external"}
    described["url"] = redact_url(url)
    if embedded:
        described["data_directory"] = str(settings.home / "pgdata")
    return described
