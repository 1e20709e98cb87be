"""Opening the database: the schema checked, and the pool's first connection, on one backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from orchestra.config import Settings
from orchestra.store.database import open_database


async def test_a_schema_at_head_is_checked_on_the_pools_first_connection(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    opened: list[str] = []  # a backend started each (its fork, its catalog caches)
    monkeypatch.setattr(psycopg.AsyncConnection, "connect", _counting(opened))
    connect = psycopg.connect  # the module's name for Connection.connect

    def counted(*args: Any, **kwargs: Any) -> Any:
        opened.append("Connection")
        return connect(*args, **kwargs)

    monkeypatch.setattr(psycopg, "connect", counted)
    settings = Settings(home=tmp_path, database_url=database_url)
    async with open_database(settings) as db, db.reading() as uow:
        assert await uow.processes.list_latest() == []
    assert opened == ["AsyncConnection"]


def _counting(opened: list[str]) -> Any:
    connect = vars(psycopg.AsyncConnection)["connect"].__func__

    def counted(cls: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append("AsyncConnection")
        return connect(cls, *args, **kwargs)

    return classmethod(counted)


async def test_the_connections_beyond_the_first_are_opened_in_the_background(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path, database_url=database_url)
    async with open_database(settings, max_size=4, min_size=3) as db:
        assert db.pool.get_stats()["pool_size"] == 3  # counted at once, opening meanwhile
        await db.pool.wait(timeout=10)  # all three open, none asked for
        assert db.pool.get_stats()["pool_available"] == 3
        async with db.reading() as uow:
            assert await uow.processes.list_latest() == []
