"""Interleavings of concurrent transactions the workers and the users' commands meet: each test
holds one transaction open at the moment another one runs, on two connections to a real
PostgreSQL, and shows the outcome does not depend on who commits first."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg.rows import dict_row

from orchestra.domain.statuses import SuiteRunStatus, TestRunStatus
from orchestra.services import running
from orchestra.store.base import Connection
from orchestra.store.database import Database
from orchestra.store.runs import ClaimedRun, RunRepository
from tests.integration.runtime.support import scenario, shared_barrier, step, store_suite

BARRIER_TIMEOUT = 300.0  # the barrier is met long before: a run parked until then was forgotten


async def connect(database_url: str) -> Connection:
    return await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    )


async def blocked_or_done(db: Database, conn: Connection, task: asyncio.Task[Any]) -> None:
    """Until `task`, a statement on `conn`, has ended or waits for a lock (bounded)."""
    pid = conn.info.backend_pid
    for _ in range(500):
        if task.done():
            return
        async with db.pool.connection() as probe:
            cursor = await probe.execute(
                "SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = %s",
                (pid,),
            )
            row = await cursor.fetchone()
        if row is not None and row["waiting"]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the concurrent statement neither ended nor waited for a lock")


async def barrier_parties(db: Database) -> tuple[int, ClaimedRun, ClaimedRun]:
    """A suite run of two runs meeting at barrier 'sync', both claimed by worker 'w', the
    first of them arrived (committed): its id, the early run and the late one."""
    barrier = shared_barrier(1, "sync", 2, BARRIER_TIMEOUT)
    suite = await store_suite(
        db,
        [scenario("early", [step(0, "a"), barrier]), scenario("late", [step(0, "b"), barrier])],
    )
    suite_run = await running.start_suite_run(db, suite.id)
    async with db.pool.connection() as conn:
        claimed = await RunRepository(conn).claim("w", 2, lease_seconds=30)
        early, late = sorted(claimed, key=lambda run: run.id)
        await RunRepository(conn).arrive_at_barrier(
            suite_run.id, "sync", 2, early.id, BARRIER_TIMEOUT
        )
    return suite_run.id, early, late


async def park(conn: Connection, run: ClaimedRun) -> None:
    """What the worker does with a run that waits at the barrier: release it until then."""
    parked = await RunRepository(conn).release(
        run.id, "w", run.attempt, {"done": {"0": "PASSED"}}, time.time() + BARRIER_TIMEOUT
    )
    assert parked


async def arrive_last(conn: Connection, suite_run_id: int, run: ClaimedRun) -> None:
    """What the worker does for the last party: arrive, and release the barrier."""
    repo = RunRepository(conn)
    arrival = await repo.arrive_at_barrier(suite_run_id, "sync", 2, run.id, BARRIER_TIMEOUT)
    assert arrival["arrived"] == 2
    await repo.release_barrier(suite_run_id, "sync")


async def overlap(
    db: Database,
    database_url: str,
    first: Callable[[Connection], Awaitable[None]],
    second: Callable[[Connection], Awaitable[None]],
) -> None:
    """`first` in a transaction left open while `second` runs in its own transaction; then
    `first` commits, and `second` (which may have waited for it) commits."""
    async with await connect(database_url) as one, await connect(database_url) as two:
        async with one.transaction():
            await first(one)

            async def then() -> None:
                async with two.transaction():
                    await second(two)

            task = asyncio.create_task(then())
            await blocked_or_done(db, two, task)
        await asyncio.wait_for(task, timeout=30)


async def woken(db: Database, run: ClaimedRun) -> bool:
    async with db.pool.connection() as conn:
        return run.id in [c.id for c in await RunRepository(conn).claim("w2", 2, 30)]


async def test_a_run_parking_while_the_last_party_arrives_is_woken_once_both_commit(
    db: Database, database_url: str
) -> None:
    suite_run_id, early, late = await barrier_parties(db)
    await overlap(
        db,
        database_url,
        lambda conn: park(conn, early),
        lambda conn: arrive_last(conn, suite_run_id, late),
    )
    assert await woken(db, early)


async def test_a_run_parking_while_the_last_arrival_is_uncommitted_is_woken_once_both_commit(
    db: Database, database_url: str
) -> None:
    suite_run_id, early, late = await barrier_parties(db)
    await overlap(
        db,
        database_url,
        lambda conn: arrive_last(conn, suite_run_id, late),
        lambda conn: park(conn, early),
    )
    assert await woken(db, early)


async def test_parked_then_released_the_ordinary_way_the_run_is_woken(db: Database) -> None:
    suite_run_id, early, late = await barrier_parties(db)
    async with db.pool.connection() as conn:
        await park(conn, early)
        assert not await woken(db, early)  # parked: not claimable before the barrier is met
        await arrive_last(conn, suite_run_id, late)
    assert await woken(db, early)
    progress = await running.progress(db, suite_run_id)
    assert progress.counts == {TestRunStatus.RUNNING: 2}
    assert progress.suite_run.status is SuiteRunStatus.IN_PROGRESS
