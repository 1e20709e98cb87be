"""PostgreSQL LISTEN/NOTIFY as wake-up hints: whoever waits on one also polls, so a lost
notification (a dropped connection, a server restart) costs a poll interval, never a run.

Channels: `orchestra_runs` (runs to claim: a suite run created, runs queued or released, a
barrier met) and `orchestra_events` (test runs of the suite run named by the payload ended,
or it ended: what an event stream waits for; sent by the workers' `EndAnnouncer`, the sweeper,
a suite run's closing and its cancel). `listen` holds one connection for a caller;
`Wakeups` shares one among many waiters (the API's event streams).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence

import psycopg

RUNS_CHANNEL = "orchestra_runs"
EVENTS_CHANNEL = "orchestra_events"

log = logging.getLogger("orchestra.notifications")


async def listen(
    url: str,
    channels: Sequence[str],
    on_notify: Callable[[str, str], None],
    *,
    retry_seconds: float = 1.0,
) -> None:
    """Until cancelled: LISTEN on `channels` and call `on_notify(channel, payload)` for each
    notification; a lost connection is opened again after `retry_seconds`."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                for channel in channels:
                    await conn.execute(f"LISTEN {channel}")  # channels are our constants
                async for note in conn.notifies():
                    on_notify(note.channel, note.payload)
        except psycopg.Error as exc:
            log.warning("listen failed, polling meanwhile: %s", exc)
            await asyncio.sleep(retry_seconds)


class Wakeups:
    """One LISTEN connection whose notifications wake every waiter subscribed to them: a
    waiter on a suite run is woken by the notifications naming it and by those naming none."""

    def __init__(self) -> None:
        self._waiters: dict[asyncio.Event, str | None] = {}

    def notify(self, _channel: str, payload: str) -> None:
        for waiter, about in self._waiters.items():
            if not payload or about is None or payload == about:
                waiter.set()

    @contextlib.contextmanager
    def subscribe(self, suite_run_id: int | None = None) -> Iterator[asyncio.Event]:
        waiter = asyncio.Event()
        self._waiters[waiter] = None if suite_run_id is None else str(suite_run_id)
        try:
            yield waiter
        finally:
            del self._waiters[waiter]

    @classmethod
    @contextlib.asynccontextmanager
    async def listening(
        cls, url: str, channels: Sequence[str] = (RUNS_CHANNEL, EVENTS_CHANNEL)
    ) -> AsyncIterator[Wakeups]:
        wakeups = cls()
        task = asyncio.create_task(listen(url, channels, wakeups.notify), name="listen")
        try:
            yield wakeups
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
