"""The claim loop claims several runs at once: it sleeps while too few slots are free, woken by
the end of the run that frees enough of them, or by the worker's stop. No database: the claims
and the runs are stand-ins the test drives."""

from __future__ import annotations

import asyncio
import contextlib
from typing import cast

from psycopg_pool import AsyncConnectionPool

from orchestra.runtime.held import HeldRun
from orchestra.runtime.ports import ExecutorFactory
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.store.base import Connection
from orchestra.store.runs import ClaimedRun


def _claimed(run_id: int) -> ClaimedRun:
    return ClaimedRun(
        id=run_id, suite_run_id=1, scenario_id=1, data_row_index=None, repeat_index=0,
        data_row={}, attempt=1, execution_context={}, suite_context={},
    )  # fmt: skip


class HandedRuns(Worker):
    """A worker whose claims hand out as many new runs as asked for, noting each `limit`, and
    whose runs each go on until the test ends them (`end`)."""

    def __init__(self, concurrency: int) -> None:
        pool = cast(AsyncConnectionPool[Connection], None)  # never used: no claim reaches it
        super().__init__(pool, cast(ExecutorFactory, None), WorkerOptions(concurrency))
        self.limits: list[int] = []
        self.ends: dict[int, asyncio.Event] = {}

    async def _claim(self, limit: int) -> list[ClaimedRun]:
        self.limits.append(limit)
        first = len(self.ends)
        for run_id in range(first, first + limit):
            self.ends[run_id] = asyncio.Event()
        return [_claimed(run_id) for run_id in range(first, first + limit)]

    async def _attempt(
        self, claimed: ClaimedRun, me: HeldRun | None, holding: contextlib.AsyncExitStack
    ) -> None:
        await self.ends[claimed.id].wait()

    async def end(self, *run_ids: int) -> None:
        for run_id in run_ids:
            self.ends[run_id].set()
        for _ in range(5):  # the runs end, then the claim loop, woken, claims
            await asyncio.sleep(0)


async def test_the_claim_loop_claims_again_once_a_quarter_of_its_slots_is_free() -> None:
    worker = HandedRuns(concurrency=8)  # claims 2 runs at least
    stop = asyncio.Event()
    loop = asyncio.create_task(worker._claim_loop(stop))
    try:
        await worker.end()
        assert worker.limits == [8]
        await worker.end(0)
        assert worker.limits == [8]  # one slot free: it waits for another
        await worker.end(1)
        assert worker.limits == [8, 2]
        await worker.end(2, 3)
        assert worker.limits == [8, 2, 2]
        await worker.end(4)
        assert worker.limits == [8, 2, 2]
        assert len(worker.held.active) == 7
    finally:
        stop.set()
        await asyncio.wait_for(loop, timeout=5)
        await worker.end(*worker.ends)


async def test_a_stop_wakes_the_claim_loop_waiting_for_slots() -> None:
    worker = HandedRuns(concurrency=4)
    stop = asyncio.Event()
    loop = asyncio.create_task(worker._claim_loop(stop))
    await worker.end()
    assert worker.limits == [4]
    stop.set()
    await asyncio.wait_for(loop, timeout=5)
    assert len(worker.held.active) == 4  # the runs go on: the drain stops them
    await worker.end(*worker.ends)
    assert not worker.held.active
