"""The periodic pass that makes scheduling robust: no wake-up is lost.

Completions already queue dependents and close suite runs in their own transaction; this pass
catches what concurrent completions could not see of each other, marks runs whose leases keep
expiring FAILED_STUCK, wakes the runs parked at a shared barrier that can no longer be met (so
they fail now, naming the party that ended without arriving, not at the timeout), and closes
the suite runs those leave finished. One worker at a time sweeps (an advisory lock held by its
session for the pass); the others skip.

A pass costs what there is to do, not what is open: the stuck runs and the doomed barriers are
each found and handled by one set-based statement, and one read names the suite runs that have
a run to queue or skip or that can be closed. Each of those is then handled in a transaction
of its own, so the pass never holds a suite run's row while it works on another (a completion
of that suite run updates the row), and a suite run with nothing to do is neither written nor
locked.
"""

from __future__ import annotations

import asyncio

import psycopg

from orchestra.store.base import Connection
from orchestra.store.runs import RunRepository, SweepAction

_SWEEP_LOCK = 0x5EE9


async def sweep(conn: Connection) -> bool:
    """One pass; returns whether anything changed (new runs queued, runs ended)."""
    if not await _try_lock(conn):
        return False
    try:
        return await _sweep(RunRepository(conn))
    finally:
        await _unlock(conn)


async def _sweep(runs: RunRepository) -> bool:
    changed = bool(await runs.reap_stuck())  # one statement: a transaction of its own
    async with runs.conn.transaction():  # the wake-up and its notification
        changed = await runs.wake_doomed_barriers() > 0 or changed
    for suite_run_id, action in await runs.suite_runs_to_sweep():
        async with runs.conn.transaction():
            if action is SweepAction.CLOSE:
                changed = await runs.close_if_done(suite_run_id) is not None or changed
            else:
                queued, skipped, closed = await runs.schedule(suite_run_id)
                changed = bool(queued or skipped or closed) or changed
    return changed


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
