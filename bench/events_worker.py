"""One worker process for `bench_events`: executes one suite run's one-step runs, each step a
sleep of a random length (a SUT answering in MEAN_MS on average), until the suite run ends.

    python -m bench.events_worker URL SUITE_RUN_ID MEAN_MS CONCURRENCY
"""

from __future__ import annotations

import asyncio
import random
import sys
import time

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.records import Environment
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepStatus
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services.running import progress
from orchestra.store.database import Database, ServerInfo, connect_pool


class SleepingExecutor:
    def __init__(self, mean_ms: float) -> None:
        self.mean_s = mean_ms / 1000

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        started = time.time()
        await asyncio.sleep(random.uniform(0, 2 * self.mean_s))
        return StepOutcome(
            status=StepStatus.PASSED, started_at=started, duration_ms=1000 * (time.time() - started)
        )

    async def aclose(self) -> None:
        return None


async def work(url: str, suite_run_id: int, mean_ms: float, concurrency: int) -> None:
    async def factory(environment: Environment | None) -> SleepingExecutor:
        return SleepingExecutor(mean_ms)

    options = WorkerOptions(
        concurrency=concurrency, lease_seconds=30, poll_seconds=0.2, suite_run_id=suite_run_id
    )
    async with connect_pool(url, max_size=4, upgrade=False) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        worker = Worker(pool, factory, options, listen_url=url)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        while not (await progress(db, suite_run_id)).suite_run.status.is_terminal:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        stop.set()
        await running


if __name__ == "__main__":
    url, suite_run, mean, concurrency = sys.argv[1:5]
    asyncio.run(work(url, int(suite_run), float(mean), int(concurrency)))
