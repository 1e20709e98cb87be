"""A worker's stop is bounded, and closes no executor a run still uses: a run that ignores its
cancellation, a claim loop that raises."""

from __future__ import annotations

import asyncio
from dataclasses import FrozenInstanceError, replace

import pytest

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import TestRunStatus
from orchestra.runtime.ports import Unobserved
from orchestra.runtime.tally import WorkerStats
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import running
from orchestra.store.commits import GroupCommitter
from orchestra.store.database import Database
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    step,
    store_suite,
    until,
)


class DeafToCancel(ScriptedExecutor):
    """Step `b` waits for an event no one sets and, cancelled, goes on waiting (as an executor
    awaiting something shielded does) until the test lets it go; it notes whether the
    executor was closed while it still ran."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = asyncio.Event()
        self.let_go = asyncio.Event()
        self.step_tasks: list[asyncio.Task[object]] = []
        self.closed_while_running = False

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        if step.element_id != "b":
            return await super().execute(step, ctx)
        task = asyncio.current_task()
        assert task is not None
        self.step_tasks.append(task)
        self.inside.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await self.let_go.wait()
            raise
        raise AssertionError("a never-set event was set")

    async def aclose(self) -> None:
        self.closed_while_running = any(not t.done() for t in self.step_tasks)
        await super().aclose()

    async def release(self) -> None:
        """Let the deaf step end, once the test has seen what it needs."""
        self.let_go.set()
        await asyncio.gather(*self.step_tasks, return_exceptions=True)


async def test_a_drain_leaves_a_run_deaf_to_its_cancel_and_still_releases_it(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "a"), step(1, "b")])])
    suite_run = await running.start_suite_run(db, suite.id)
    executor = DeafToCancel()
    options = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.05, drain_seconds=0.3)
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(db.pool, factory_for(executor), options).run(stop))
    try:
        await until(executor.inside.is_set, "the run is inside step b")
        stop.set()
        await asyncio.wait([task], timeout=10)
        assert task.done(), "the worker's stop hung on a run that ignores its cancel"
        stats = task.result()
        assert (stats.released, stats.lost) == (1, 0)
        async with db.transaction() as uow:
            (run,) = await uow.runs.test_runs(suite_run.id)
        assert run.status is TestRunStatus.QUEUED
        assert run.execution_context["done"] == {"0": "PASSED"}
        assert "1 runs still running" in caplog.text
    finally:
        await executor.release()
        if not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=10)


class EndsAfterItsCancel(ScriptedExecutor):
    """Step `b` waits for an event no one sets and, cancelled, swallows the cancel, waits
    until `let_go` is set and ends PASSED: the run goes on on its own (an executor that
    catches every exception does so)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = asyncio.Event()
        self.let_go = asyncio.Event()

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        if step.element_id != "b":
            return await super().execute(step, ctx)
        self.inside.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await self.let_go.wait()
        return await super().execute(step, ctx)


def _counted(stats: WorkerStats) -> tuple[int, int, int, int]:
    return stats.finished, stats.released, stats.lost, stats.cancelled


async def test_a_run_that_ends_on_its_own_while_stopped_is_counted_once(db: Database) -> None:
    # the drain's deadline passes with the run in step b; cancelled, the step ends all the
    # same within the stop's grace: the run sees the drain and releases itself, counted
    # released; the drain, which would have released it, leaves it be
    suite = await store_suite(db, [scenario("s", [step(0, "a"), step(1, "b"), step(2, "c")])])
    suite_run = await running.start_suite_run(db, suite.id)
    executor = EndsAfterItsCancel()
    executor.let_go.set()
    options = WorkerOptions(concurrency=1, lease_seconds=30, poll_seconds=0.05, drain_seconds=0.2)
    stop = asyncio.Event()
    worker = Worker(db.pool, factory_for(executor), options)
    task = asyncio.create_task(worker.run(stop))
    await until(executor.inside.is_set, "the run is inside step b")
    stop.set()
    stats = await asyncio.wait_for(task, timeout=10)
    assert _counted(stats) == (0, 1, 0, 0)
    assert stats.claimed == 1
    async with db.transaction() as uow:
        (run,) = await uow.runs.test_runs(suite_run.id)
    assert run.status is TestRunStatus.QUEUED
    assert run.execution_context["done"] == {"0": "PASSED", "1": "PASSED"}


