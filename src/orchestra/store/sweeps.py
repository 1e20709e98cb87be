"""A sweeper's door to PostgreSQL: one session (a connection held for the pass) that takes
the sweep lock, and runs each step of the pass on its own.

One worker at a time sweeps: an advisory lock held by its session for the pass (no
correctness depends on it: a second sweeper would only repeat the work). Each step of a pass
is a transaction of its own; one that fails while the connection stays up (a deadlock, a
refused value) leaves as `StatementRefused`, for the pass to log and go on; a connection lost
leaves as `StoreError`, which ends the pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg

from orchestra.errors import StatementRefused, StoreError
from orchestra.store.base import Connection
from orchestra.store.failures import failure
from orchestra.store.runs import RunRepository

T = TypeVar("T")
_SWEEP_LOCK = 0x5EE9


class SweepSession:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.runs = RunRepository(conn)

    async def try_lock(self) -> bool:
        """Take the sweep lock unless another session holds it: whether this one sweeps.
        Cancelled, the lock may have been taken all the same: it is given back."""
        try:
            return await self._guarded(self._lock, transaction=False)
        except asyncio.CancelledError:
            await self._release()
            raise

    async def unlock(self) -> None:
        """Give the lock back before the connection goes back to its pool, so that no pooled
        session keeps it and stops every later sweep."""
        try:
            await self._conn.execute("SELECT pg_advisory_unlock(%s)", (_SWEEP_LOCK,))
        except psycopg.Error:
            await self._conn.close()
        except asyncio.CancelledError:
            await self._release()
            raise

    async def _release(self) -> None:
        """After a cancelled statement (a worker stopping mid-pass), which psycopg cancelled in
        the server and so left the connection idle, whether or not it ran: the lock is given
        back if held (an unlock of a lock not held would warn), on the same connection, which
        goes back to its pool as any other. Should that fail or be cancelled in turn (the
        server gone: the lock went with the session), the connection is closed; its pool
        discards it, with a warning."""
        try:
            await self._conn.execute("SELECT pg_advisory_unlock_all()")
        except (psycopg.Error, asyncio.CancelledError):
            await self._conn.close()

    async def step(
        self, operation: Callable[[RunRepository], Awaitable[T]], *, transaction: bool = True
    ) -> T:
        """`operation` in a transaction of its own (or in autocommit, for one statement)."""
        return await self._guarded(operation, transaction=transaction)

    async def _guarded(
        self, operation: Callable[[RunRepository], Awaitable[T]], *, transaction: bool
    ) -> T:
        try:
            if not transaction:
                return await operation(self.runs)
            async with self._conn.transaction():
                return await operation(self.runs)
        except psycopg.Error as exc:
            if self._conn.broken or self._conn.closed:
                raise StoreError(f"PostgreSQL is unreachable: {exc}") from exc
            wrapped = failure(exc)
            raise StatementRefused(wrapped.message, details=wrapped.details) from exc

    @staticmethod
    async def _lock(runs: RunRepository) -> bool:
        cursor = await runs.conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (_SWEEP_LOCK,))
        row = await cursor.fetchone()
        return row is not None and bool(row["ok"])
