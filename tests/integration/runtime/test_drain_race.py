"""A drain past its deadline stops a run whose checkpoint is still on its way to the database."""

from __future__ import annotations

import asyncio

import psycopg
from psycopg.rows import dict_row

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import TestRunStatus
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.runtime.support import (
    ScriptedExecutor,
    lock_waiters,
    scenario,
    step,
    store_suite,
)


class GatedExecutor(ScriptedExecutor):
    """Step `b` starts once `gate` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        if step.element_id == "b":
            await self.gate.wait()
        return await super().execute(step, ctx)


async def _until(db: Database, waiting: int) -> None:
    for _ in range(500):  # bounded: 10 s
        async with db.pool.connection() as probe:
            if await lock_waiters(probe) >= waiting:
                return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{waiting} statements never waited for a lock")


async def test_a_late_runs_release_keeps_the_checkpoint_that_committed_after_the_drain_stopped_it(
    db: Database, database_url: str
) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "a"), step(1, "b"), step(2, "c")])])
    suite_run = await running.start_suite_run(db, suite.id)
    executor = GatedExecutor()

    async def build(environment: object) -> GatedExecutor:
        return executor

    options = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.05, drain_seconds=0.3)
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(db.pool, build, options).run(stop))
    for _ in range(500):  # bounded: until step a's checkpoint committed
        async with db.transaction() as uow:
            (run,) = await uow.runs.test_runs(suite_run.id)
        if run.execution_context.get("done"):
            break
        await asyncio.sleep(0.02)
    async with await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row) as held:
        await held.execute("SELECT 1 FROM test_run WHERE id = %s FOR UPDATE", (run.id,))
        executor.gate.set()
        await _until(db, 1)  # step b's checkpoint waits for the row
        stop.set()  # the drain's deadline passes: the run is stopped and released
        await _until(db, 2)  # the release waits behind the checkpoint
        await held.rollback()
    await asyncio.wait_for(task, timeout=10)

    async with db.transaction() as uow:
        (run,) = await uow.runs.test_runs(suite_run.id)
        results = await uow.runs.step_results([run.id])
    assert run.status is TestRunStatus.QUEUED
    assert [r.position for r in results] == [0, 1]
    # step b's result is stored: resuming must not execute it again
    assert run.execution_context["done"] == {"0": "PASSED", "1": "PASSED"}
