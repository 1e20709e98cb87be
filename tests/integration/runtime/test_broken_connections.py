"""A connection breaking right after a statement committed: the server did the work, the worker
never heard back. The worker's pool is a double of psycopg's pool that hands out real
connections and breaks one once, as a PostgreSQL restart or a network cut between the commit
and its answer would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import psycopg
from psycopg_pool import AsyncConnectionPool

from orchestra.domain.statuses import SuiteRunStatus, TestRunStatus
from orchestra.runtime.tally import WorkerStats
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import running
from orchestra.store.base import Connection
from orchestra.store.commits import GroupCommitter
from orchestra.store.database import Database
from tests.integration.runtime.support import (
    ScriptedExecutor,
    expire_leases,
    factory_for,
    scenario,
    step,
    store_suite,
)

FAST = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.05, sweep_seconds=0.1)
CLAIM = "candidates AS"  # only `claim_runs` has it
WRITE_MANY = "jsonb_to_recordset"  # only `checkpoint_many` has it
EXPORTS = "exported AS"  # only `checkpoint` (a step exporting values) has it


class BreakingPool:
    """psycopg's pool, whose connection breaks right after the first statement holding
    `marker` was committed: at once in autocommit, else as its transaction commits. With
    `committed=False`, before each such statement is sent instead (nothing is written)."""

    def __init__(
        self, pool: AsyncConnectionPool[Connection], marker: str, *, committed: bool = True
    ) -> None:
        self.pool = pool
        self.marker = marker
        self.committed = committed
        self.broken = 0

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        async with self.pool.connection() as conn:
            yield _BreakingConnection(conn, self)


class _BreakingConnection:
    def __init__(self, conn: Connection, pool: BreakingPool) -> None:
        self._conn = conn
        self._pool = pool
        self._break = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        if not self._pool.committed and self._pool.marker in str(query):
            self._pool.broken += 1
            await self._break_now()
        cursor = await self._conn.execute(query, params, **kwargs)
        if not self._pool.broken and self._pool.marker in str(query):
            self._pool.broken += 1
            self._break = True
            if self._conn.info.transaction_status is psycopg.pq.TransactionStatus.IDLE:
                await self._break_now()
        return cursor

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        async with self._conn.transaction() as tx:
            yield tx
        if self._break:
            await self._break_now()

    async def _break_now(self) -> None:
        self._break = False
        await self._conn.close()
        raise psycopg.OperationalError("server closed the connection unexpectedly")


async def _work_until_ended(
    db: Database,
    pool: BreakingPool,
    suite_run_id: int,
    executor: ScriptedExecutor,
    committer: GroupCommitter | None = None,
    *,
    expire_left: bool = False,
) -> WorkerStats:
    """Work the suite run with `pool` until it ends. `expire_left`: a run the worker leaves to
    its lease (counted lost, executed nowhere) has its lease end at once (`expire_leases`)."""
    worker = Worker(
        cast(AsyncConnectionPool[Connection], pool),
        factory_for(executor),
        FAST,
        committer=committer,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    expired = 0  # runs counted lost whose lease was ended
    try:
        for _ in range(500):  # bounded: 10 s
            if (await running.progress(db, suite_run_id)).suite_run.status.is_terminal:
                break
            if expire_left and worker.stats.lost > expired and not worker.held.active:
                await expire_leases(db)
                expired = worker.stats.lost
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        stats = await asyncio.wait_for(task, timeout=10)
    return stats


async def test_a_claim_committed_but_never_answered_costs_its_runs_no_attempt(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a")])])
    suite_run = await running.start_suite_run(db, suite.id, max_attempts=1)
    pool = BreakingPool(db.pool, CLAIM)
    executor = ScriptedExecutor()

    await _work_until_ended(db, pool, suite_run.id, executor)

    assert pool.broken == 1
    final = await running.progress(db, suite_run.id)
    assert final.suite_run.status is SuiteRunStatus.PASSED, final.counts
    async with db.transaction() as uow:
        (run,) = await uow.runs.test_runs(suite_run.id)
        assert run.status is TestRunStatus.PASSED
        assert await uow.runs.lost_leases([run.id]) == []
    assert len(executor.calls) == 1


async def test_a_completion_committed_but_never_answered_counts_its_run_finished_not_lost(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a")])])
    suite_run = await running.start_suite_run(db, suite.id)
    pool = BreakingPool(db.pool, WRITE_MANY)  # the batch with the run's completion

    stats = await _work_until_ended(db, pool, suite_run.id, ScriptedExecutor())

    assert pool.broken == 1
    assert (await running.progress(db, suite_run.id)).suite_run.status is SuiteRunStatus.PASSED
    assert (stats.finished, stats.lost) == (1, 0)


async def test_a_run_left_while_the_database_was_out_of_reach_goes_back_to_the_queue_on_its_return(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a"), step(1, "b")])])
    suite_run = await running.start_suite_run(db, suite.id, max_attempts=1)
    pool = BreakingPool(db.pool, WRITE_MANY)  # step a's checkpoint commits, unanswered
    executor = ScriptedExecutor()
    async with GroupCommitter(cast(AsyncConnectionPool[Connection], pool)) as committer:
        committer.reconnect_seconds = 0  # the server stays away longer than the batch waits

        await _work_until_ended(db, pool, suite_run.id, executor, committer)

    assert pool.broken == 1
    final = await running.progress(db, suite_run.id)
    assert final.suite_run.status is SuiteRunStatus.PASSED, final.counts
    assert [call.position for call in executor.calls] == [0, 1]  # resumed after step a


async def test_a_completion_exporting_values_committed_but_never_answered_counts_its_run_finished(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a", export={"order": "o1"})])])
    suite_run = await running.start_suite_run(db, suite.id)
    pool = BreakingPool(db.pool, EXPORTS)  # the run's last step and its completion, one commit

    stats = await _work_until_ended(db, pool, suite_run.id, ScriptedExecutor())

    assert pool.broken == 1
    final = await running.progress(db, suite_run.id)
    assert final.suite_run.status is SuiteRunStatus.PASSED
    assert final.suite_run.context == {"order": "o1"}
    assert (stats.finished, stats.lost) == (1, 0)


async def test_a_run_whose_checkpoint_never_gets_through_is_left_to_its_lease_the_second_time(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a"), step(1, "b")])])
    suite_run = await running.start_suite_run(db, suite.id, max_attempts=2)
    pool = BreakingPool(db.pool, WRITE_MANY, committed=False)  # as a write timing out each time
    executor = ScriptedExecutor()
    async with GroupCommitter(cast(AsyncConnectionPool[Connection], pool)) as committer:
        committer.reconnect_seconds = 0

        await _work_until_ended(db, pool, suite_run.id, executor, committer, expire_left=True)

    final = await running.progress(db, suite_run.id)
    assert final.counts == {TestRunStatus.FAILED_STUCK: 1}
    # released once (no attempt lost), then left to its lease: two leases, then the limit
    assert [call.attempt for call in executor.calls] == [1, 2, 3]
