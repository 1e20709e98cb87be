"""The schema's revision, read without Alembic: every command checks it, few need to migrate.

The head is read from the migration files' `revision` and `down_revision` lines, the current
revision from the `alembic_version` table with psycopg. Anything unusual (a branch, a file
this parser does not understand) answers None, and the caller asks Alembic instead.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from typing import Any

import psycopg

_ASSIGNMENT = re.compile(r"""^(revision|down_revision)\s*=\s*(None|"[^"]*"|'[^']*')\s*$""", re.M)


@cache
def head_revision() -> str | None:
    """The one revision no migration revises, or None when that is not plain to see."""
    revisions: set[str] = set()
    revised: set[str] = set()
    versions = files("orchestra.store") / "migrations" / "versions"
    for entry in versions.iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("__"):
            continue
        found = dict(_ASSIGNMENT.findall(entry.read_text(encoding="utf-8")))
        if "revision" not in found or "down_revision" not in found:
            return None
        revisions.add(found["revision"].strip("\"'"))
        if found["down_revision"] != "None":
            revised.add(found["down_revision"].strip("\"'"))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def current_revision(conn: psycopg.Connection[Any]) -> str | None:
    """The revision recorded in the database; None before the first migration or when the
    database records more than one (branches: Alembic's business)."""
    exists = conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return None
    rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    return str(rows[0][0]) if len(rows) == 1 else None
