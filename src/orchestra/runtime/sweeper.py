"""The periodic pass that makes scheduling robust: no wake-up is lost.

Completions already queue dependents and close suite runs in their own transaction; this pass
catches what concurrent completions could not see of each other, marks runs whose leases keep
expiring FAILED_STUCK, wakes the runs parked at a shared barrier that can no longer be met (so
they fail now, naming the party that ended without arriving, not at the timeout), and closes
the suite runs those leave finished. One worker at a time sweeps (an advisory lock held by its
session for the pass); the others skip.

A pass costs what changed, not what is open. The stuck runs are found by one statement through
the lease index. A suite run needs the sweep only after one of its runs ended, and every end
counts the run off its suite run (`unfinished`) in the same transaction: so the sweeper
remembers each open suite run's count (`SweepMemory`), and one read names the suite runs whose
count moved since, with what each needs (queue or skip runs, close it). Each of those is handled
in a transaction of its own, so the pass never holds a suite run's row while it works on
another (a completion of that suite run updates the row), and one that fails (a deadlock, a
refused value) is logged and left to the next pass without stopping the others. Only the
barriers of the suite runs that changed are then looked at, in one statement.

A barrier can also be doomed out of the sweeper's sight: a party ended while another one was
arriving (its transaction not committed yet, so the pass after the end could not see it), or
arrived but had not parked yet. Such a suite run stays `unsettled`, its barriers looked at by
every pass, until every transaction in progress when it changed has ended and none of its doomed
barriers has a party still on its way to park.

A memory lost (a worker restarting) costs one pass over everything, as a new sweeper's first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from orchestra.errors import StatementRefused
from orchestra.store.base import Connection
from orchestra.store.runs import BarrierWake, RunRepository, SweepAction, SweepChange
from orchestra.store.sweeps import SweepSession

log = logging.getLogger("orchestra.sweeper")


@dataclass(slots=True)
class SweepMemory:
    """What one sweeper's passes saw: `seen`, each open suite run's `unfinished` count when it
    was last handled; `unsettled`, the suite runs whose barriers are to be looked at again,
    each with the transaction id that every transaction in progress when it changed was below."""

    seen: dict[int, int] = field(default_factory=dict)
    unsettled: dict[int, int] = field(default_factory=dict)

    def forget(self, suite_run_id: int) -> None:
        self.seen.pop(suite_run_id, None)
        self.unsettled.pop(suite_run_id, None)

    def settle(self, changed: dict[int, int], wake: BarrierWake) -> None:
        """`changed` (suite run id -> count) handled and their barriers looked at by `wake`:
        remember them, and drop the unsettled suite runs that nothing may hide any more."""
        self.seen.update(changed)
        for suite_run_id in changed:
            self.unsettled[suite_run_id] = wake.xmax
        for suite_run_id, below in list(self.unsettled.items()):
            if below <= wake.xmin and suite_run_id not in wake.arriving:
                del self.unsettled[suite_run_id]


async def sweep(
    conn: Connection,
    memory: SweepMemory | None = None,
    *,
    on_stuck: Callable[[int], None] | None = None,
) -> bool:
    """One pass on `conn`; returns whether anything changed (new runs queued, runs ended or
    woken). Without `memory` (or with a new one) the pass looks at every open suite run; given
    the same memory pass after pass, at what changed since. `on_stuck` is told how many runs
    the pass marked FAILED_STUCK. A lost connection ends the pass (`StoreError`); a step that
    fails otherwise is logged and left to the next pass."""
    session = SweepSession(conn)
    if not await session.try_lock():
        return False
    try:
        memory = memory if memory is not None else SweepMemory()
        return await _sweep(session, memory, on_stuck)
    finally:
        await session.unlock()


async def _sweep(
    session: SweepSession, memory: SweepMemory, on_stuck: Callable[[int], None] | None
) -> bool:
    stuck = await _reap(session)
    if stuck and on_stuck is not None:
        on_stuck(stuck)
    changed = stuck > 0
    handled: dict[int, int] = {}
    failed: set[int] = set()
    changes = await session.step(
        lambda runs: runs.suite_runs_to_sweep(memory.seen), transaction=False
    )
    for change in changes:
        if change.action is SweepAction.GONE or change.unfinished is None:
            memory.forget(change.suite_run_id)
            continue
        outcome = await _handle(session, change)
        if outcome is None:  # not remembered: the next pass finds it changed and tries again
            memory.seen.pop(change.suite_run_id, None)
            failed.add(change.suite_run_id)
            continue
        handled[change.suite_run_id] = change.unfinished
        changed = outcome or changed
    if handled:
        await _tell_watchers(session, sorted(handled))
    looked_at = sorted(handled.keys() | failed | memory.unsettled.keys())
    if not looked_at:
        return changed
    wake = await _wake(session, looked_at)
    if wake is not None:
        memory.settle(handled, wake)
        changed = wake.woken > 0 or changed
    return changed


async def _tell_watchers(session: SweepSession, suite_run_ids: list[int]) -> None:
    """Wake the event streams of the suite runs whose runs ended since the last pass: one
    notification each per pass, rather than one per completion in the workers' batches."""
    try:
        await session.step(lambda runs: runs.notify_changed(suite_run_ids), transaction=False)
    except StatementRefused as exc:
        log.warning("sweep: notifying event streams failed (they poll): %s", exc)


async def _reap(session: SweepSession) -> int:
    """Mark the runs whose leases keep expiring FAILED_STUCK (one statement); how many."""
    try:
        return len(await session.step(lambda runs: runs.reap_stuck(), transaction=False))
    except StatementRefused as exc:
        log.warning("sweep: reaping stuck runs failed, left to the next pass: %s", exc)
        return 0


async def _handle(session: SweepSession, change: SweepChange) -> bool | None:
    """Queue, skip or close what `change` needs, in a transaction of its own; whether anything
    changed, None when the transaction failed."""
    if change.action is SweepAction.IDLE:
        return False
    try:
        return await session.step(lambda runs: _apply(runs, change))
    except StatementRefused as exc:
        log.warning(
            "sweep: suite run %s failed (%s), left to the next pass: %s",
            change.suite_run_id,
            type(exc.__cause__).__name__,
            exc,
        )
        return None


async def _apply(runs: RunRepository, change: SweepChange) -> bool:
    if change.action is SweepAction.CLOSE:
        return await runs.close_if_done(change.suite_run_id) is not None
    queued, skipped, closed = await runs.schedule(change.suite_run_id)
    return bool(queued or skipped or closed)


async def _wake(session: SweepSession, suite_run_ids: list[int]) -> BarrierWake | None:
    """Wake the runs parked at the doomed barriers of these suite runs (the wake-up and its
    notification in one transaction); None when it failed."""
    try:
        return await session.step(lambda runs: runs.wake_doomed_barriers(suite_run_ids))
    except StatementRefused as exc:
        log.warning("sweep: waking doomed barriers failed, left to the next pass: %s", exc)
        return None
