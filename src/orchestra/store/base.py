"""What every repository shares: one connection, named queries, rows as dicts."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import DictRow

from orchestra.store.queries import sql

Connection = psycopg.AsyncConnection[DictRow]


class Repository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def _one(self, query: str, **params: Any) -> DictRow | None:
        cursor = await self.conn.execute(sql(query), params)
        return await cursor.fetchone()

    async def _all(self, query: str, **params: Any) -> list[DictRow]:
        cursor = await self.conn.execute(sql(query), params)
        return await cursor.fetchall()

    async def _execute(self, query: str, **params: Any) -> int:
        cursor = await self.conn.execute(sql(query), params)
        return cursor.rowcount
