"""The periodic pass that makes scheduling robust: no wake-up is lost.

Completions already queue dependents and close suite runs in their own transaction; this pass
catches what concurrent completions could not see of each other, marks runs whose leases keep
expiring FAILED_STUCK, wakes the runs parked at a shared barrier that can no longer be met (so
they fail now, naming the party that ended without arriving, not at the timeout), and closes
the suite runs those leave finished. One worker at a time
sweeps (an advisory lock); the others skip.
"""

from __future__ import annotations

from orchestra.store.base import Connection
from orchestra.store.runs import RunRepository

_SWEEP_LOCK = 0x5EE9


async def sweep(conn: Connection) -> bool:
    """One pass; returns whether anything changed (new runs queued, runs ended)."""
    changed = False
    async with conn.transaction():
        locked = await conn.execute("SELECT pg_try_advisory_xact_lock(%s) AS ok", (_SWEEP_LOCK,))
        row = await locked.fetchone()
        if row is None or not row["ok"]:
            return False
        runs = RunRepository(conn)
        if await runs.reap_stuck():
            changed = True
        if await runs.wake_doomed_barriers():
            changed = True
        for suite_run_id, has_dependencies in await runs.open_suite_runs():
            if not has_dependencies:  # nothing waits: no run to queue or skip, every second
                changed = await runs.close_if_done(suite_run_id) is not None or changed
                continue
            queued, skipped, closed = await runs.schedule(suite_run_id)
            changed = changed or bool(queued or skipped or closed)
    return changed
