"""A condition's truth for given values, with the solver's semantics (no z3).

A null (absent) variable equals only null; ordering a null, or values of different kinds, is
false; `!=` is the negation of `==`. A string compared with a number or a boolean is read as
one when it spells one (`"1500"`, `"true"`): a CSV data set's values are strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from orchestra.domain.conditions.tree import (
    And,
    Compare,
    Const,
    Expr,
    Literal,
    Not,
    Op,
    Or,
    Value,
    Var,
)


def holds(expr: Expr, values: Mapping[str, Any]) -> bool:
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, And):
        return all(holds(item, values) for item in expr.items)
    if isinstance(expr, Or):
        return any(holds(item, values) for item in expr.items)
    if isinstance(expr, Not):
        return not holds(expr.item, values)
    return _compare(expr, values)


def value_of(var: Var, values: Mapping[str, Any]) -> Any:
    """The value at the variable's path; None when a part of it is missing."""
    here: Any = values
    for part in var.path:
        if not isinstance(here, Mapping) or part not in here:
            return None
        here = here[part]
    return here


def _compare(expr: Compare, values: Mapping[str, Any]) -> bool:
    if expr.op is Op.NE:
        return not _compare(Compare(Op.EQ, expr.left, expr.right), values)
    left, right = _operand(expr.left, values), _operand(expr.right, values)
    left, right = _coerced(left, right), _coerced(right, left)
    if left is None or right is None:
        return expr.op is Op.EQ and left is None and right is None
    if _family(left) != _family(right) or _family(left) == "other":
        return False
    if expr.op is Op.EQ:
        return bool(left == right)
    if isinstance(left, bool):
        return False
    if expr.op is Op.LT:
        return bool(left < right)
    if expr.op is Op.LE:
        return bool(left <= right)
    if expr.op is Op.GT:
        return bool(left > right)
    return bool(left >= right)


def _operand(operand: Var | Const, values: Mapping[str, Any]) -> Any:
    return operand.value if isinstance(operand, Const) else value_of(operand, values)


def _coerced(value: Any, other: Any) -> Any:
    """`value` read as `other`'s kind when it is a string spelling one."""
    if not isinstance(value, str) or isinstance(other, str) or other is None:
        return value
    if isinstance(other, bool):
        lowered = value.strip().lower()
        return {"true": True, "false": False}.get(lowered, value)
    if isinstance(other, int | float):
        return _number(value)
    if isinstance(other, date):
        return _temporal(value, isinstance(other, datetime))
    return value


def _temporal(text: str, timed: bool) -> Any:
    try:
        if not timed:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _number(text: str) -> Value:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if number == number and abs(number) != float("inf") else text


def _family(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    return "other"
