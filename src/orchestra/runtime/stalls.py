"""A worker's own stalls: the moments its process could not run, measured from inside.

A ticker expects to wake every `interval`; when it wakes much later, the event loop was stalled
for the difference: a long garbage collection, a callback hogging the loop, CPU starvation, or
the process stopped (SIGSTOP, a debugger). On Linux CLOCK_MONOTONIC keeps counting while a
process is stopped, so such a pause shows as a late tick; it does not count while the machine
is suspended, which the boot-time clock does (CLOCK_BOOTTIME, the wall clock elsewhere): the
later of the two gaps is the stall.

A request's timeout is measured on the monotonic clock, so one whose time ran out while the
worker was stalled fires as soon as the worker runs again, whether or not the SUT had answered
meanwhile: the runtime asks `covering(moment)` before blaming the SUT (`RunInterpreter`).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Clock = Callable[[], float]


def boot_clock() -> float:
    """Seconds on a clock that keeps counting while the machine is suspended."""
    if hasattr(time, "CLOCK_BOOTTIME"):
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    return time.time()


@dataclass(frozen=True, slots=True)
class Stall:
    """The worker could not run from `began` to `ended` (monotonic seconds); `seconds` is how
    long that was, a suspended machine's time included."""

    began: float
    ended: float
    seconds: float

    def covers(self, moment: float) -> bool:
        return self.began <= moment <= self.ended


class StallDetector:
    """Measures the stalls of the event loop it runs on (`run`, one task per worker).

    A tick later than `threshold` is a stall, from the previous tick (the last moment the loop
    was seen running) to this one; the last `remember` stalls are kept for `covering`.
    `clock` must be the one timeouts are measured on (the event loop's: monotonic).
    """

    def __init__(
        self,
        *,
        interval: float = 0.1,
        threshold: float = 0.5,
        remember: int = 64,
        clock: Clock = time.monotonic,
        boot: Clock = boot_clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_stall: Callable[[Stall], None] | None = None,
    ) -> None:
        self.interval = interval
        self.threshold = threshold
        self._clock = clock
        self._boot = boot
        self._sleep = sleep
        self._on_stall = on_stall
        self.stalls: collections.deque[Stall] = collections.deque(maxlen=remember)
        self.count = 0  # stalls seen since the start, the forgotten ones included
        self.total_seconds = 0.0
        self._last = clock()
        self._last_boot = boot()

    async def run(self) -> None:
        """Tick until cancelled."""
        self.restart()
        while True:
            await self._sleep(self.interval)
            self.tick()

    def restart(self) -> None:
        """Measure from now (the loop may not have run this detector for a while)."""
        self._last, self._last_boot = self._clock(), self._boot()

    def tick(self) -> Stall | None:
        """One wake-up of the ticker: the stall since the previous one, if it was late."""
        now, boot = self._clock(), self._boot()
        gap = max(now - self._last, boot - self._last_boot)
        began = self._last
        self._last, self._last_boot = now, boot
        if gap - self.interval < self.threshold:
            return None
        stall = Stall(began=began, ended=now, seconds=gap - self.interval)
        self.stalls.append(stall)
        self.count += 1
        self.total_seconds += stall.seconds
        if self._on_stall is not None:
            self._on_stall(stall)
        return stall

    def ongoing(self) -> Stall | None:
        """The stall the loop is coming out of now, its late tick not run yet (the moment a
        stopped process runs again, its timeouts and its ticker are due at once)."""
        now = self._clock()
        late = now - self._last - self.interval
        if late < self.threshold:
            return None
        return Stall(began=self._last, ended=now, seconds=late)

    def covering(self, moment: float) -> Stall | None:
        """The stall, over or ongoing, during which the monotonic `moment` fell; None when
        the worker was running then."""
        current = self.ongoing()
        if current is not None and current.covers(moment):
            return current
        for stall in reversed(self.stalls):
            if stall.covers(moment):
                return stall
            if stall.ended < moment:
                break  # the older ones ended earlier still
        return None


@dataclass(frozen=True, slots=True)
class StallPolicy:
    """How a worker's runs treat a step whose request timed out while the worker stalled: sent
    again (same idempotency key), its lease renewed first, at most `resends` times."""

    detector: StallDetector
    lease_seconds: float
    resends: int = 3
