"""The named SQL queries of `store/sql/*.sql`, each file parsed by aiosql when first needed.

Repositories execute them through psycopg themselves (rows as dicts), so aiosql only parses the
files: `sql("claim_runs")` is the text of `-- name: claim_runs` with `%(param)s` placeholders.
A command parses only the files holding the queries it runs (parsing them all costs more than
some commands' whole work).
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from typing import Any, LiteralString, cast

import aiosql

# `-- name: claim_runs`, `-- name: insert_process<!`: aiosql's names, with any suffix left out
_NAME = re.compile(r"^--\s*name:\s*([\w-]+)", re.MULTILINE)


@cache
def _files_by_query() -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in (files("orchestra.store") / "sql").iterdir():
        if entry.name.endswith(".sql"):
            for name in _NAME.findall(entry.read_text(encoding="utf-8")):
                found[name.replace("-", "_")] = str(entry)
    return found


@cache
def _queries(path: str) -> Any:
    return aiosql.from_path(path, "apsycopg", mandatory_parameters=False)


@cache
def sql(name: str) -> LiteralString:
    try:
        text = getattr(_queries(_files_by_query()[name]), name).sql
    except (KeyError, AttributeError):
        raise KeyError(f"no SQL query named {name!r} in orchestra/store/sql") from None
    return cast(LiteralString, text)