async def test_a_run_deaf_to_its_cancel_that_ends_after_the_drain_is_counted_once(
    db: Database,
) -> None:
    # the drain stops the run past its deadline, the run goes on, and the drain releases it
    # (counted released); the run ends later on its own, its checkpoint refused by the lease
    # it no longer holds: it writes nothing, and is not counted again (lost); what the worker
    # returned stays as it stopped, though the run's step is added to its counts
    suite = await store_suite(db, [scenario("s", [step(0, "a"), step(1, "b"), step(2, "c")])])
    suite_run = await running.start_suite_run(db, suite.id)
    executor = EndsAfterItsCancel()
    options = WorkerOptions(concurrency=1, lease_seconds=30, poll_seconds=0.05, drain_seconds=0.2)
    stop = asyncio.Event()
    async with GroupCommitter(db.pool) as committer:  # open for the run's late writes
        worker = Worker(db.pool, factory_for(executor), options, committer=committer)
        task = asyncio.create_task(worker.run(stop))
        try:
            await until(executor.inside.is_set, "the run is inside step b")
            stop.set()
            stats = await asyncio.wait_for(task, timeout=10)
            returned = replace(stats)
            assert _counted(stats) == (0, 1, 0, 0)
            executor.let_go.set()
            await until(lambda: not worker.held.active, "the run has ended on its own")
        finally:
            executor.let_go.set()
            if not task.done():
                task.cancel()
                await asyncio.wait([task], timeout=10)
    assert stats == returned
    assert worker.stats.steps == stats.steps + 1  # step a, counted as the run ended
    with pytest.raises(FrozenInstanceError):
        stats.steps += 1  # type: ignore[misc]
    async with db.transaction() as uow:
        (run,) = await uow.runs.test_runs(suite_run.id)
    assert run.status is TestRunStatus.QUEUED
    assert run.execution_context["done"] == {"0": "PASSED"}


class Broken(Exception):
    pass


class BreaksOnceInside(Unobserved):
    """Raises when told of a claim once a run is inside its step (`inside`): the worker's
    claim loop fails with a run going."""

    def __init__(self, inside: asyncio.Event) -> None:
        self.inside = inside

    def claimed(self, runs: int) -> None:
        if self.inside.is_set():
            raise Broken("the claim loop fails")


class StepUntilCancelled(ScriptedExecutor):
    """Step `b` waits until cancelled, then takes a moment to end (a client closing its
    connection); it notes whether the executor was closed while the step still ran."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = asyncio.Event()
        self.running = 0
        self.closed_while_running = False

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        if step.element_id != "b":
            return await super().execute(step, ctx)
        self.running += 1
        self.inside.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(0.1)
            raise
        finally:
            self.running -= 1
        raise AssertionError("a never-set event was set")

    async def aclose(self) -> None:
        self.closed_while_running = self.running > 0
        await super().aclose()


async def test_a_claim_loop_that_fails_stops_the_runs_before_closing_their_executor(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "a"), step(1, "b")])])
    await running.start_suite_run(db, suite.id)
    executor = StepUntilCancelled()
    options = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.05)
    observer = BreaksOnceInside(executor.inside)
    worker = Worker(db.pool, factory_for(executor), options, observer=observer)
    task = asyncio.create_task(worker.run(asyncio.Event()))
    await asyncio.wait([task], timeout=10)
    assert task.done()
    with pytest.raises(Broken):
        task.result()  # the error still propagates
    assert executor.inside.is_set()
    assert executor.closed
    assert not executor.closed_while_running
    assert not worker.held.active
    assert worker.stats.lost == 1  # left to its lease


async def test_a_worker_cancelled_stops_its_runs_before_closing_their_executor(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "a"), step(1, "b")])])
    await running.start_suite_run(db, suite.id)
    executor = StepUntilCancelled()
    options = WorkerOptions(concurrency=1, lease_seconds=30, poll_seconds=0.05)
    worker = Worker(db.pool, factory_for(executor), options)
    task = asyncio.create_task(worker.run(asyncio.Event()))
    await until(executor.inside.is_set, "the run is inside step b")
    task.cancel()
    await asyncio.wait([task], timeout=10)
    assert task.cancelled()
    assert executor.closed
    assert not executor.closed_while_running
    assert not worker.held.active


async def test_runs_claimed_anew_get_a_moment_to_end_after_a_drain_that_took_its_time(
    db: Database,
) -> None:
    # a run claimed anew (its lease lost) is cancelled; its step still closes its connection
    # when the drain of the others has used up the deadline: it is awaited a moment all the
    # same, before the executors it uses are closed
    ended: list[bool] = []

    async def step_closing_slowly() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)
            ended.append(True)
            raise

    options = WorkerOptions(concurrency=1, lease_seconds=30, poll_seconds=0.05, drain_seconds=5)
    worker = Worker(db.pool, factory_for(StepUntilCancelled()), options)
    stale = asyncio.create_task(step_closing_slowly())
    await asyncio.sleep(0)
    stale.cancel()
    worker.held.replaced.add(stale)
    stale.add_done_callback(worker.held.replaced.discard)
    await worker._await_replaced(deadline=asyncio.get_running_loop().time())  # passed
    assert ended == [True]
    assert stale.done()
