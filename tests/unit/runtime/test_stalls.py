"""The stall detector on injected clocks: a late tick is a stall, so is a pause only the boot
clock saw, and a moment is covered by a stall over or still going on."""

from __future__ import annotations

import asyncio
import contextlib

from orchestra.runtime.stalls import Stall, StallDetector


class Clocks:
    """A monotonic and a boot clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0
        self.boot = 5000.0

    def pass_(self, seconds: float, *, boot: float | None = None) -> None:
        self.now += seconds
        self.boot += seconds if boot is None else boot

    def detector(self, **options: object) -> StallDetector:
        return StallDetector(
            clock=lambda: self.now,
            boot=lambda: self.boot,
            interval=0.25,  # binary fractions: the sums below are exact
            threshold=0.5,
            **options,  # type: ignore[arg-type]
        )


def test_ticks_on_time_or_a_little_late_are_no_stall() -> None:
    clocks = Clocks()
    detector = clocks.detector()
    for late in (0.0, 0.125, 0.25, 0.375):
        clocks.pass_(0.25 + late)
        assert detector.tick() is None
    assert (detector.count, list(detector.stalls)) == (0, [])


def test_a_tick_late_by_the_threshold_is_a_stall_since_the_tick_before() -> None:
    clocks = Clocks()
    seen: list[Stall] = []
    detector = clocks.detector(on_stall=seen.append)
    clocks.pass_(0.25)
    detector.tick()
    clocks.pass_(9.25)  # a SIGSTOP of 9 s: CLOCK_MONOTONIC kept counting

    stall = detector.tick()

    assert stall == Stall(began=100.25, ended=109.5, seconds=9.0)
    assert seen == [stall]
    assert (detector.count, detector.total_seconds) == (1, 9.0)


def test_a_pause_only_the_boot_clock_saw_is_a_stall_of_its_length() -> None:
    clocks = Clocks()
    detector = clocks.detector()
    clocks.pass_(0.25, boot=30.25)  # the machine slept 30 s: the monotonic clock stood still

    stall = detector.tick()

    assert stall == Stall(began=100.0, ended=100.25, seconds=30.0)


def test_a_moment_inside_a_past_stall_is_covered_one_outside_is_not() -> None:
    clocks = Clocks()
    detector = clocks.detector()
    clocks.pass_(5.25)
    detector.tick()  # stalled from 100 to 105.25
    for _ in range(20):
        clocks.pass_(0.25)
        detector.tick()

    assert detector.covering(103.0) == Stall(began=100.0, ended=105.25, seconds=5.0)
    assert detector.covering(99.75) is None
    assert detector.covering(106.0) is None


def test_a_stall_still_going_on_covers_a_moment_before_its_late_tick_runs() -> None:
    # the moment a stopped process runs again, a timeout may fire before the ticker does
    clocks = Clocks()
    detector = clocks.detector()
    clocks.pass_(0.25)
    detector.tick()
    clocks.pass_(4.0)

    ongoing = detector.covering(102.0)

    assert ongoing == Stall(began=100.25, ended=104.25, seconds=3.75)
    assert detector.count == 0  # not recorded until its tick


def test_only_the_last_stalls_are_remembered() -> None:
    clocks = Clocks()
    detector = clocks.detector(remember=2)
    for _ in range(3):
        clocks.pass_(1.25)
        detector.tick()

    assert detector.count == 3
    assert [s.began for s in detector.stalls] == [101.25, 102.5]
    assert detector.covering(100.5) is None


async def test_run_ticks_after_each_sleep() -> None:
    clocks = Clocks()
    sleeps = 0

    async def sleep(seconds: float) -> None:
        nonlocal sleeps
        sleeps += 1
        clocks.pass_(seconds if sleeps != 3 else 2.0)
        if sleeps == 5:
            raise asyncio.CancelledError

    detector = clocks.detector(sleep=sleep)
    with contextlib.suppress(asyncio.CancelledError):
        await detector.run()

    assert [s.seconds for s in detector.stalls] == [1.75]
