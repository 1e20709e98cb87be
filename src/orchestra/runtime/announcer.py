"""Tells the event streams that runs ended: the suite runs whose runs this worker ended are
notified on `orchestra_events` at most once per interval, in one statement of their own.

The notification is not sent in the transaction that ends the run: PostgreSQL takes a lock
for the whole cluster when a transaction that notified commits, which would make the group
committer's batches commit one after the other. Sent alone, a notification writes no WAL and
waits for no flush. A notification lost (the database away) costs the streams a poll.
"""

from __future__ import annotations

import asyncio
import logging

from orchestra.store.worker_store import FAILURES, WorkerStore

log = logging.getLogger("orchestra.worker")

INTERVAL_SECONDS = 0.1


class EndAnnouncer:
    def __init__(self, store: WorkerStore, interval: float = INTERVAL_SECONDS) -> None:
        self.store = store
        self.interval = interval
        self._ended: set[int] = set()
        self._news = asyncio.Event()

    def ended(self, suite_run_id: int) -> None:
        """A run of this suite run ended here (its end committed)."""
        self._ended.add(suite_run_id)
        self._news.set()

    async def run(self) -> None:
        """Until cancelled: announce what ended, then wait out the interval."""
        while True:
            await self._news.wait()
            self._news.clear()
            ended, self._ended = sorted(self._ended), set()
            try:
                await self.store.notify_changed(ended)
            except FAILURES as exc:
                log.warning("telling event streams failed (they poll): %s", exc)
            await asyncio.sleep(self.interval)
