"""For random conditions of the subset, the solver's values make them true under an evaluator
written apart from it, and what it calls infeasible has no solution in a small domain."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestra.domain.conditions import And, Compare, Const, Expr, Literal, Not, Op, Or, Var
from orchestra.domain.conditions.solver import Goal, Infeasible, solve
from tests.unit.conditions.evaluator import holds

NUMBERS = (Var(("a",)), Var(("b",)), Var(("order", "total")))
STRINGS = (Var(("s",)),)
FLAGS = (Var(("vip",)),)

number_compare = st.builds(
    Compare,
    st.sampled_from(list(Op)),
    st.sampled_from(NUMBERS),
    st.one_of(st.builds(Const, st.integers(-3, 3)), st.sampled_from(NUMBERS)),
)
string_compare = st.builds(
    Compare,
    st.sampled_from([Op.EQ, Op.NE]),
    st.sampled_from(STRINGS),
    st.builds(Const, st.sampled_from(["DE", "FR", None])),
)
flag_compare = st.builds(
    Compare,
    st.sampled_from([Op.EQ, Op.NE]),
    st.sampled_from(FLAGS),
    st.builds(Const, st.booleans()),
)
leaves = st.one_of(number_compare, string_compare, flag_compare, st.builds(Literal, st.booleans()))
expressions: st.SearchStrategy[Expr] = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.builds(And, st.lists(children, min_size=2, max_size=3).map(tuple)),
        st.builds(Or, st.lists(children, min_size=2, max_size=3).map(tuple)),
        st.builds(Not, children),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(expressions)
def test_the_solvers_values_make_the_expression_true(expr: Expr) -> None:
    result = solve([Goal("F", "generated", expr)])
    if isinstance(result, Infeasible):
        assert not any(holds(expr, values) for values in _small_domain())
    else:
        assert holds(expr, result), result


def _small_domain() -> list[dict[str, Any]]:
    numbers = [None, -4, -3, -2, -1, 0, 1, 2, 3, 4]
    found = []
    for a, b, total, s, vip in itertools.product(
        numbers, numbers, numbers, [None, "DE", "FR", "x"], [None, True, False]
    ):
        found.append({"a": a, "b": b, "order": {"total": total}, "s": s, "vip": vip})
    return found
