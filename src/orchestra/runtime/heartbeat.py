"""The worker's heartbeat: renews the leases of the runs it executes in one statement, well
inside the lease time, and stops each run whose lease it no longer holds before it writes
anything more (`HeldRun.dropped` says why): its lease passed to another worker (expired and
claimed again), its suite run was cancelled, or no renewal got through and its lease would end
before the next heartbeat could renew it (the database out of reach). That last one may be
another worker's by then, so it stops here before it could act twice, and is left while still
leased to this worker (`HeldRuns.leave`): released as soon as the database takes it, no
attempt lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from orchestra.runtime.held import Dropped, HeldRun, HeldRuns
from orchestra.store.runs import Renewal
from orchestra.store.worker_store import FAILURES

log = logging.getLogger("orchestra.worker")

# renews the leases held (run id -> attempt): the store's `heartbeat` for this worker
Renew = Callable[[dict[int, int]], Awaitable[Renewal]]


async def heartbeat_forever(
    held: HeldRuns, renew: Renew, every: float, lease_seconds: float
) -> None:
    """Renew the leases of the runs `held` executes every `every` seconds, for `lease_seconds`
    from the renewal's start; drop those it no longer holds."""
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(every)
        holding = {run_id: a.claimed.attempt for run_id, a in held.active.items()}
        if not holding:
            continue
        started = loop.time()
        try:
            renewal = await renew(holding)
        except FAILURES as exc:
            log.warning("heartbeat failed: %s", exc)
            renewal = Renewal(kept=held.lasting(holding, loop.time() + every))
            why = Dropped.UNREACHABLE
        else:
            held.renewed(holding, renewal.kept, started + lease_seconds)
            why = Dropped.LOST
        for active in held.abandoned(holding, renewal.kept):
            cancelled = active.claimed.id in renewal.cancelled
            _drop(held, active, Dropped.CANCELLED if cancelled else why)


def _drop(held: HeldRuns, active: HeldRun, why: Dropped) -> None:
    """Stop the run; one whose lease could not be renewed is left, counted by the release of
    the left runs, or by its task should that end it all the same (deaf to its cancel: see
    `runtime.tally`)."""
    active.dropped = why
    active.task.cancel()
    if why is Dropped.UNREACHABLE:
        log.warning("run %s left, released once the database is back", active.claimed.id)
        held.leave(active.claimed)
