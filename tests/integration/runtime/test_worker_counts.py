"""What a worker says it did: each run it claimed is counted once, as it ended there - finished,
released (only when the release found its lease), cancelled (its suite run was), or lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from orchestra.binding.factory import executor_factory
from orchestra.domain.records import Environment
from orchestra.domain.statuses import TestRunStatus
from orchestra.errors import ConfigurationError
from orchestra.runtime.tally import WorkerStats
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import running
from orchestra.store.commits import GroupCommitter
from orchestra.store.database import Database
from orchestra.store.runs import Checkpoint, Completion, Renewal, RunRepository
from tests.integration.runtime.chaos import order_sut, start_order_suite
from tests.integration.runtime.support import (
    ScriptedExecutor,
    claimed_by_another,
    expire_leases,
    factory_for,
    scenario,
    shared_barrier,
    step,
    store_suite,
    until,
)
from tests.integration.runtime.test_left_runs import OutagePool, pool_of
from tests.integration.runtime.test_worker_stops import EndsAfterItsCancel

T = TypeVar("T")
LONG_LEASE = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.05, sweep_seconds=0.1)
# heartbeats every 0.2 s, on a lease that a busy machine cannot let run out between two
FREQUENT_BEATS = WorkerOptions(
    concurrency=2, lease_seconds=30, heartbeat_seconds=0.2, poll_seconds=0.05, sweep_seconds=0.1
)

# one run at a time (the claim loop waits for its end), renewed every second on a lease of two:
# a heartbeat that fails leaves the run within two seconds
ONE_SHORT_LEASE = WorkerOptions(
    concurrency=1, lease_seconds=2, heartbeat_seconds=1, poll_seconds=0.05, sweep_seconds=0.1
)


def counted_once(stats: WorkerStats) -> bool:
    return stats.claimed == stats.finished + stats.released + stats.lost + stats.cancelled


async def test_a_drain_release_that_finds_the_suite_run_cancelled_counts_the_run_cancelled(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("slow", [step(0, "a", sleep=30)])])
    suite_run = await running.start_suite_run(db, suite.id)
    executor = ScriptedExecutor()
    options = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.05, drain_seconds=0.3)
    worker = Worker(db.pool, factory_for(executor), options)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await until(lambda: executor.calls, "the run is inside its step")
        await running.cancel(db, suite_run.id)
    finally:
        stop.set()  # the drain stops the step at its deadline and releases the run: refused
        stats = await asyncio.wait_for(task, timeout=10)
    assert (stats.released, stats.cancelled, stats.lost) == (0, 1, 0)
    assert counted_once(stats)


async def test_a_release_that_finds_its_lease_taken_counts_the_run_lost_not_released(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a")])])
    await running.start_suite_run(db, suite.id)
    async with db.pool.connection() as conn:
        (claimed,) = await RunRepository(conn).claim("w", 1, lease_seconds=30)
    await expire_leases(db)
    await claimed_by_another(db, "w2")
    worker = Worker(db.pool, factory_for(ScriptedExecutor()), LONG_LEASE, worker_id="w")
    async with GroupCommitter(db.pool) as committer:
        worker._committer = committer
        await worker._release(claimed, {}, None)
    assert (worker.stats.released, worker.stats.lost, worker.stats.cancelled) == (0, 1, 0)


class CountingBeats(Worker):
    """A worker that counts its heartbeats' renewals."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.beats = 0

    async def _renew(self, held: dict[int, int]) -> Renewal:
        renewal = await super()._renew(held)
        self.beats += 1
        return renewal


class LateAnswers:
    """A group committer whose answer to a release reaches the run only after the worker's
    next two heartbeats (a slow network: the run and the heartbeat are separate tasks)."""

    def __init__(self, committer: GroupCommitter) -> None:
        self.committer = committer
        self.worker: CountingBeats | None = None

    async def submit(self, write: Callable[[RunRepository], Awaitable[T]]) -> T:
        result = await self.committer.submit(write)
        if result is True and self.worker is not None:  # a release (an arrival is a dict)
            seen = self.worker.beats
            for _ in range(500):  # bounded: 5 s
                if self.worker.beats >= seen + 2:
                    break
                await asyncio.sleep(0.01)
        return result

    async def checkpoint(self, checkpoint: Checkpoint) -> bool:
        return await self.committer.checkpoint(checkpoint)

    async def complete(self, completion: Completion, *, schedule: bool) -> bool:
        return await self.committer.complete(completion, schedule=schedule)


