"""A sweeper's session: one sweeper at a time, and a failed step told from a lost connection."""

from __future__ import annotations

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
