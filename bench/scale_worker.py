"""One worker process of `bench_scale`: `orchestra worker` as the CLI builds it (a pool of 4,
LISTEN on the server), its claims timed; it prints "ready" once working and, on SIGTERM,
drains and writes the claim times (ms, of the claims that leased runs) as JSON in OUT.

    python -m bench.scale_worker URL CONCURRENCY OUT
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path

from orchestra.binding.factory import executor_factory
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.store.database import connect_pool
from orchestra.store.runs import ClaimedRun
from orchestra.store.worker_store import WorkerStore


class TimedStore(WorkerStore):
    """The worker's store, timing each claim that leased runs."""

    claims_ms: list[float]

    async def claim(
        self, worker: str, limit: int, lease_seconds: float, suite_run_id: int | None = None
    ) -> list[ClaimedRun]:
        started = time.perf_counter()
        claimed = await super().claim(worker, limit, lease_seconds, suite_run_id)
        if claimed:
            self.claims_ms.append(1000 * (time.perf_counter() - started))
        return claimed


async def work(url: str, concurrency: int) -> list[float]:
    async with connect_pool(url, max_size=4, upgrade=False) as pool:
        options = WorkerOptions(concurrency=concurrency, lease_seconds=30)
        worker = Worker(pool, executor_factory({}), options, listen_url=url)
        store = TimedStore(pool)
        store.claims_ms = []
        worker.store = store
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        task = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(0.2)  # its loops started, its first claim made
        print("ready", flush=True)
        await task
        return store.claims_ms


def main() -> None:
    url, concurrency, out = sys.argv[1:4]
    claims = asyncio.run(work(url, int(concurrency)))
    Path(out).write_text(json.dumps(claims))


if __name__ == "__main__":
    main()
