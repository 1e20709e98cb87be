"""The group committer: a write PostgreSQL refuses sinks no other write of its batch."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from orchestra.domain.execution import StepOutcome
from orchestra.domain.statuses import StepStatus
from orchestra.errors import ValueRefused
from orchestra.store.commits import GroupCommitter
from orchestra.store.database import Database
from orchestra.store.runs import Checkpoint, RunRepository
from tests.integration.runtime.support import step


async def too_large(repo: RunRepository) -> None:
    """A value above a PostgreSQL limit: class 54, which psycopg files under OperationalError."""
    await repo.conn.execute("SELECT repeat('x', 1073741824)")


async def answer(repo: RunRepository) -> int:
    cursor = await repo.conn.execute("SELECT 41 + 1 AS n")
    row = await cursor.fetchone()
    assert row is not None
    return int(row["n"])


async def test_a_value_too_large_fails_its_own_write_at_once_not_its_batch(db: Database) -> None:
    started = time.monotonic()
    async with GroupCommitter(db.pool) as committer:
        refused, applied = await asyncio.gather(
            committer.submit(too_large), committer.submit(answer), return_exceptions=True
        )

    assert applied == 42  # applied on its own once the shared transaction failed
    assert isinstance(refused, ValueRefused)  # not a lost server
    assert isinstance(refused.__cause__, psycopg.errors.ProgramLimitExceeded)
    assert time.monotonic() - started < committer.reconnect_seconds / 2  # not retried as one


async def test_a_server_out_of_reach_still_fails_the_batch_as_a_store_error(db: Database) -> None:
    async def lost(repo: RunRepository) -> None:
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    async with GroupCommitter(db.pool) as committer:
        committer.reconnect_seconds = 0.3
        with pytest.raises(Exception, match="shared checkpoint transaction failed"):
            await committer.submit(lost)


async def test_a_batch_still_deadlocked_after_its_retries_is_applied_write_by_write(
    db: Database,
) -> None:
    # Batches finishing runs of the same suite runs lock those rows in any order; one that
    # keeps losing the deadlock is no lost server: its writes go one by one.
    async def first(repo: RunRepository) -> int:
        await repo.conn.execute("SET LOCAL application_name = 'first-was-here'")
        return await answer(repo)

    async def second(repo: RunRepository) -> str:
        cursor = await repo.conn.execute("SELECT current_setting('application_name') AS name")
        row = await cursor.fetchone()
        assert row is not None
        if row["name"] == "first-was-here":  # in the same transaction as `first`
            raise psycopg.errors.DeadlockDetected("deadlock detected")
        return "applied"

    async with GroupCommitter(db.pool) as committer:
        results = await asyncio.gather(committer.submit(first), committer.submit(second))
    assert list(results) == [42, "applied"]


async def test_checkpoints_are_not_held_behind_a_batch_that_may_lock_suite_runs(
    db: Database,
) -> None:
    # A batch counting runs off their suite runs keeps those rows locked until it commits: a
    # second one would wait for it. While it is in flight, the other flusher takes only the
    # checkpoints queued behind it; the writes that may lock a suite run wait their turn.
    gate = asyncio.Event()

    async def completing(repo: RunRepository) -> str:
        await gate.wait()
        return "first"

    outcome = StepOutcome(status=StepStatus.PASSED, started_at=time.time(), duration_ms=1.0)
    lost = Checkpoint(-1, "worker-a", 1, None, step(0, "a"), outcome, {})  # no such run
    async with GroupCommitter(db.pool) as committer:
        first = asyncio.create_task(committer.submit(completing))
        await asyncio.sleep(0)  # a flusher takes it
        later = asyncio.create_task(committer.submit(answer))
        assert await asyncio.wait_for(committer.checkpoint(lost), 5) is False  # not held
        assert not later.done()  # left queued while the first may hold suite run rows
        gate.set()
        assert await first == "first"
        assert await later == 42
