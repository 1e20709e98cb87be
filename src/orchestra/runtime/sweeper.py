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

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from orchestra.store.base import Connection
from orchestra.store.runs import BarrierWake, RunRepository, SweepAction, SweepChange

log = logging.getLogger("orchestra.sweeper")

_SWEEP_LOCK = 0x5EE9


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
    """One pass; returns whether anything changed (new runs queued, runs ended or woken).
    Without `memory` (or with a new one) the pass looks at every open suite run; given the
    same memory pass after pass, at what changed since. `on_stuck` is told how many runs the
    pass marked FAILED_STUCK."""
    if not await _try_lock(conn):
        return False
    try:
        memory = memory if memory is not None else SweepMemory()
        return await _sweep(RunRepository(conn), memory, on_stuck)
    finally:
        await _unlock(conn)


async def _sweep(
    runs: RunRepository, memory: SweepMemory, on_stuck: Callable[[int], None] | None
) -> bool:
    stuck = await _reap(runs)
    if stuck and on_stuck is not None:
        on_stuck(stuck)
    changed = stuck > 0
    handled: dict[int, int] = {}
    failed: set[int] = set()
    for change in await runs.suite_runs_to_sweep(memory.seen):
        if change.action is SweepAction.GONE or change.unfinished is None:
            memory.forget(change.suite_run_id)
            continue
        outcome = await _handle(runs, change)
        if outcome is None:  # not remembered: the next pass finds it changed and tries again
            memory.seen.pop(change.suite_run_id, None)
            failed.add(change.suite_run_id)
            continue
        handled[change.suite_run_id] = change.unfinished
        changed = outcome or changed
    if handled:
        await _tell_watchers(runs, sorted(handled))
    looked_at = sorted(handled.keys() | failed | memory.unsettled.keys())
    if not looked_at:
        return changed
    wake = await _wake(runs, looked_at)
    if wake is not None:
        memory.settle(handled, wake)
        changed = wake.woken > 0 or changed
    return changed


async def _tell_watchers(runs: RunRepository, suite_run_ids: list[int]) -> None:
    """Wake the event streams of the suite runs whose runs ended since the last pass: one
    notification each per pass, rather than one per completion in the workers' batches."""
    try:
        await runs.notify_changed(suite_run_ids)
    except psycopg.Error as exc:
        if runs.conn.broken or runs.conn.closed:
            raise
        log.warning("sweep: notifying event streams failed (they poll): %s", exc)


async def _reap(runs: RunRepository) -> int:
    """Mark the runs whose leases keep expiring FAILED_STUCK (one statement); how many."""
    try:
        return len(await runs.reap_stuck())
    except psycopg.Error as exc:
        if runs.conn.broken or runs.conn.closed:
            raise  # a pass goes on past a failed transaction, not past a lost connection
        log.warning("sweep: reaping stuck runs failed, left to the next pass: %s", exc)
        return 0


async def _handle(runs: RunRepository, change: SweepChange) -> bool | None:
    """Queue, skip or close what `change` needs, in a transaction of its own; whether anything
    changed, None when the transaction failed."""
    if change.action is SweepAction.IDLE:
        return False
    try:
        async with runs.conn.transaction():
            if change.action is SweepAction.CLOSE:
                return await runs.close_if_done(change.suite_run_id) is not None
            queued, skipped, closed = await runs.schedule(change.suite_run_id)
            return bool(queued or skipped or closed)
    except psycopg.Error as exc:
        if runs.conn.broken or runs.conn.closed:
            raise  # a pass goes on past a failed transaction, not past a lost connection
        log.warning(
            "sweep: suite run %s failed (%s), left to the next pass: %s",
            change.suite_run_id,
            type(exc).__name__,
            exc,
        )
        return None


async def _wake(runs: RunRepository, suite_run_ids: list[int]) -> BarrierWake | None:
    """Wake the runs parked at the doomed barriers of these suite runs; None when it failed."""
    try:
        async with runs.conn.transaction():  # the wake-up and its notification
            return await runs.wake_doomed_barriers(suite_run_ids)
    except psycopg.Error as exc:
        if runs.conn.broken or runs.conn.closed:
            raise  # a pass goes on past a failed transaction, not past a lost connection
        log.warning("sweep: waking doomed barriers failed, left to the next pass: %s", exc)
        return None


async def _try_lock(conn: Connection) -> bool:
    locked = await conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (_SWEEP_LOCK,))
    row = await locked.fetchone()
    return row is not None and bool(row["ok"])


async def _unlock(conn: Connection) -> None:
    """Give the lock back before the connection goes back to its pool. Should that fail (the
    server gone: the lock went with the session) or be cancelled, the connection is closed (its
    pool discards it), so that no pooled session keeps the lock and stops every later sweep."""
    try:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (_SWEEP_LOCK,))
    except psycopg.Error:
        await conn.close()
    except asyncio.CancelledError:
        await conn.close()
        raise
