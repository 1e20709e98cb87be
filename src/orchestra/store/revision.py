"""The schema's revision, read without Alembic: every command checks it, few need to migrate.

The head is read from the migration files' `revision` and `down_revision` lines, the current
revision from the `alembic_version` table with psycopg. Anything unusual (a branch, a file
this parser does not understand) answers None, and the caller asks Alembic instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from typing import Any

import psycopg
from psycopg.rows import tuple_row

# `revision = "0004"`, `down_revision: str | None = "0003"`, `down_revision = None`
_ASSIGNMENT = re.compile(
    r"""^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(None|"[^"\n]*"|'[^'\n]*')\s*(?:#.*)?$""",
    re.MULTILINE,
)


@cache
def _migration_texts() -> tuple[str, ...]:
    versions = files("orchestra.store") / "migrations" / "versions"
    return tuple(
        entry.read_text(encoding="utf-8")
        for entry in versions.iterdir()
        if entry.name.endswith(".py") and not entry.name.startswith("__")
    )


def head_revision() -> str | None:
    """The one revision no migration revises, or None when that is not plain to see."""
    return head_of(_migration_texts())


def known_revisions() -> set[str]:
    """The revisions of this Orchestra's migrations (as far as their files say plainly)."""
    return {
        found["revision"][1:-1]
        for found in map(_assignments, _migration_texts())
        if "revision" in found and found["revision"] != "None"
    }


def _assignments(text: str) -> dict[str, str]:
    return dict(_ASSIGNMENT.findall(text))


def head_of(migrations: Iterable[str]) -> str | None:
    """The head of these migration files' texts; None for a branch or an unreadable file."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for text in migrations:
        found = _assignments(text)
        if "revision" not in found or "down_revision" not in found or found["revision"] == "None":
            return None
        revisions.add(found["revision"][1:-1])
        if found["down_revision"] != "None":
            revised.add(found["down_revision"][1:-1])
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


_TABLE = "SELECT to_regclass('alembic_version') IS NOT NULL"
_RECORDED = "SELECT version_num FROM alembic_version"


def current_revision(conn: psycopg.Connection[Any]) -> str | None:
    """The revision recorded in the database; None before the first migration or when the
    database records more than one (branches: Alembic's business)."""
    exists = conn.execute(_TABLE).fetchone()
    if not exists or not exists[0]:
        return None
    return _one_revision(conn.execute(_RECORDED).fetchall())


async def recorded_revision(conn: psycopg.AsyncConnection[Any]) -> str | None:
    """`current_revision` on the event loop's connection (the one a pool is opened with)."""
    async with conn.cursor(row_factory=tuple_row) as cursor:
        exists = await (await cursor.execute(_TABLE)).fetchone()
        if not exists or not exists[0]:
            return None
        return _one_revision(await (await cursor.execute(_RECORDED)).fetchall())


def _one_revision(rows: list[tuple[Any, ...]]) -> str | None:
    return str(rows[0][0]) if len(rows) == 1 else None
