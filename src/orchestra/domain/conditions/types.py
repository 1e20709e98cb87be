"""The type of each variable, inferred from what the conditions compare it with."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum

from orchestra.domain.conditions.tree import Const, Expr, Op, Value, Var, comparisons


class Kind(StrEnum):
    BOOL = "bool"
    INT = "int"
    REAL = "real"
    STR = "str"
    DATE = "date"
    DATETIME = "datetime"


def kind_of(value: Value) -> Kind | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return Kind.BOOL
    if isinstance(value, int):
        return Kind.INT
    if isinstance(value, float):
        return Kind.REAL
    if isinstance(value, datetime):  # before date: a datetime is a date too
        return Kind.DATETIME
    if isinstance(value, date):
        return Kind.DATE
    return Kind.STR


def infer_kinds(exprs: Iterable[Expr]) -> dict[Var, Kind]:
    """Each variable's kind: that of the constants it is compared with (a real number makes
    an integer variable real), shared along `a = b` (as being ordered is); one compared with
    no constant (only tested for null, say) is a string."""
    seen: dict[Var, set[Kind]] = {}
    pairs: list[tuple[Var, Var]] = []
    ordered: set[Var] = set()  # compared with <, <=, > or >=: a number unless a constant says
    for expr in exprs:
        for compare in comparisons(expr):
            left, right = compare.left, compare.right
            if isinstance(left, Var) and isinstance(right, Var):
                pairs.append((left, right))
            if compare.op in _ORDERINGS:
                ordered.update(side for side in (left, right) if isinstance(side, Var))
            for var, other in ((left, right), (right, left)):
                if isinstance(var, Var):
                    kinds = seen.setdefault(var, set())
                    if isinstance(other, Const) and (kind := kind_of(other.value)) is not None:
                        kinds.add(kind)
    for _ in range(len(pairs)):
        for a, b in pairs:
            merged = seen[a] | seen[b]
            seen[a], seen[b] = merged, set(merged)
            if a in ordered or b in ordered:  # `a = b` and `a <= 1`: both are numbers
                ordered.update((a, b))
    return {
        var: _pick(kinds or ({Kind.INT} if var in ordered else set()))
        for var, kinds in seen.items()
    }


_ORDERINGS = frozenset({Op.LT, Op.LE, Op.GT, Op.GE})


def _pick(kinds: set[Kind]) -> Kind:
    if Kind.REAL in kinds:
        return Kind.REAL
    for kind in (Kind.DATETIME, Kind.DATE, Kind.INT, Kind.STR, Kind.BOOL):
        if kind in kinds:
            return kind
    return Kind.STR