async def test_a_run_parked_at_a_barrier_is_counted_released_though_a_heartbeat_came_first(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("waits", [shared_barrier(0, "sync", 2, 60)])])
    await running.start_suite_run(db, suite.id)
    async with GroupCommitter(db.pool) as shared:
        late = LateAnswers(shared)
        worker = CountingBeats(
            db.pool,
            factory_for(ScriptedExecutor()),
            FREQUENT_BEATS,
            committer=cast(GroupCommitter, late),
        )
        late.worker = worker
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            await until(lambda: worker.stats.claimed and not worker.held.active, "the run parks")
        finally:
            stop.set()
            stats = await asyncio.wait_for(task, timeout=10)
    assert worker.beats >= 2
    assert (stats.claimed, stats.released, stats.lost) == (1, 1, 0)
    assert counted_once(stats)


async def test_a_run_whose_suite_run_is_cancelled_is_counted_cancelled_when_the_heartbeat_sees_it(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("slow", [step(0, "a", sleep=30)])])
    suite_run = await running.start_suite_run(db, suite.id)
    executor = ScriptedExecutor()
    worker = Worker(db.pool, factory_for(executor), FREQUENT_BEATS)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await until(lambda: executor.calls, "the run is inside its step")
        await running.cancel(db, suite_run.id)
        await until(lambda: not worker.held.active, "the heartbeat drops the run")
    finally:
        stop.set()
        stats = await asyncio.wait_for(task, timeout=10)
    assert (stats.cancelled, stats.lost) == (1, 0)
    assert counted_once(stats)


async def test_a_run_whose_suite_run_is_cancelled_is_counted_cancelled_when_a_checkpoint_is_refused(
    db: Database,
) -> None:
    async with order_sut() as sut:
        gate = sut.hold("create")
        suite_run = await start_order_suite(db, sut, 1)
        worker = Worker(db.pool, executor_factory(), LONG_LEASE)  # no heartbeat meanwhile
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            await until(lambda: sut.held, "the run is inside its Create step")
            await running.cancel(db, suite_run.id)
            gate.set()  # the step ends; its checkpoint finds the run cancelled
            await until(lambda: not worker.held.active, "the run stops")
        finally:
            stop.set()
            stats = await asyncio.wait_for(task, timeout=10)
    assert (stats.cancelled, stats.lost, stats.finished) == (1, 0, 0)
    assert counted_once(stats)


async def test_runs_the_worker_ends_error_are_counted_finished(db: Database) -> None:
    async def broken(environment: Environment | None) -> ScriptedExecutor:
        raise ConfigurationError("secret API_TOKEN: the variable is not set")

    suite = await store_suite(db, [scenario("a", [step(0, "a")]), scenario("b", [step(0, "b")])])
    suite_run = await running.start_suite_run(db, suite.id)
    _, stats = await running.work_until_done(db, suite_run.id, broken, options=LONG_LEASE)
    assert sum(s.finished for s in stats) == 2
    assert all(counted_once(s) for s in stats)


async def test_a_run_the_heartbeat_left_that_completes_all_the_same_is_counted_finished(
    db: Database,
) -> None:
    # no renewal gets through: the heartbeat leaves the run (still leased to the worker) and
    # cancels it; its step swallows the cancel and the run completes, PASSED in the store.
    # The release of the left runs that comes next finds it ended: finished, not lost
    suite = await store_suite(db, [scenario("s", [step(0, "a"), step(1, "b"), step(2, "c")])])
    suite_run = await running.start_suite_run(db, suite.id)
    executor = EndsAfterItsCancel()
    executor.let_go.set()  # cancelled, its step b ends at once
    outage = OutagePool(db.pool, only="heartbeat")
    worker = Worker(pool_of(outage), factory_for(executor), ONE_SHORT_LEASE)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await until(executor.inside.is_set, "the run is inside step b")
        outage.away = True
        await until(lambda: not worker.held.active, "the run has ended")
    finally:
        stop.set()
        stats = await asyncio.wait_for(task, timeout=10)
    async with db.transaction() as uow:
        (run,) = await uow.runs.test_runs(suite_run.id)
    assert run.status is TestRunStatus.PASSED
    assert (stats.finished, stats.released, stats.lost, stats.cancelled) == (1, 0, 0, 0)
    assert counted_once(stats)
