"""The loops that wake a worker's claim loop: the sweep, the notifications, and the watch on
the leases other workers hold. Each sets `wake` when there may be runs to claim."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from orchestra.runtime.sweeper import SweepMemory, sweep
from orchestra.store.notifications import RUNS_CHANNEL, listen
from orchestra.store.worker_store import FAILURES, WorkerStore

log = logging.getLogger("orchestra.worker")


async def sweep_forever(
    store: WorkerStore, wake: asyncio.Event, every: float, on_stuck: Callable[[int], None]
) -> None:
    """The scheduler's periodic pass (queue ready runs, skip unreachable ones, close finished
    suite runs) and the reaper (FAILED_STUCK), so no wake-up is ever lost; until cancelled."""
    memory = SweepMemory()  # what this worker's sweeps saw: the next looks at news
    while True:
        try:
            async with store.connection() as conn:
                changed = await sweep(conn, memory, on_stuck=on_stuck)
            if changed:
                wake.set()
        except FAILURES as exc:
            log.warning("sweep failed: %s", exc)
        await asyncio.sleep(every)


async def listen_forever(url: str | None, wake: asyncio.Event, retry_seconds: float) -> None:
    """Wake on each notification that runs were queued (LISTEN on `orchestra_runs`); none
    without a URL to listen on (the worker then polls)."""
    if url is None:
        return
    await listen(
        url, (RUNS_CHANNEL,), lambda _channel, _payload: wake.set(), retry_seconds=retry_seconds
    )


class ExpiryWatch:
    """When the first lease another worker holds expires, looked up at most once per poll
    interval: an idle worker waits until then rather than a whole poll, so a crashed worker's
    run is taken over as soon as its lease ends (a crashed worker notifies no one)."""

    def __init__(self, store: WorkerStore, worker: str, poll_seconds: float) -> None:
        self._store = store
        self._worker = worker
        self._poll = poll_seconds
        self._checked = float("-inf")  # loop time of the last look at foreign leases
        self._next: float | None = None  # loop time the first foreign lease expires

    async def idle_timeout(self) -> float:
        """The poll interval, or less: until the first foreign lease expires."""
        now = asyncio.get_running_loop().time()
        if now >= self._checked + self._poll:
            self._checked = now
            try:
                seconds = await self._store.next_foreign_expiry(self._worker)
            except FAILURES as exc:
                log.warning("looking up foreign leases failed: %s", exc)
                seconds = None
            # a little after the expiry: the claim compares with the database's clock
            self._next = None if seconds is None else now + max(seconds, 0.0) + 0.02
        if self._next is None or self._next <= now:
            return self._poll
        return min(self._poll, self._next - now)
