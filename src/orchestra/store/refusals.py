"""Values the store refuses, named: driver data errors become `ValueRefused` at the edge.

PostgreSQL (or psycopg, before sending) refuses some values a user can type: a NUL character
in text, NaN or Infinity in JSON, a number out of range for its column, a key too long for its
index. Those are the user's input, not a failing store, so they must read as such at both edges
(exit 1, HTTP 422) without the CLI or the API knowing psycopg.

Two steps, because the worker shares the repositories and handles driver errors itself:

- a repository `mark`s a refused statement's error with the statement's name and the parameters
  that hold a suspect value, leaving the error's type as it is;
- `Database.connection()` (hence every unit of work) turns a marked or unmarked refusal into
  `ValueRefused(...) from exc`, once the transaction has rolled back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from orchestra.errors import ValueRefused

# What a refused value raises: SQLSTATE class 22 (data exception), psycopg's own refusals (a
# NUL in text), and class 54 (a value too big: an index row, a jsonb array).
REFUSALS = (psycopg.DataError, psycopg.errors.ProgramLimitExceeded)

_INT4 = range(-(2**31), 2**31)
_ATTRIBUTE = "orchestra_refusal"


@dataclass(frozen=True, slots=True)
class Refusal:
    statement: str
    suspects: dict[str, str]  # parameter -> why its value may be the refused one


def mark(exc: psycopg.Error, statement: str, params: Iterable[Mapping[str, Any]]) -> None:
    """Attach the statement's name and its suspect parameters to `exc` (its type unchanged)."""
    suspects: dict[str, str] = {}
    for row in params:
        for name, value in row.items():
            why = suspect(value)
            if why is not None:
                suspects.setdefault(name, why)
    setattr(exc, _ATTRIBUTE, Refusal(statement, suspects))


def refused(exc: psycopg.Error) -> ValueRefused:
    """The `ValueRefused` to raise from `exc`, naming what was refused as well as it is known."""
    refusal: Refusal | None = getattr(exc, _ATTRIBUTE, None)
    what = "a value"
    details: dict[str, Any] = {}
    if refusal is not None:
        if refusal.suspects:
            what = " and ".join(f"`{name}` ({why})" for name, why in refusal.suspects.items())
            details["parameters"] = sorted(refusal.suspects)
        what = f"{what} in {refusal.statement}"
        details["statement"] = refusal.statement
    if exc.sqlstate:
        details["sqlstate"] = exc.sqlstate
    return ValueRefused(f"PostgreSQL refused {what}: {reason(exc)}", details=details)


def refused_before_sending(statement: str, row: Mapping[str, Any]) -> ValueRefused:
    """The `ValueRefused` for a row of JSON values PostgreSQL would refuse, named as `refused`
    names a refusal, for rows made into JSON text before any statement is sent."""
    suspects = {name: why for name, value in row.items() if (why := _json_suspect(value))}
    what = " and ".join(f"`{name}` ({why})" for name, why in suspects.items()) or "a value"
    details = {"statement": statement, "parameters": sorted(suspects)}
    return ValueRefused(
        f"PostgreSQL refused {what} in {statement}: JSON holds no NaN or Infinity",
        details=details,
    )


def reason(exc: psycopg.Error) -> str:
    primary = exc.diag.message_primary
    if not primary:  # refused by psycopg itself, before sending
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    detail = exc.diag.message_detail
    return f"{primary} ({detail})" if detail else primary


def suspect(value: Any) -> str | None:
    """Why `value` may be what PostgreSQL refused, or None when it looks storable."""
    if isinstance(value, Jsonb):
        return _json_suspect(value.obj)
    if isinstance(value, str):
        return "a NUL character" if "\x00" in value else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if value in _INT4 else f"{value}, a large number"
    if isinstance(value, list | tuple):
        return _first(suspect(v) for v in value)
    return None


def _json_suspect(value: Any) -> str | None:
    """In JSON only a number can be refused (`database.json_dumps` replaces NUL characters and
    lone surrogates)."""
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value!r}, which JSON cannot hold"
    if isinstance(value, Mapping):
        return _first(_json_suspect(v) for v in value.values())
    if isinstance(value, list | tuple):
        return _first(_json_suspect(v) for v in value)
    return None


def _first(reasons: Iterable[str | None]) -> str | None:
    return next((why for why in reasons if why is not None), None)
