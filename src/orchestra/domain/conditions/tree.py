"""One small typed expression tree for the condition expressions of every language.

Parsers (FEEL, JUEL/EL, Python) read a condition into these nodes; the solver turns them into
constraints. `Compare` with a `None` constant is a null test: `x is null`, `x == null`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

# a FEEL `date("2024-01-01")` is a date, `date and time("2024-01-01T10:00:00")` a datetime
Value = bool | int | float | str | date | datetime | None


class Op(StrEnum):
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="

    def negated(self) -> Op:
        return _NEGATED[self]

    def mirrored(self) -> Op:
        """The operator with its operands swapped: `1 < x` is `x > 1`."""
        return _MIRRORED[self]


_NEGATED = {Op.EQ: Op.NE, Op.NE: Op.EQ, Op.LT: Op.GE, Op.LE: Op.GT, Op.GT: Op.LE, Op.GE: Op.LT}
_MIRRORED = {Op.EQ: Op.EQ, Op.NE: Op.NE, Op.LT: Op.GT, Op.LE: Op.GE, Op.GT: Op.LT, Op.GE: Op.LE}


@dataclass(frozen=True)
class Var:
    """A process variable, or a path into one: `order.total` is ("order", "total")."""

    path: tuple[str, ...]

    @property
    def name(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Const:
    value: Value


Operand = Var | Const


@dataclass(frozen=True)
class Compare:
    op: Op
    left: Operand
    right: Operand


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    item: Expr


@dataclass(frozen=True)
class Literal:
    """A condition that is a constant: `true`, `${false}`."""

    value: bool


Expr = Compare | And | Or | Not | Literal


def truthy(var: Var) -> Compare:
    """A variable standing alone as a condition: true when it holds `true`."""
    return Compare(Op.EQ, var, Const(True))


def variables(expr: Expr) -> list[Var]:
    """The variables of `expr`, each once, in order of appearance."""
    found: dict[Var, None] = {}
    for compare in comparisons(expr):
        for side in (compare.left, compare.right):
            if isinstance(side, Var):
                found.setdefault(side)
    return list(found)


def comparisons(expr: Expr) -> Iterator[Compare]:
    """The comparisons of `expr`, in order of appearance, under any `and`, `or` and `not`."""
    if isinstance(expr, Compare):
        yield expr
    elif isinstance(expr, And | Or):
        for item in expr.items:
            yield from comparisons(item)
    elif isinstance(expr, Not):
        yield from comparisons(expr.item)
