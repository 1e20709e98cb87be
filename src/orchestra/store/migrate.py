"""Schema migrations through Alembic, applied on first use and by `orchestra db upgrade`.

Alembic and SQLAlchemy are imported only to migrate: a schema already at head is recognised
with psycopg alone (`orchestra.store.revision`), which every command does on start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING

import psycopg

from orchestra.errors import DatabaseUnreachable
from orchestra.store.revision import current_revision, head_revision, known_revisions

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

# Serializes concurrent upgrades: two commands starting at once must not both migrate.
_LOCK_KEY = 0x0C4E57A
_LOCK_POLL_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    current: str | None
    head: str
    known: bool = True  # False: a revision this Orchestra has no migration for (a newer one's)

    @property
    def is_current(self) -> bool:
        return self.current == self.head

    @property
    def state(self) -> str:
        """current | empty (made on first use) | behind (upgraded on first use) | unknown"""
        if self.is_current:
            return "current"
        if self.current is None:
            return "empty"
        return "behind" if self.known else "unknown"


def upgrade(url: str) -> SchemaStatus:
    """Bring the schema to head; a no-op when it is already there."""
    known = _status_without_alembic(url)
    if known is not None and known.is_current:
        return known
    from alembic import command
    from sqlalchemy import text

    with _connect(url) as conn:
        _lock(conn)
        try:
            config = _config(conn)
            current = _current(conn)
            conn.commit()  # Alembic opens each migration's transaction: one may build outside any
            if current != _head(config):
                command.upgrade(config, "head")
                conn.commit()
            return SchemaStatus(current=_current(conn), head=_head(config))
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
            conn.commit()


def _lock(conn: Connection) -> None:
    """Take the upgrade lock, waiting for it between transactions rather than in one: an index
    built concurrently (`CREATE INDEX CONCURRENTLY`) by the upgrade holding the lock waits for
    every transaction older than it, and a transaction waiting for the lock would wait for that
    upgrade in turn, a deadlock PostgreSQL breaks by failing one of them."""
    from sqlalchemy import text

    while True:
        taken = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _LOCK_KEY})
        held = bool(taken.scalar())
        conn.commit()
        if held:
            return
        time.sleep(_LOCK_POLL_SECONDS)


def status(url: str) -> SchemaStatus:
    known = _status_without_alembic(url)
    if known is not None:
        return known
    with _connect(url) as conn:
        config = _config(conn)
        current = _current(conn)
        return SchemaStatus(current=current, head=_head(config), known=_known(config, current))


def _status_without_alembic(url: str) -> SchemaStatus | None:
    head = head_revision()
    if head is None:
        return None
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            current = current_revision(conn)
    except (psycopg.Error, ValueError) as exc:
        raise unreachable(url, exc) from exc
    known = current is None or current in known_revisions()
    return SchemaStatus(current=current, head=head, known=known)


def _connect(url: str) -> Connection:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    try:
        # psycopg parses the URL (or key=value string) itself; SQLAlchemy only drives it
        engine = create_engine(
            "postgresql+psycopg://", creator=lambda: psycopg.connect(url), poolclass=NullPool
        )
        return engine.connect()
    except (SQLAlchemyError, psycopg.Error, ValueError) as exc:
        raise unreachable(url, exc) from exc


def unreachable(url: str, exc: Exception) -> DatabaseUnreachable:
    """The error of a server that refused or could not take a connection, the URL redacted."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return DatabaseUnreachable(f"cannot connect to PostgreSQL at {redact_url(url)}: {reason}")


def redact_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "(an unparsable URL)"
    if info.get("password"):
        info["password"] = "***"
    return psycopg.conninfo.make_conninfo("", **info)


def _config(conn: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("orchestra.store") / "migrations"))
    config.attributes["connection"] = conn
    return config


def _current(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def _known(config: Config, revision: str | None) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    if revision is None:
        return True
    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except CommandError:
        return False


def _head(config: Config) -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None, "the migrations folder has no revision"
    return head
