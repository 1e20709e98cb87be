"""Runs claimed together share what they need once: one executor per environment."""

from __future__ import annotations

import asyncio
import time

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.records import Environment
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepStatus, SuiteRunStatus
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.runtime.support import scenario, step, store_suite


class PassingExecutor:
    def __init__(self) -> None:
        self.closed = False

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        return StepOutcome(status=StepStatus.PASSED, started_at=time.time(), duration_ms=1.0)

    async def aclose(self) -> None:
        self.closed = True


class SlowFactory:
    """Builds an executor after a pause (as one importing its client in a thread does)."""

    def __init__(self) -> None:
        self.built: list[PassingExecutor] = []

    async def __call__(self, environment: Environment | None) -> PassingExecutor:
        await asyncio.sleep(0.05)
        executor = PassingExecutor()
        self.built.append(executor)
        return executor


async def test_suite_runs_of_one_environment_started_together_share_one_executor(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "a"), step(1, "b")])])
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("rows", [{"i": i} for i in range(8)])
    first = await running.start_suite_run(db, suite.id, data_set="rows")
    second = await running.start_suite_run(db, suite.id, data_set="rows")
    factory = SlowFactory()
    worker = Worker(db.pool, factory, WorkerOptions(concurrency=16, poll_seconds=0.05))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(600):
            ended = [(await running.progress(db, s.id)).suite_run.status for s in (first, second)]
            if all(status.is_terminal for status in ended):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        stats = await asyncio.wait_for(task, timeout=30)

    assert ended == [SuiteRunStatus.PASSED, SuiteRunStatus.PASSED]
    assert stats.finished == 16
    assert len(factory.built) == 1  # not one per suite run, the first left unclosed
    assert factory.built[0].closed


async def test_a_worker_serving_one_suite_run_builds_its_executor_once_ahead_of_its_runs(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "a"), step(1, "b")])])
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("rows", [{"i": i} for i in range(8)])
    suite_run = await running.start_suite_run(db, suite.id, data_set="rows")
    factory = SlowFactory()
    options = WorkerOptions(concurrency=4, poll_seconds=0.05)

    final, _ = await running.work_until_done(db, suite_run.id, factory, workers=1, options=options)

    assert final.suite_run.status is SuiteRunStatus.PASSED
    assert len(factory.built) == 1  # the runs shared the look-up made as the worker started
    assert factory.built[0].closed


async def test_a_worker_serving_a_suite_run_that_is_gone_still_starts_and_stops(
    db: Database,
) -> None:
    factory = SlowFactory()
    worker = Worker(db.pool, factory, WorkerOptions(poll_seconds=0.05, suite_run_id=999_999))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.2)  # its look-up ahead of the runs has failed by now
    stop.set()
    stats = await asyncio.wait_for(task, timeout=10)

    assert stats.claimed == 0
    assert factory.built == []
