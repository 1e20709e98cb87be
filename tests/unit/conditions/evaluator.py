"""An evaluator of condition trees written apart from the solver, to check its answers.

A null variable equals only null; ordering a null, or values of different kinds (booleans,
numbers, strings), is false; `!=` is not `==`."""

from __future__ import annotations

from typing import Any

from orchestra.domain.conditions import And, Compare, Const, Expr, Literal, Not, Op, Or, Var


def holds(expr: Expr, values: dict[str, Any]) -> bool:
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, And):
        return all(holds(item, values) for item in expr.items)
    if isinstance(expr, Or):
        return any(holds(item, values) for item in expr.items)
    if isinstance(expr, Not):
        return not holds(expr.item, values)
    return _compare(expr, values)


def _compare(expr: Compare, values: dict[str, Any]) -> bool:
    left, right = _value(expr.left, values), _value(expr.right, values)
    if expr.op is Op.NE:
        return not _compare(Compare(Op.EQ, expr.left, expr.right), values)
    if left is None or right is None:
        return expr.op is Op.EQ and left is None and right is None
    if _family(left) != _family(right):
        return False
    if expr.op is Op.EQ:
        return bool(left == right)
    if isinstance(left, bool):
        return False
    return bool(
        {
            Op.LT: left < right,
            Op.LE: left <= right,
            Op.GT: left > right,
            Op.GE: left >= right,
        }[expr.op]
    )


def _family(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _value(operand: Var | Const, values: dict[str, Any]) -> Any:
    if isinstance(operand, Const):
        return operand.value
    here: Any = values
    for part in operand.path:
        if not isinstance(here, dict) or part not in here:
            return None
        here = here[part]
    return here
