"""A worker's door to the database: its own connection per operation, conflicts applied again,
and only Orchestra's errors out of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from orchestra.errors import Conflict, StatementRefused, StoreError, ValueRefused
from orchestra.services import running
from orchestra.store.base import Connection
from orchestra.store.database import Database
from orchestra.store.runs import RunRepository
from orchestra.store.worker_store import WorkerStore
from tests.integration.runtime.support import scenario, step, store_suite


class AwayPool:
    """psycopg's pool with the server out of reach: every connection is refused."""

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        raise psycopg.OperationalError("connection refused: the database is away")
        yield  # pragma: no cover


class Deadlocked:
    """An operation whose transaction the server rolls back for a deadlock `times` times."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.calls = 0

    async def __call__(self, runs: RunRepository) -> int:
        self.calls += 1
        if self.calls <= self.times:
            raise psycopg.errors.DeadlockDetected("deadlock detected")
        cursor = await runs.conn.execute("SELECT 42 AS n")
        row = await cursor.fetchone()
        assert row is not None
        return int(row["n"])


async def test_an_operation_rolled_back_for_a_deadlock_is_applied_again(db: Database) -> None:
    deadlocked = Deadlocked(times=2)
    assert await WorkerStore(db.pool)._apply(deadlocked) == 42
    assert deadlocked.calls == 3


async def test_a_deadlock_that_keeps_coming_back_leaves_as_a_conflict(db: Database) -> None:
    deadlocked = Deadlocked(times=3)
    with pytest.raises(Conflict, match="rolled back: nothing changed") as raised:
        await WorkerStore(db.pool)._apply(deadlocked)
    assert isinstance(raised.value.__cause__, psycopg.errors.DeadlockDetected)
    assert deadlocked.calls == 3


async def test_a_server_out_of_reach_leaves_as_a_store_error() -> None:
    store = WorkerStore(cast(AsyncConnectionPool[Connection], AwayPool()))
    with pytest.raises(StoreError, match="unreachable") as raised:
        await store.claim("w", 1, lease_seconds=30)
    assert isinstance(raised.value.__cause__, psycopg.OperationalError)
    assert not isinstance(raised.value, StatementRefused)


async def test_a_value_the_server_refuses_leaves_as_value_refused(db: Database) -> None:
    with pytest.raises(ValueRefused):
        await WorkerStore(db.pool).claim("w", -1, lease_seconds=30)  # LIMIT -1


async def test_a_statement_the_server_refuses_leaves_as_statement_refused(db: Database) -> None:
    async def undefined(runs: RunRepository) -> None:
        await runs.conn.execute("SELECT no_such_column FROM test_run")

    with pytest.raises(StatementRefused, match="no_such_column"):
        await WorkerStore(db.pool)._apply(undefined)


async def test_each_operation_takes_its_own_connection_and_gives_it_back(db: Database) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "a")])])
    await running.start_suite_run(db, suite.id)
    store = WorkerStore(db.pool)
    claimed = await store.claim("w", 1, lease_seconds=30)
    renewals = await asyncio.gather(
        *(store.heartbeat("w", {claimed[0].id: claimed[0].attempt}, 30) for _ in range(8))
    )  # more at once than the pool has connections: each waits for one of its own
    assert all(renewal.kept == {claimed[0].id} for renewal in renewals)
    expiry = await store.next_foreign_expiry("other")  # w's lease, as another worker sees it
    assert expiry is not None
    assert expiry > 25
    assert db.pool.get_stats()["pool_available"] >= 1
