"""The bookkeeping of the runs left while the database was away: each is counted once, by the
release that settles it or by its own task, as the store has it. No database: the release's
answer is given."""

from __future__ import annotations

import asyncio

from orchestra.runtime.held import Dropped, HeldRun, HeldRuns
from orchestra.store.runs import ClaimedRun


def _claimed(run_id: int, attempt: int = 1) -> ClaimedRun:
    return ClaimedRun(
        id=run_id, suite_run_id=1, scenario_id=1, data_row_index=None, repeat_index=0,
        data_row={}, attempt=attempt, execution_context={}, suite_context={},
    )  # fmt: skip


async def _left_by_the_heartbeat(held: HeldRuns, claimed: ClaimedRun) -> HeldRun:
    """The run executing (its task waits), left as a failed heartbeat leaves it."""

    async def executing() -> None:
        await asyncio.Event().wait()

    task = asyncio.create_task(executing())
    entry = held.active[claimed.id] = HeldRun(claimed, task, deadline=0.0)
    entry.dropped = Dropped.UNREACHABLE
    held.leave(claimed)
    return entry


async def test_a_left_run_the_release_found_gone_while_its_task_runs_is_left_to_its_task() -> None:
    held = HeldRuns()
    claimed = _claimed(7)
    entry = await _left_by_the_heartbeat(held, claimed)
    try:
        # its task may have ended it here, the answer still on its way: not counted lost
        assert held.settle(held.orphan_release(), released=[]) == (0, 0)
        assert held.take_back(claimed)  # its end got through: its task counts it
        assert held.unsettled == {}
    finally:
        entry.task.cancel()


async def test_a_left_run_the_release_released_is_counted_released_and_not_by_its_task() -> None:
    held = HeldRuns()
    claimed = _claimed(7)
    entry = await _left_by_the_heartbeat(held, claimed)
    try:
        assert held.settle(held.orphan_release(), released=[7]) == (1, 0)
        assert not held.take_back(claimed)  # its later refusal is not counted again
    finally:
        entry.task.cancel()


async def test_a_left_run_whose_task_stopped_is_counted_lost_when_a_release_finds_it_gone() -> None:
    held = HeldRuns()
    claimed = _claimed(7)
    entry = await _left_by_the_heartbeat(held, claimed)
    entry.told = True  # its task stopped on its cancel, telling nothing
    try:
        assert held.settle(held.orphan_release(), released=[]) == (0, 1)
        assert held.unsettled == {}
    finally:
        entry.task.cancel()
