"""Python conditions (SpiffWorkflow) into the expression tree, read with `ast`, never run."""

from __future__ import annotations

import ast

from orchestra.domain.conditions.errors import NotUnderstood
from orchestra.domain.conditions.tree import (
    And,
    Compare,
    Const,
    Expr,
    Literal,
    Not,
    Op,
    Operand,
    Or,
    Var,
    truthy,
)

_OPS: dict[type[ast.cmpop], Op] = {
    ast.Eq: Op.EQ, ast.NotEq: Op.NE, ast.Lt: Op.LT, ast.LtE: Op.LE, ast.Gt: Op.GT,
    ast.GtE: Op.GE, ast.Is: Op.EQ, ast.IsNot: Op.NE,
}  # fmt: skip


def parse_python(text: str) -> Expr:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise NotUnderstood(f"not a Python expression: {exc.msg}", exc.offset) from None
    return _expr(tree.body)


def _expr(node: ast.expr) -> Expr:
    if isinstance(node, ast.BoolOp):
        items = tuple(_expr(value) for value in node.values)
        return And(items) if isinstance(node.op, ast.And) else Or(items)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return Not(_expr(node.operand))
    if isinstance(node, ast.Compare):
        return _chain(node)
    operand = _operand(node)
    if isinstance(operand, Var):
        return truthy(operand)
    if isinstance(operand.value, bool):
        return Literal(operand.value)
    raise _refused(node, "a constant that is not a condition")


def _chain(node: ast.Compare) -> Expr:
    """`a < b < c` is `a < b and b < c`."""
    parts: list[Expr] = []
    left = node.left
    for op, right in zip(node.ops, node.comparators, strict=True):
        parts.append(_one(op, left, right))
        left = right
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _one(op: ast.cmpop, left: ast.expr, right: ast.expr) -> Expr:
    if isinstance(op, ast.In | ast.NotIn):
        if not isinstance(right, ast.List | ast.Tuple | ast.Set) or not right.elts:
            raise _refused(right, "`in` takes a list of constants here")
        subject = _operand(left)
        member = Or(tuple(_compare(Op.EQ, subject, _operand(item)) for item in right.elts))
        return member if isinstance(op, ast.In) else Not(member)
    kind = _OPS.get(type(op))
    if kind is None:
        raise _refused(left, f"the operator {type(op).__name__}")
    return _compare(kind, _operand(left), _operand(right))


def _compare(op: Op, left: Operand, right: Operand) -> Compare:
    if isinstance(left, Const) and isinstance(right, Var):
        return Compare(op.mirrored(), right, left)
    return Compare(op, left, right)


def _operand(node: ast.expr) -> Operand:
    if isinstance(node, ast.Constant) and (
        node.value is None or isinstance(node.value, bool | int | float | str)
    ):
        return Const(node.value)
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
        and not isinstance(node.operand.value, bool)
    ):
        return Const(-node.operand.value)
    path = _path(node)
    if path is None:
        raise _refused(node, f"a {type(node).__name__}")
    return Var(path)


def _path(node: ast.expr) -> tuple[str, ...] | None:
    """`order.total` and `order["total"]` are both the path ("order", "total")."""
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        head = _path(node.value)
        return None if head is None else (*head, node.attr)
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        head = _path(node.value)
        return None if head is None else (*head, node.slice.value)
    return None


def _refused(node: ast.expr, what: str) -> NotUnderstood:
    return NotUnderstood(f"{what} is outside the subset", node.col_offset)
