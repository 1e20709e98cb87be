"""A worker's edges: a wake-up during a claim, a heartbeat racing a claim, a release that fails,
a run claimed anew by its own worker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.records import Environment
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import SuiteRunStatus
from orchestra.errors import StoreError
from orchestra.runtime.held import HeldRun, HeldRuns
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database
from orchestra.store.runs import ClaimedRun, RunRepository
from tests.integration.runtime.support import (
    ScriptedExecutor,
    expire_leases,
    factory_for,
    scenario,
    step,
    store_suite,
    until,
)

# polls so rare that only a wake-up gets a waiting worker to claim within the test's bound
SLOW_POLL = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=60, sweep_seconds=60)


class WakingDuringClaim(Worker):
    """Its first claim finds nothing; meanwhile work comes and the worker is woken (as a NOTIFY
    or the sweep would), before that claim has returned."""

    def __init__(self, *args: Any, arrive: Callable[[], Awaitable[None]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrive = arrive
        self.claims = 0

    async def _claim(self, limit: int) -> list[ClaimedRun]:
        self.claims += 1
        if self.claims > 1:
            return await super()._claim(limit)
        await self.arrive()
        self._wake.set()
        return []


async def test_a_wake_up_during_a_claim_that_found_nothing_is_not_lost(db: Database) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a")])])
    started: list[int] = []

    async def arrive() -> None:
        started.append((await running.start_suite_run(db, suite.id)).id)

    worker = WakingDuringClaim(db.pool, factory_for(ScriptedExecutor()), SLOW_POLL, arrive=arrive)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(500):  # bounded: 10 s, far below the 60 s poll
            if started and (await running.progress(db, started[0])).suite_run.status.is_terminal:
                break
            await asyncio.sleep(0.02)
        final = await running.progress(db, started[0])
        assert final.suite_run.status is SuiteRunStatus.PASSED
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def test_a_heartbeat_abandons_the_lease_it_failed_to_renew_not_a_new_claim_of_the_run(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario(f"s{i}", [step(0, "a")]) for i in range(3)])
    await running.start_suite_run(db, suite.id)
    async with db.pool.connection() as conn:
        renewed, reclaimed, lost = await RunRepository(conn).claim("w", 3, lease_seconds=30)

    async def idle() -> None:
        await asyncio.sleep(0)

    def entry(run: ClaimedRun, attempt: int) -> HeldRun:
        return HeldRun(replace(run, attempt=attempt), asyncio.create_task(idle()), deadline=0.0)

    runs = HeldRuns()
    runs.active = {
        renewed.id: entry(renewed, 1),
        reclaimed.id: entry(reclaimed, 2),  # claimed again while the renewal was in flight
        lost.id: entry(lost, 1),
    }
    held = {renewed.id: 1, reclaimed.id: 1, lost.id: 1}
    abandoned = runs.abandoned(held, kept={renewed.id})
    assert [a.claimed.id for a in abandoned] == [lost.id]
    await asyncio.gather(*(a.task for a in runs.active.values()))


class FailingCommitter:
    """A committer whose database has gone: every write fails, as the committer says it."""

    async def submit(self, write: Any) -> Any:
        del write
        raise StoreError("the server closed the connection")


async def test_a_release_the_database_cannot_take_leaves_the_run_to_its_lease(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a")])])
    await running.start_suite_run(db, suite.id)
    async with db.pool.connection() as conn:
        (claimed,) = await RunRepository(conn).claim("w", 1, lease_seconds=30)
    worker = Worker(db.pool, factory_for(ScriptedExecutor()), SLOW_POLL, worker_id="w")
    worker._committer = FailingCommitter()  # type: ignore[assignment]
    await worker._release(claimed, {}, None)  # no exception: the worker goes on stopping
    assert worker.stats.released == 0
    assert worker.stats.errors == [
        f"run {claimed.id}: release failed: the server closed the connection"
    ]


async def ended(db: Database, suite_run_id: int) -> SuiteRunStatus:
    for _ in range(500):  # bounded: 10 s
        progress = await running.progress(db, suite_run_id)
        if progress.suite_run.status.is_terminal:
            return progress.suite_run.status
        await asyncio.sleep(0.02)
    raise AssertionError(f"suite run {suite_run_id} did not end")


async def test_a_long_running_worker_closes_the_client_of_an_environment_applied_anew(
    db: Database,
) -> None:
    made: list[ScriptedExecutor] = []

    async def factory(environment: Environment | None) -> ScriptedExecutor:
        del environment
        made.append(ScriptedExecutor())
        return made[-1]

    async def apply(base_url: str) -> None:
        configuration = {"name": "e", "services": {"api": {"base_url": base_url}}}
        async with db.transaction() as uow:
            await uow.config.upsert_environment("e", configuration, [])

    suite = await store_suite(db, [scenario("one", [step(0, "a")])])
    options = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(db.pool, factory, options).run(stop))
    try:
        await apply("http://127.0.0.1:1")
        first = await running.start_suite_run(db, suite.id, environment="e")
        assert await ended(db, first.id) is SuiteRunStatus.PASSED
        await apply("http://127.0.0.1:2")  # the same environment, other content
        second = await running.start_suite_run(db, suite.id, environment="e")
        assert await ended(db, second.id) is SuiteRunStatus.PASSED
        assert [executor.closed for executor in made] == [True, False]
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert [executor.closed for executor in made] == [True, True]


class SlowToStop(ScriptedExecutor):
    """Its first attempt's step waits until cancelled, then takes a second to stop (as a client
    closing its connection may): it notes whether the executor was closed by then."""

    def __init__(self) -> None:
        super().__init__()
        self.first_started = asyncio.Event()
        self.stopped_after_close: list[bool] = []

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        if ctx.run.attempt > 1:
            return await super().execute(step, ctx)
        self.first_started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(1.0)
            self.stopped_after_close.append(self.closed)
            raise
        raise AssertionError("a never-set event was set")


async def test_the_attempt_a_worker_replaced_by_claiming_its_run_anew_ends_before_it_stops(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a")])])
    suite_run = await running.start_suite_run(db, suite.id)
    executor = SlowToStop()
    options = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.05, drain_seconds=10)
    worker = Worker(db.pool, factory_for(executor), options)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await until(executor.first_started.is_set, "the first attempt is inside its step")
        await expire_leases(db)  # no heartbeat got through: the worker claims its run anew
        assert await ended(db, suite_run.id) is SuiteRunStatus.PASSED
    finally:
        stop.set()
        stats = await asyncio.wait_for(task, timeout=20)
    # the first attempt, cancelled by the claim anew, stopped before the executor was closed
    assert executor.stopped_after_close == [False]
    assert executor.closed
    assert (stats.claimed, stats.finished, stats.lost) == (2, 1, 1)
