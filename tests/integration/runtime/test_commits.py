"""The group committer: a write PostgreSQL refuses sinks no other write of its batch."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from orchestra.runtime.commits import GroupCommitter
from orchestra.store.database import Database
from orchestra.store.runs import RunRepository


async def too_large(repo: RunRepository) -> None:
    """A value above a PostgreSQL limit: class 54, which psycopg files under OperationalError."""
    await repo.conn.execute("SELECT repeat('x', 1073741824)")


async def answer(repo: RunRepository) -> int:
    cursor = await repo.conn.execute("SELECT 41 + 1 AS n")
    row = await cursor.fetchone()
    assert row is not None
    return int(row["n"])


async def test_a_value_too_large_fails_its_own_write_at_once_not_its_batch(db: Database) -> None:
    started = time.monotonic()
    async with GroupCommitter(db.pool) as committer:
        refused, applied = await asyncio.gather(
            committer.submit(too_large), committer.submit(answer), return_exceptions=True
        )

    assert applied == 42  # applied on its own once the shared transaction failed
    assert isinstance(refused, psycopg.errors.ProgramLimitExceeded)  # not a lost server
    assert time.monotonic() - started < committer.reconnect_seconds / 2  # not retried as one


async def test_a_server_out_of_reach_still_fails_the_batch_as_a_store_error(db: Database) -> None:
    async def lost(repo: RunRepository) -> None:
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    async with GroupCommitter(db.pool) as committer:
        committer.reconnect_seconds = 0.3
        with pytest.raises(Exception, match="shared checkpoint transaction failed"):
            await committer.submit(lost)
