"""The query files read as aiosql reads them, without importing it at run time."""

from __future__ import annotations

import subprocess
import sys
from importlib.resources import files

import aiosql
import pytest

from orchestra.store.queries import parse_queries, sql

SQL_DIRECTORY = files("orchestra.store") / "sql"
SQL_FILES = sorted(str(f) for f in SQL_DIRECTORY.iterdir() if f.name.endswith(".sql"))


@pytest.mark.parametrize("path", SQL_FILES)
def test_every_query_reads_as_aiosql_reads_it(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        ours = parse_queries(handle.read())
    theirs = aiosql.from_path(path, "apsycopg", mandatory_parameters=False)
    names = [name for name in theirs.available_queries if not name.endswith("_cursor")]
    assert sorted(ours) == sorted(names)
    for name in names:
        assert ours[name] == getattr(theirs, name).sql, name


def test_parameters_become_placeholders_but_casts_and_quoted_colons_stay() -> None:
    text = (
        "-- name: find^\n-- Find one.\n"
        "SELECT ':not_a_param', \"a:b\", x::jsonb FROM t\n-- a note\nWHERE id = :id;\n"
    )
    assert parse_queries(text) == {
        "find": "SELECT ':not_a_param', \"a:b\", x::jsonb FROM t\nWHERE id = %(id)s;"
    }


def test_a_block_comment_is_refused_rather_than_read_otherwise() -> None:
    with pytest.raises(ValueError, match="block comment"):
        parse_queries("-- name: q\nSELECT 1 /* one */;\n")


def test_reading_a_query_does_not_import_aiosql() -> None:
    code = (
        "import sys\n"
        "from orchestra.store.queries import sql\n"
        "assert sql('claim_runs').lstrip().startswith('WITH')\n"
        "assert 'aiosql' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_unknown_query_is_named() -> None:
    with pytest.raises(KeyError, match="no SQL query named 'nope'"):
        sql("nope")
