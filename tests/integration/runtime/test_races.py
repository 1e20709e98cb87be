"""Interleavings of concurrent transactions the workers and the users' commands meet: each test
holds one transaction open at the moment another one runs, on two connections to a real
PostgreSQL, and shows the outcome does not depend on who commits first."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from orchestra.domain.execution import StepOutcome
from orchestra.domain.records import StoredSuite
from orchestra.domain.statuses import StepStatus, SuiteRunStatus, TestRunStatus
from orchestra.errors import Conflict
from orchestra.services import running
from orchestra.store.base import Connection
from orchestra.store.database import Database
from orchestra.store.runs import Checkpoint, ClaimedRun, RunRepository
from tests.integration.runtime.support import (
    lock_waiters,
    scenario,
    shared_barrier,
    step,
    store_suite,
)

BARRIER_TIMEOUT = 300.0  # the barrier is met long before: a run parked until then was forgotten


async def connect(database_url: str) -> Connection:
    return await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    )


async def blocked_or_done(db: Database, task: asyncio.Task[Any]) -> None:
    """Until `task` has ended or a statement of this database waits for a lock (bounded)."""
    for _ in range(500):
        if task.done():
            return
        async with db.pool.connection() as probe:
            if await lock_waiters(probe):
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
            suite_run.id, "sync", 2, early.id, BARRIER_TIMEOUT, worker="w", attempt=early.attempt
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
    arrival = await repo.arrive_at_barrier(
        suite_run_id, "sync", 2, run.id, BARRIER_TIMEOUT, worker="w", attempt=run.attempt
    )
    assert arrival is not None
    assert arrival.arrived == 2
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
            await blocked_or_done(db, task)
        await asyncio.wait_for(task, timeout=30)


async def woken(db: Database, run: ClaimedRun) -> bool:
    async with db.pool.connection() as conn:
        return run.id in [c.id for c in await RunRepository(conn).claim("w2", 2, 30)]


@pytest.mark.parametrize("parked_first", [True, False], ids=["parked-first", "arrived-first"])
async def test_a_run_parking_while_the_last_party_arrives_is_woken_once_both_commit(
    db: Database, database_url: str, parked_first: bool
) -> None:
    """Whichever of the two transactions is left open while the other runs."""
    suite_run_id, early, late = await barrier_parties(db)

    async def parking(conn: Connection) -> None:
        await park(conn, early)

    async def arriving(conn: Connection) -> None:
        await arrive_last(conn, suite_run_id, late)

    first, second = (parking, arriving) if parked_first else (arriving, parking)
    await overlap(db, database_url, first, second)
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


def checkpoint_of(run: ClaimedRun, stored: StoredSuite, **exports: Any) -> Checkpoint:
    """Step 0 of `run` done, as its worker 'w' commits it (with `exports`, if any)."""
    first = next(s for s in stored.scenarios if s.id == run.scenario_id).steps[0]
    outcome = StepOutcome(
        status=StepStatus.PASSED, started_at=time.time(), duration_ms=1.0, exports=exports
    )
    return Checkpoint(
        test_run_id=run.id,
        worker="w",
        attempt=run.attempt,
        step_id=first.id,
        step=first.step,
        outcome=outcome,
        execution_context={"done": {"0": "PASSED"}},
    )


async def test_a_cancel_meeting_a_batch_of_checkpoints_halfway_cancels_instead_of_409(
    db: Database, database_url: str
) -> None:
    # A worker's batch checkpoints one run (locking its row), the cancel locks the suite run
    # and waits for that row, then the batch's next write (a step exporting values) waits for
    # the suite run: a deadlock the cancel, waiting first, loses. Answered 409 ("already
    # ended", says the API) it left the suite run in progress.
    stored = await store_suite(
        db, [scenario(name, [step(0, name), step(1, "next")]) for name in ("one", "two")]
    )
    suite_run = await running.start_suite_run(db, stored.id)
    async with db.pool.connection() as conn:
        one, two = sorted(await RunRepository(conn).claim("w", 2, 30), key=lambda r: r.id)
    async with await connect(database_url) as batch:
        async with batch.transaction():
            assert await RunRepository(batch).checkpoint(checkpoint_of(one, stored))
            cancelling = asyncio.create_task(running.cancel(db, suite_run.id))
            await blocked_or_done(db, cancelling)
            exporting = RunRepository(batch).checkpoint(checkpoint_of(two, stored, order="o-1"))
            await asyncio.wait_for(exporting, timeout=30)  # the deadlock's other side
        cancelled = await asyncio.wait_for(cancelling, timeout=30)

    assert cancelled.suite_run.status is SuiteRunStatus.CANCELLED
    assert cancelled.counts == {TestRunStatus.CANCELLED: 2}


async def test_a_cancel_waiting_for_the_last_completion_says_how_the_suite_run_ended(
    db: Database, database_url: str
) -> None:
    stored = await store_suite(db, [scenario("only", [step(0, "a")])])
    suite_run = await running.start_suite_run(db, stored.id)
    async with db.pool.connection() as conn:
        (run,) = await RunRepository(conn).claim("w", 1, 30)
    async with await connect(database_url) as worker:
        async with worker.transaction():  # the last run ends, and with it the suite run
            ended = await RunRepository(worker).complete(
                run.id, "w", run.attempt, TestRunStatus.PASSED, None, {}
            )
            assert ended == suite_run.id
            cancelling = asyncio.create_task(running.cancel(db, suite_run.id))
            await blocked_or_done(db, cancelling)
        with pytest.raises(Conflict) as refused:
            await asyncio.wait_for(cancelling, timeout=30)

    assert refused.value.message == f"suite run {suite_run.id} has already ended PASSED"


async def test_a_cancel_after_the_last_run_ended_closes_the_suite_run_as_its_runs_ended(
    db: Database,
) -> None:
    # The last completion is committed, and the suite run closed right after it (by the
    # committer, or the sweep): a cancel in between finds nothing left to cancel.
    stored = await store_suite(db, [scenario("only", [step(0, "a")])])
    suite_run = await running.start_suite_run(db, stored.id)
    async with db.pool.connection() as conn:
        (run,) = await RunRepository(conn).claim("w", 1, 30)
        ended = await RunRepository(conn).complete(
            run.id, "w", run.attempt, TestRunStatus.PASSED, None, {}, close_suite_run=False
        )
    assert ended == suite_run.id

    with pytest.raises(Conflict, match="has already ended PASSED"):
        await running.cancel(db, suite_run.id)
    final = await running.progress(db, suite_run.id)
    assert final.suite_run.status is SuiteRunStatus.PASSED
    assert final.counts == {TestRunStatus.PASSED: 1}
