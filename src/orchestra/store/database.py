"""The connection to PostgreSQL: which server, a bounded async pool, transactions.

`open_database(settings)` picks the server (`ORCHESTRA_DATABASE_URL`, or the embedded one under
`ORCHESTRA_HOME`), brings the schema to head and opens a small pool. `db.transaction()` yields
a `UnitOfWork` whose repositories share one transaction, committed when the block exits, rolled
back when it raises; a value PostgreSQL refuses (NUL, NaN, out of range) raises `ValueRefused`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Self, cast

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import AsyncConnectionPool

from orchestra.config import Settings
from orchestra.errors import DatabaseUnreachable
from orchestra.store import migrate
from orchestra.store.base import CONFLICTS, Connection
from orchestra.store.failures import failure
from orchestra.store.jsontext import json_dumps, json_loads
from orchestra.store.migrate import redact_url
from orchestra.store.refusals import REFUSALS
from orchestra.store.repositories import UnitOfWork
from orchestra.store.revision import head_revision, recorded_revision


@dataclass(frozen=True, slots=True)
class ServerInfo:
    url: str
    embedded: bool


async def resolve_server(settings: Settings) -> ServerInfo:
    if settings.database_url:
        return ServerInfo(url=settings.database_url, embedded=False)
    from orchestra.store.embedded import embedded_database_url  # its server's own files

    url = await asyncio.to_thread(embedded_database_url, settings.home)
    return ServerInfo(url=url, embedded=True)


class Database:
    def __init__(self, pool: AsyncConnectionPool[Connection], server: ServerInfo) -> None:
        self.pool = pool
        self.server = server

    @asynccontextmanager
    async def connection(self, *, wait_seconds: float | None = None) -> AsyncIterator[Connection]:
        """A pooled connection; a value PostgreSQL refuses in the block leaves it as
        `ValueRefused` (the user's input), a deadlock with a concurrent transaction as
        `Conflict` (rolled back, worth trying again), a lost server as `StoreError`, and so
        does no connection within `wait_seconds` (the pool's 30 by default)."""
        try:
            async with self.pool.connection(timeout=wait_seconds) as conn:
                yield conn
        except (*REFUSALS, *CONFLICTS, psycopg.OperationalError) as exc:
            raise failure(exc) from exc  # worded in `store.failures`

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        async with self.connection() as conn, conn.transaction():
            yield UnitOfWork(conn)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[UnitOfWork]:
        """Repositories for reads, each statement on its own (autocommit): no BEGIN and COMMIT
        round trips. Its statements share no snapshot, nor would they in a transaction (read
        committed); a use case needing one reads in one statement, or in a transaction."""
        async with self.connection() as conn:
            yield UnitOfWork(conn)


@asynccontextmanager
async def open_database(
    settings: Settings, *, max_size: int = 4, min_size: int = 1, upgrade: bool = True
) -> AsyncIterator[Database]:
    server = await resolve_server(settings)
    async with connect_pool(
        server.url, max_size=max_size, min_size=min_size, upgrade=upgrade
    ) as pool:
        yield Database(pool, server)


@asynccontextmanager
async def connect_pool(
    url: str, *, max_size: int = 4, min_size: int = 1, upgrade: bool = True
) -> AsyncIterator[AsyncConnectionPool[Connection]]:
    """A pool of up to `max_size` connections, open once its first one is; the others up to
    `min_size` are opened at once in the background, while the caller goes on. A pool grows one
    connection at a time, when a client finds none free: a command whose workers will need
    several (its committer's flushers, the claim, the environment's look-up) opens them before
    its runs start rather than having them wait for each in turn."""
    kwargs: dict[str, Any] = {
        "row_factory": dict_row,
        "autocommit": True,
        "prepare_threshold": PREPARE_THRESHOLD,
        "options": session_options(url),
    }
    first = await _upgraded(url, kwargs) if upgrade else None
    pool = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        kwargs=kwargs,
        connection_class=_handing_over(first),
        open=False,
        reconnect_timeout=30,
        configure=_configure,
    )
    try:
        await pool.open(wait=True, timeout=15)
    except BaseException as exc:  # psycopg.Error, psycopg_pool.PoolTimeout; or cancelled
        await pool.close()
        if first is not None:  # not taken by the pool, or closed with it
            await first.close()
        if not isinstance(exc, Exception):
            raise
        raise DatabaseUnreachable(
            f"cannot connect to PostgreSQL at {redact_url(url)}: {exc}"
        ) from exc
    try:
        if min_size > 1:  # not waited for: the pool's workers open them concurrently
            await pool.resize(min_size=min(min_size, max_size), max_size=max_size)
        yield pool
    finally:
        await pool.close()


# A statement is prepared (planned once, kept by its connection) at its second execution on a
# connection: one executed once, as most of a command's start-up is, would pay a round trip
# more for nothing (psycopg waits for the Parse before it binds).
PREPARE_THRESHOLD = 1
# Set at connection start-up (no round trip), and what RESET ALL or DISCARD ALL return to:
# - timestamps come back in UTC whatever the server's zone (an embedded server takes the
#   machine's), so every interface writes them with `Z`;
# - a prepared statement is planned for any parameters (a generic plan), once, not for each
#   execution's values (five custom plans, then whichever PostgreSQL guesses cheaper): our
#   statements find rows by key or walk a partial index whatever their values. A statement
#   whose best plan depends on its values (optional filters) is sent with them as literals
#   (`Repository._filtered`), and planned for them.
SESSION_SETTINGS = "-c TimeZone=UTC -c plan_cache_mode=force_generic_plan"


def session_options(url: str) -> str:
    """The `options` of our connections: the URL's (or PGOPTIONS'), then ours, which win."""
    try:
        given = psycopg.conninfo.conninfo_to_dict(url).get("options")
    except psycopg.Error:  # not a URL: connecting says so
        given = None
    given = given or os.environ.get("PGOPTIONS")
    return f"{given} {SESSION_SETTINGS}" if given else SESSION_SETTINGS


async def _configure(conn: Connection) -> None:
    set_json_dumps(json_dumps, conn)
    set_json_loads(json_loads, conn)


async def _upgraded(url: str, kwargs: dict[str, Any]) -> Connection:
    """A connection to the server, its schema brought to head: checked on this connection,
    which the pool then takes as its first (one backend started, not two), migrated on another
    (Alembic's, in a thread) when behind. Unreachable, it fails at once rather than after the
    pool's retries."""
    try:
        conn = await psycopg.AsyncConnection[DictRow].connect(url, **kwargs)
    except (psycopg.Error, ValueError) as exc:
        raise migrate.unreachable(url, exc) from exc
    try:
        head = head_revision()
        current = None if head is None else await recorded_revision(conn)
        if head is None or current != head:
            await asyncio.to_thread(migrate.upgrade, url)
    except psycopg.Error as exc:
        await conn.close()
        raise migrate.unreachable(url, exc) from exc
    except BaseException:
        await conn.close()
        raise
    return conn


def _handing_over(first: Connection | None) -> type[Connection]:
    """The pool's connection class: its first connection is `first` when given (the one the
    schema was checked on), the others are new."""
    handed = [first] if first is not None else []

    class PoolConnection(psycopg.AsyncConnection[DictRow]):
        @classmethod
        async def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
            if handed:
                return cast(Self, handed.pop())
            return await super().connect(conninfo, **kwargs)

    return PoolConnection
