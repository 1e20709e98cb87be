"""The bookkeeping of the runs a worker holds a lease on.

`active`: the runs it executes, each with its task, the loop time its lease ends unless a
heartbeat renews it, and why the heartbeat stopped it, if it did. `left`: the runs it stopped
without the database (a checkpoint, a release or a renewal that could not get through): still
leased to it, they are released by the next claim that gets through (or by the drain's end), to
be resumed at once and lose no attempt, and counted once that release tells whether it held.
`replaced`: the tasks of runs it claimed anew while they executed, cancelled, until they end.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Collection
from dataclasses import dataclass

from orchestra.runtime.bounded import Bounded
from orchestra.runtime.interpreter import RunInterpreter
from orchestra.store.runs import ClaimedRun

_LEFT_REMEMBERED = 1024  # runs left while the database was away that a worker remembers


class Dropped(enum.Enum):
    """Why the heartbeat stopped a run."""

    LOST = "lost"  # its lease passed to another worker (expired and claimed again)
    CANCELLED = "cancelled"  # its suite run was cancelled
    UNREACHABLE = "unreachable"  # no renewal got through before its lease ends: left


@dataclass(slots=True)
class HeldRun:
    claimed: ClaimedRun
    task: asyncio.Task[None]
    deadline: float  # loop time the lease ends unless a heartbeat renews it
    interpreter: RunInterpreter | None = None
    ending: bool = False  # its release or its end ERROR is being committed: the lease ends with it
    dropped: Dropped | None = None  # set by the heartbeat as it cancels the run
    told: bool = False  # counted here, or its task left it (counted once released)

    def tell(self) -> bool:
        """Note that how the run ended here is told: False when it was told before, and is
        not to be counted again. Two may tell: the drain that released the run, and the
        run's task, deaf to its cancel, that ends later. A run the heartbeat left is told by
        its task (`HeldRuns.settle`)."""
        told, self.told = self.told, True
        return not told


@dataclass(frozen=True, slots=True)
class OrphanRelease:
    """A release of the runs leased to the worker that it does not execute: those to `keep`
    (run id, attempt) and the left runs it settles (`left`: run id -> attempt)."""

    keep: list[tuple[int, int]]
    left: dict[int, int]


class HeldRuns:
    def __init__(self) -> None:
        self.active: dict[int, HeldRun] = {}
        self.drained: dict[int, HeldRun] = {}  # runs a drain stopped past its deadline
        # runs may be leased to the worker that it does not execute: released by the next
        # claim (one whose answer was lost, one left while the database was away)
        self.orphans = False
        # run id -> (times it was left so, the attempt it was last left under), the last ones
        self._left: Bounded[int, tuple[int, int]] = Bounded(_LEFT_REMEMBERED)
        self.unsettled: dict[int, int] = {}  # left, not counted yet: run id -> attempt
        self.replaced: set[asyncio.Task[None]] = set()

    def replace(self, run_id: int) -> None:
        """Cancel the task executing the run, if any: its lease expired (no heartbeat got
        through) and this worker claimed it anew. Kept in `replaced` until it ends, for the
        drain to await before the executors it uses are closed."""
        stale = self.active.get(run_id)
        if stale is None:
            return
        stale.task.cancel()
        self.replaced.add(stale.task)
        stale.task.add_done_callback(self.replaced.discard)

    def own(self, claimed: ClaimedRun) -> HeldRun | None:
        """The run's entry while the current task executes it (not a newer claim's)."""
        active = self.active.get(claimed.id)
        return active if active is not None and active.task is asyncio.current_task() else None

    def leave(self, claimed: ClaimedRun) -> None:
        """Note a run stopped without the database. A run left again (a write that always
        times out) is left to its lease, which counts the attempts, rather than released and
        executed again without end."""
        times = self._left.pop(claimed.id, (0, 0))[0] + 1
        self._left[claimed.id] = (times, claimed.attempt)
        self.unsettled[claimed.id] = claimed.attempt
        self.orphans = True

    def orphan_release(self) -> OrphanRelease:
        """Begin a release of the orphans: keep the runs executed here and those left more
        than once; a run left from now on calls for another release."""
        self.orphans = False
        keep = [(i, a.claimed.attempt) for i, a in self.active.items() if a.dropped is None]
        keep += [(run_id, attempt) for run_id, (times, attempt) in self._left.items() if times > 1]
        return OrphanRelease(keep, dict(self.unsettled))

    def settle(self, release: OrphanRelease, released: Collection[int]) -> tuple[int, int]:
        """The left runs `release` settles are counted: (how many it released, how many were
        lost: taken by another worker meanwhile, or left to their lease). Each is counted
        once: not one its task took back (`take_back`), nor one it did not release whose task
        still runs (left by the heartbeat, deaf to its cancel): that run may yet end here,
        and its task tells how (the next release, if it stops)."""
        back = lost = 0
        for run_id, attempt in release.left.items():
            if self.unsettled.get(run_id) != attempt:
                continue
            if run_id not in released and self._may_end_here(run_id, attempt):
                continue
            del self.unsettled[run_id]
            if run_id in released:
                back += 1
            else:
                lost += 1
        return back, lost

    def take_back(self, claimed: ClaimedRun) -> bool:
        """Take a run the heartbeat left back from the release that would count it: its task
        ended it here after all (its end, its release written), or found it gone, and counts
        it. False when a release counted it already."""
        if self.unsettled.get(claimed.id) != claimed.attempt:
            return False
        del self.unsettled[claimed.id]
        return True

    def _may_end_here(self, run_id: int, attempt: int) -> bool:
        entry = self.active.get(run_id)
        return (
            entry is not None
            and entry.claimed.attempt == attempt
            and not entry.told
            and not entry.task.done()
        )

    def renewed(self, held: dict[int, int], kept: Collection[int], deadline: float) -> None:
        """A heartbeat renewed the leases `kept` of those `held` (run id -> attempt)."""
        for run_id in kept:
            active = self.active.get(run_id)
            if active is not None and active.claimed.attempt == held[run_id]:
                active.deadline = deadline

    def lasting(self, held: dict[int, int], horizon: float) -> frozenset[int]:
        """The runs of `held` whose lease lasts past `horizon` (loop time)."""
        return frozenset(i for i, a in self.active.items() if i in held and a.deadline > horizon)

    def abandoned(self, held: dict[int, int], kept: Collection[int]) -> list[HeldRun]:
        """The runs a heartbeat found no longer held (`held`: run id -> the attempt renewed),
        except those whose completion, release or end ERROR is being committed (the lease ends
        with it, and its answer says whether it still held), those claimed again by this
        worker while the renewal was in flight (a new attempt: its own), and those being
        stopped already (dropped by a beat before, or by a drain past its deadline)."""
        lost: list[HeldRun] = []
        for run_id in set(held).difference(kept):
            entry = self.active.get(run_id)
            if entry is None or entry.claimed.attempt != held[run_id]:
                continue
            if entry.ending or (entry.interpreter is not None and entry.interpreter.finishing):
                continue
            if entry.dropped is not None or entry.task.cancelling():
                continue
            lost.append(entry)
        return lost
