"""Arriving at a shared barrier is fenced by the run's lease like every other write of a worker:
a run cancelled, claimed again elsewhere or deleted with its suite run (a prune) arrives nowhere,
and its worker drops it as a lost lease, quietly."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import pytest

from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import running
from orchestra.store.base import Connection
from orchestra.store.database import Database
from orchestra.store.runs import BarrierArrival, ClaimedRun, RunRepository
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    shared_barrier,
    store_suite,
)

OPTIONS = WorkerOptions(concurrency=2, lease_seconds=5, poll_seconds=0.05, sweep_seconds=0.1)


async def claimed_at_barrier(db: Database) -> ClaimedRun:
    """A suite run of one scenario whose first step is a shared barrier, its run claimed."""
    suite = await store_suite(db, [scenario("waits", [shared_barrier(0, "sync", 2, 60)])])
    await running.start_suite_run(db, suite.id)
    async with db.transaction() as uow:
        (claimed,) = await uow.runs.claim("worker-a", 1, lease_seconds=30)
    return claimed


async def arrive(
    conn: Connection, claimed: ClaimedRun, worker: str = "worker-a"
) -> BarrierArrival | None:
    return await RunRepository(conn).arrive_at_barrier(
        claimed.suite_run_id, "sync", 2, claimed.id, 60, worker=worker, attempt=claimed.attempt
    )


async def barriers(db: Database) -> list[object]:
    async with db.pool.connection() as conn:
        cursor = await conn.execute("SELECT suite_run_id, name, arrived FROM suite_barrier")
        return list(await cursor.fetchall())


async def wait_for_a_lock_wait(db: Database, statement: str) -> None:
    """Until a session waits for a lock in a statement mentioning `statement` (bounded: 10 s)."""
    async with db.pool.connection() as conn:
        for _ in range(200):
            cursor = await conn.execute(
                "SELECT count(*) AS n FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                " AND strpos(query, %s) > 0",
                [statement],
            )
            row = await cursor.fetchone()
            if row is not None and row["n"] > 0:
                return
            await asyncio.sleep(0.05)
    pytest.fail("no session came to wait for the lock")


async def test_the_lease_holder_arrives_and_is_counted_once(db: Database) -> None:
    claimed = await claimed_at_barrier(db)
    async with db.pool.connection() as conn:
        first = await arrive(conn, claimed)
        again = await arrive(conn, claimed)
    assert first is not None
    assert again is not None
    assert (first.arrived, again.arrived, again.parties) == (1, 1, 2)
    assert await barriers(db) == [
        {"suite_run_id": claimed.suite_run_id, "name": "sync", "arrived": [claimed.id]}
    ]


async def test_a_worker_without_the_lease_arrives_nowhere(db: Database) -> None:
    claimed = await claimed_at_barrier(db)
    async with db.pool.connection() as conn:
        assert await arrive(conn, claimed, worker="worker-b") is None
        assert await arrive(conn, replace(claimed, attempt=claimed.attempt - 1)) is None
    assert await barriers(db) == []


async def test_a_run_of_a_cancelled_suite_run_arrives_nowhere(db: Database) -> None:
    claimed = await claimed_at_barrier(db)
    async with db.transaction() as uow:
        assert await uow.runs.cancel(claimed.suite_run_id)
    async with db.pool.connection() as conn:
        assert await arrive(conn, claimed) is None
    assert await barriers(db) == []


async def test_an_arrival_racing_a_prune_waits_for_it_and_arrives_nowhere(db: Database) -> None:
    claimed = await claimed_at_barrier(db)
    async with db.pool.connection() as conn, db.pool.connection() as pruner:
        async with pruner.transaction():
            pruning = RunRepository(pruner)
            assert await pruning.cancel(claimed.suite_run_id)
            assert await pruning.delete_suite_runs([claimed.suite_run_id])
            arrival = asyncio.create_task(arrive(conn, claimed))
            await wait_for_a_lock_wait(db, "suite_barrier")
            assert not arrival.done()
        # the prune committed: the arrival finds no run of its own, and no foreign-key error
        assert await asyncio.wait_for(arrival, timeout=10) is None
    assert await barriers(db) == []


async def test_an_arrival_waiting_for_the_suite_runs_lock_holds_none_on_its_run(
    db: Database,
) -> None:
    """The suite run's row is locked before the run's, in the order a prune's delete takes
    them: a prune holding the first can take the second, so the two never deadlock."""
    claimed = await claimed_at_barrier(db)
    async with db.pool.connection() as conn, db.pool.connection() as pruner:
        async with pruner.transaction():
            await pruner.execute(
                "SELECT 1 FROM suite_run WHERE id = %s FOR UPDATE", [claimed.suite_run_id]
            )
            arrival = asyncio.create_task(arrive(conn, claimed))
            await wait_for_a_lock_wait(db, "suite_barrier")
            await pruner.execute("SET LOCAL lock_timeout = '1s'")
            await pruner.execute("SELECT 1 FROM test_run WHERE id = %s FOR UPDATE", [claimed.id])
        arrived = await asyncio.wait_for(arrival, timeout=10)
    assert arrived is not None
    assert arrived.arrived == 1


async def test_a_suite_run_pruned_while_its_worker_arrives_is_a_quiet_lost_lease(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    suite = await store_suite(db, [scenario("waits", [shared_barrier(0, "sync", 2, 60)])])
    suite_run = await running.start_suite_run(db, suite.id)
    worker = Worker(db.pool, factory_for(ScriptedExecutor()), OPTIONS)
    stop = asyncio.Event()
    caplog.set_level(logging.INFO, logger="orchestra")
    async with db.pool.connection() as pruner:
        async with pruner.transaction():
            # held as a prune's delete holds it, so the worker's arrival waits for the prune
            await pruner.execute("SELECT 1 FROM suite_run WHERE id = %s FOR UPDATE", [suite_run.id])
            working = asyncio.create_task(worker.run(stop))
            await wait_for_a_lock_wait(db, "suite_barrier")
            pruning = RunRepository(pruner)
            assert await pruning.cancel(suite_run.id)
            assert await pruning.delete_suite_runs([suite_run.id]) == [suite_run.id]
        for _ in range(200):  # bounded: 10 s
            if worker.stats.lost or worker.stats.errors:
                break
            await asyncio.sleep(0.05)
        stop.set()
        stats = await asyncio.wait_for(working, timeout=10)
    assert (stats.claimed, stats.lost, stats.finished, stats.errors) == (1, 1, 0, ())
    alarming = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert alarming == []
    assert await barriers(db) == []
