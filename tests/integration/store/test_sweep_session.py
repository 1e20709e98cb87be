"""A sweeper's session: one sweeper at a time, and a failed step told from a lost connection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from orchestra.errors import StatementRefused, StoreError
from orchestra.store.database import Database
from orchestra.store.runs import RunRepository
from orchestra.store.sweeps import SweepSession


async def test_one_session_at_a_time_holds_the_sweep_lock(db: Database) -> None:
    async with db.pool.connection() as first, db.pool.connection() as second:
        one, other = SweepSession(first), SweepSession(second)
        assert await one.try_lock()
        assert not await other.try_lock()
        await one.unlock()
        assert await other.try_lock()
        await other.unlock()


async def cancelled_once_sent(statement: Callable[[], Coroutine[Any, Any, object]]) -> None:
    """`statement` cancelled once its query is on the wire, as a stopping worker cancels a
    sweep mid-pass."""
    task = asyncio.create_task(statement())
    await asyncio.sleep(0)  # the task sends its query and waits for the answer
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("cancelled", ["try_lock", "unlock"])
async def test_a_cancelled_lock_or_unlock_gives_the_lock_back_and_keeps_the_connection(
    db: Database, caplog: pytest.LogCaptureFixture, cancelled: str
) -> None:
    async with db.pool.connection() as conn, db.pool.connection() as other:
        session = SweepSession(conn)
        if cancelled == "unlock":
            assert await session.try_lock()
        await cancelled_once_sent(getattr(session, cancelled))
        assert not conn.closed
        assert await SweepSession(other).try_lock()  # the lock is free
        await SweepSession(other).unlock()
    # the connection went back to its pool open: no "discarding closed connection"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_step_refused_with_the_connection_up_is_a_statement_refused(
    db: Database,
) -> None:
    async def undefined(runs: RunRepository) -> None:
        await runs.conn.execute("SELECT no_such_column FROM test_run")

    async with db.pool.connection() as conn:
        session = SweepSession(conn)
        with pytest.raises(StatementRefused, match="no_such_column"):
            await session.step(undefined)
        assert await session.step(lambda runs: runs.reap_stuck()) == []  # the pass goes on


async def test_a_step_on_a_lost_connection_is_a_store_error_not_a_refusal(db: Database) -> None:
    async with db.pool.connection() as conn:
        session = SweepSession(conn)
        await conn.close()
        with pytest.raises(StoreError, match="unreachable") as raised:
            await session.step(lambda runs: runs.reap_stuck())
    assert not isinstance(raised.value, StatementRefused)
