"""Gateway conditions as data: FEEL, JUEL/EL and Python conditions parsed into one small
expression tree (pure, no I/O), and solved into the variable values that make a path's
conditions hold (`orchestra.domain.conditions.solver`, which imports z3 lazily)."""

from orchestra.domain.conditions.errors import NotUnderstood
from orchestra.domain.conditions.language import language_of, parse_condition
from orchestra.domain.conditions.tree import (
    And,
    Compare,
    Const,
    Expr,
    Literal,
    Not,
    Op,
    Or,
    Var,
    variables,
)

__all__ = [
    "And",
    "Compare",
    "Const",
    "Expr",
    "Literal",
    "Not",
    "NotUnderstood",
    "Op",
    "Or",
    "Var",
    "language_of",
    "parse_condition",
    "variables",
]
