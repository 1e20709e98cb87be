"""The named SQL queries of `store/sql/*.sql`, loaded once by aiosql.

Repositories execute them through psycopg themselves (rows as dicts), so aiosql only parses the
files: `sql("claim_runs")` is the text of `-- name: claim_runs` with `%(param)s` placeholders.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any, LiteralString, cast

import aiosql


@cache
def _queries() -> Any:
    return aiosql.from_path(
        str(files("orchestra.store") / "sql"), "apsycopg", mandatory_parameters=False
    )


@cache
def sql(name: str) -> LiteralString:
    try:
        text = getattr(_queries(), name).sql
    except AttributeError:
        raise KeyError(f"no SQL query named {name!r} in orchestra/store/sql") from None
    return cast(LiteralString, text)
