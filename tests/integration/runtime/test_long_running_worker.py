"""A worker that serves for weeks (`orchestra worker`) keeps nothing of the runs it finished."""

from __future__ import annotations

import asyncio
import gc
import time
import tracemalloc
from dataclasses import replace

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.records import Environment
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepStatus, SuiteRunStatus
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.runtime.support import scenario, step, store_suite

RUNS = 60
SAVED = 64 * 1024  # characters each run saves in its first step


class SavingExecutor:
    """Each run's first step saves a value of its own (a new string per run)."""

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        saved = {"blob": f"{ctx.run.test_run_id}:" + "x" * SAVED} if step.position == 0 else {}
        return StepOutcome(
            status=StepStatus.PASSED, started_at=time.time(), duration_ms=1.0, saved=saved
        )

    async def aclose(self) -> None:
        pass


async def saving_executor(environment: Environment | None) -> SavingExecutor:
    return SavingExecutor()


async def test_a_worker_holds_no_execution_context_of_the_runs_it_finished(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "save"), step(1, "use")])])
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("rows", [{"i": i} for i in range(RUNS)])
    suite_run = await running.start_suite_run(db, suite.id, data_set="rows")
    options = WorkerOptions(concurrency=8, poll_seconds=0.05, sweep_seconds=0.1)
    worker = Worker(db.pool, saving_executor, replace(options, suite_run_id=suite_run.id))
    stop = asyncio.Event()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        task = asyncio.create_task(worker.run(stop))
        for _ in range(600):
            if (await running.progress(db, suite_run.id)).suite_run.status.is_terminal:
                break
            await asyncio.sleep(0.05)
        stop.set()
        stats = await asyncio.wait_for(task, timeout=30)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()

    assert stats.finished == RUNS
    assert (await running.progress(db, suite_run.id)).suite_run.status is SuiteRunStatus.PASSED
    # the worker is still referenced: what it holds of its runs is still allocated
    assert kept < RUNS * SAVED / 2, f"{kept} bytes kept by a worker of {RUNS} finished runs"
