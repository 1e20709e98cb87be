"""What a worker did: each run it claimed counted once, as it ended there.

A run is finished (PASSED, FAILED, ERROR), released (back to the queue: drained, parked at a
barrier, left and released), cancelled (its suite run was, under this worker's lease) or lost
(its lease passed on, or was left to expire). Two may tell of one run, and the first to tell
counts it (`HeldRun.tell`): the drain that released a run past its deadline, and the run's
task, deaf to its cancel, that ends later. A run left while the database was away is counted
by the release that settles it (`HeldRuns.settle`); one the heartbeat left that its task
ends here all the same (its end, its release written, or found gone) is counted by its task,
as the store has it (`HeldRuns.take_back`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestra.domain.statuses import TestRunStatus
from orchestra.runtime.held import Dropped, HeldRun, HeldRuns
from orchestra.runtime.ports import Observer
from orchestra.store.runs import ClaimedRun


@dataclass(frozen=True, slots=True)
class WorkerStats:
    """What a worker did, as of one moment (`Worker.run` returns it as the worker stopped)."""

    claimed: int = 0
    finished: int = 0  # ended here: PASSED, FAILED, ERROR
    released: int = 0  # back to the queue: drained, parked at a barrier, left and released
    lost: int = 0  # its lease passed on (expired, claimed again) or left to expire
    cancelled: int = 0  # its suite run was cancelled while this worker held it
    steps: int = 0
    errors: tuple[str, ...] = ()


@dataclass(slots=True)
class WorkerCounts:
    """What a worker has done so far, counted as it goes (see `WorkerStats`). A run deaf to
    its cancel may still add to it once the worker has stopped."""

    claimed: int = 0
    finished: int = 0
    released: int = 0
    lost: int = 0
    cancelled: int = 0
    steps: int = 0
    errors: list[str] = field(default_factory=list)

    def snapshot(self) -> WorkerStats:
        return WorkerStats(
            claimed=self.claimed,
            finished=self.finished,
            released=self.released,
            lost=self.lost,
            cancelled=self.cancelled,
            steps=self.steps,
            errors=tuple(self.errors),
        )


class Tally:
    """Counts how the runs a worker claimed ended (`counts`), each once, and tells the
    observer (a worker's metrics) of the claims, the ends ERROR and the leases lost.

    `run`, in each method: the run's entry while this worker executes it; None for a claim
    no one else tells of (a release outside the run's task)."""

    def __init__(self, held: HeldRuns, observer: Observer) -> None:
        self.counts = WorkerCounts()
        self._held = held
        self._observer = observer

    def claimed(self, runs: int) -> None:
        self.counts.claimed += runs
        self._observer.claimed(runs)

    def finished(self, run: HeldRun | None, *, ended_error: bool = False) -> None:
        """Its end was written (`ended_error`: by the worker, the run unable to go on)."""
        if self._first_told(run):
            self.counts.finished += 1
            if ended_error:
                self._observer.run_ended(TestRunStatus.ERROR)

    def released(self, run: HeldRun | None) -> None:
        """Its release was written: it held the lease."""
        if self._first_told(run):
            self.counts.released += 1

    def refused(self, run: HeldRun | None, *, cancelled: bool) -> None:
        """A write found its lease gone: `cancelled` with its suite run, else lost."""
        if self._first_told(run):
            self._gone(cancelled=cancelled)

    def stopped(self, claimed: ClaimedRun, run: HeldRun | None) -> None:
        """Cancelled mid-way: by the heartbeat (`Dropped` says why; a run it left is counted
        once released), by a claim of the run anew (its lease expired: lost), or by a drain
        past its deadline (which releases the run and counts it)."""
        if self._left_by_the_heartbeat(run):
            return
        if run is not None and self._held.drained.get(claimed.id) is run:
            return  # the drain releases it and counts it (unless it was told already)
        if self._first_told(run):
            self._gone(cancelled=run is not None and run.dropped is Dropped.CANCELLED)

    def left(self, claimed: ClaimedRun, run: HeldRun | None) -> None:
        """Stopped without the database: left (`HeldRuns.leave`), counted once a release
        tells whether it held (but a run whose end was told already)."""
        if not self._left_by_the_heartbeat(run) and self._first_told(run):
            self._held.leave(claimed)

    def settled(self, released: int, lost: int) -> None:
        """A release of the left runs told how they stand (`HeldRuns.settle`)."""
        self.counts.released += released
        self._gone(cancelled=False, runs=lost)

    def left_to_their_lease(self) -> None:
        """The worker stops: the left runs not released yet are lost."""
        self._gone(cancelled=False, runs=len(self._held.unsettled))
        self._held.unsettled.clear()

    def _gone(self, *, cancelled: bool, runs: int = 1) -> None:
        if cancelled:
            self.counts.cancelled += runs
        else:
            self.counts.lost += runs
            if runs:
                self._observer.leases_lost(runs)

    def _left_by_the_heartbeat(self, run: HeldRun | None) -> bool:
        """Whether the heartbeat left the run, whose task now stops without the database's
        word on it (cancelled, or a write that failed): the release of the left runs counts
        it, the next one, as its task no longer can (`HeldRuns.settle`)."""
        if run is None or run.dropped is not Dropped.UNREACHABLE:
            return False
        run.tell()
        self._held.orphans = True
        return True

    def _first_told(self, run: HeldRun | None) -> bool:
        """Whether how the run ended is to be counted now: it is, unless told before, or
        unless the heartbeat left it and a release counted it since (`HeldRuns.take_back`)."""
        if run is None:
            return True
        if not run.tell():
            return False
        return run.dropped is not Dropped.UNREACHABLE or self._held.take_back(run.claimed)
