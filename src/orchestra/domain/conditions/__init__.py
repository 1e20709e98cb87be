"""Gateway conditions as data: FEEL, JUEL/EL and Python conditions parsed into one small
expression tree (pure, no I/O), and solved into the variable values that make a path's
conditions hold (`orchestra.domain.conditions.solver`, which imports z3 lazily)."""

from typing import TYPE_CHECKING, Any

from orchestra.domain.conditions.errors import NotUnderstood

if TYPE_CHECKING:
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

_LANGUAGE = frozenset({"language_of", "parse_condition"})
_TREE = frozenset(
    {"And", "Compare", "Const", "Expr", "Literal", "Not", "Op", "Or", "Var", "variables"}
)


def __getattr__(name: str) -> Any:
    """The parsers and the tree, imported when first used: a suite run whose scenarios take no
    conditioned flow (or has no data rows to check) reads none."""
    if name in _LANGUAGE:
        from orchestra.domain.conditions import language

        return getattr(language, name)
    if name in _TREE:
        from orchestra.domain.conditions import tree

        return getattr(tree, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
