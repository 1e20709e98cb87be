"""What every repository shares: one connection, named queries, rows as dicts.

A statement PostgreSQL refuses for a value (see `store.refusals`) leaves here as the driver
raised it, marked with the statement's name and its suspect parameters: the unit of work turns
it into `ValueRefused`, and the worker, which uses repositories outside one, handles it itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import DictRow

from orchestra.store.queries import sql
from orchestra.store.refusals import REFUSALS, mark

Connection = psycopg.AsyncConnection[DictRow]
# a transaction PostgreSQL rolled back whole for a conflict with a concurrent one: the server
# is there and nothing was changed, so it may be tried again
CONFLICTS = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)


class Repository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def _one(self, query: str, **params: Any) -> DictRow | None:
        cursor = await self._run(query, params)
        return await cursor.fetchone()

    async def _all(
        self, query: str, *, prepare: bool | None = None, **params: Any
    ) -> list[DictRow]:
        """The rows of `query`; with `prepare`, it is prepared at its first execution on the
        connection, not its second (see `store.database`)."""
        cursor = await self._run(query, params, prepare=prepare)
        return await cursor.fetchall()

    async def _execute(self, query: str, **params: Any) -> int:
        cursor = await self._run(query, params)
        return cursor.rowcount

    async def _filtered(self, query: str, **params: Any) -> list[DictRow]:
        """`_all` for a query whose filters may each be NULL (`:x IS NULL OR ...`): sent with
        its values as literals (bound here), so planned for them every time; a generic plan
        (see `store.database`) could not use the index of whichever filter is given, and
        would scan past the others."""
        try:
            async with psycopg.AsyncClientCursor(self.conn) as cursor:
                await cursor.execute(sql(query), params)
                return await cursor.fetchall()
        except REFUSALS as exc:
            mark(exc, query, [params])
            raise

    async def _many(self, query: str, params: Sequence[dict[str, Any]]) -> None:
        """`query` once per item of `params`, in one round trip (pipelined)."""
        try:
            async with self.conn.cursor() as cursor:
                await cursor.executemany(sql(query), params)
        except REFUSALS as exc:
            mark(exc, query, params)
            raise

    async def _run(
        self, query: str, params: dict[str, Any], *, prepare: bool | None = None
    ) -> psycopg.AsyncCursor[DictRow]:
        try:
            return await self.conn.execute(sql(query), params, prepare=prepare)
        except REFUSALS as exc:
            mark(exc, query, [params])
            raise
