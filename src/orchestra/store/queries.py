"""The named SQL queries of `store/sql/*.sql`, each file read when first needed.

Repositories execute them through psycopg themselves (rows as dicts): `sql("claim_runs")` is
the text of `-- name: claim_runs` with `%(param)s` placeholders. The files are in aiosql's
format (`-- name: NAME[SUFFIX]`, then comment lines, then the statement with `:param`s), and a
test checks that every query reads here as aiosql reads it; the reading is done here because
aiosql's costs more than some commands' whole work (it scans each file with several regular
expressions and builds a function per query). A command reads only the files holding the
queries it runs.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from typing import LiteralString

# `-- name: claim_runs`, `-- name: insert_process<!`: the names, with any suffix left out
_NAME = re.compile(r"^--\s*name:\s*([\w-]+)", re.MULTILINE)
_QUERY_DEF = re.compile(r"--\s*name\s*:\s*")
_COMMENT_LINE = re.compile(r"\s*--")
# a `:param` outside quotes (not a `::` cast), as aiosql finds it; quoted text is kept as is
_PARAM = re.compile(
    r'(?P<dquote>"(""|[^"])+")|'
    r"(?P<squote>\'(\'\'|[^\'])*\')|"
    r"(?P<lead>[^:]):(?P<var_name>\w+)(?=[^:]?)"
)


@cache
def _files_by_query() -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in (files("orchestra.store") / "sql").iterdir():
        if entry.name.endswith(".sql"):
            for name in _NAME.findall(entry.read_text(encoding="utf-8")):
                found[name.replace("-", "_")] = str(entry)
    return found


@cache
def _queries(path: str) -> dict[str, str]:
    with open(path, encoding="utf-8") as handle:
        return parse_queries(handle.read())


def parse_queries(text: str) -> dict[str, str]:
    """Each query of a file in aiosql's format: its name -> its statement, `%(param)s` style.
    Comment lines are left out; block comments (`/* */`) are not read (none is written)."""
    if "/*" in text:
        raise ValueError("a block comment in a query file: write `--` comments")
    queries: dict[str, str] = {}
    for definition in _QUERY_DEF.split(text)[1:]:
        lines = [line.rstrip() for line in definition.strip().splitlines()]
        name = _NAME_SUFFIX.sub("", lines[0].replace("-", "_"))
        statement = "\n".join(line for line in lines[1:] if not _COMMENT_LINE.match(line))
        queries[name] = _PARAM.sub(_placeholder, statement.strip())
    return queries


_NAME_SUFFIX = re.compile(r"\s*(\^|\$|!|<!|\*!|#)$")


def _placeholder(match: re.Match[str]) -> str:
    if match["dquote"] is not None:
        return match["dquote"]
    if match["squote"] is not None:
        return match["squote"]
    return f"{match['lead']}%({match['var_name']})s"


@cache
def sql(name: str) -> LiteralString:
    try:
        text = _queries(_files_by_query()[name])[name]
    except KeyError:
        raise KeyError(f"no SQL query named {name!r} in orchestra/store/sql") from None
    return text  # the package's own text, as literal as a string in its code
