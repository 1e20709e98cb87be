"""Boundary values (opt-in, `--data boundary`): each scenario again at both sides of the bound
of every comparison its path needs.

For each comparison of a number variable with a number on a scenario's path (`amount > 1000`,
in the conditions it needs to hold or not to hold), the two values on either side of the bound
(1000 and 1001; 999 and 1000 for `>= 1000`; 0.01 apart for a real number, a day apart for a
date) are each tried with
the scenario's other conditions. A side that keeps the path feasible, and whose data differs
from the scenario's own and from the variants already made, becomes a scenario of its own,
right after it, named `<scenario> [amount = 1000]`. A side that turns the path is another
scenario's (the sibling flow's) to test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from fractions import Fraction

from orchestra.domain.conditions.scenarios import with_data
from orchestra.domain.conditions.solver import ConditionSolver, Goal
from orchestra.domain.conditions.tree import Compare, Const, Op, Var, comparisons
from orchestra.domain.conditions.types import Kind
from orchestra.domain.scenario import TestScenario

Number = int | float
Side = Number | date
_ORDERINGS = (Op.LT, Op.LE, Op.GT, Op.GE)
_REAL_STEP = Fraction(1, 100)


def boundary_variants(
    scenario: TestScenario, goals: list[Goal], solver: ConditionSolver
) -> list[TestScenario]:
    """The scenario's boundary variants, in the order of its comparisons (module docstring)."""
    made: list[TestScenario] = []
    seen = [scenario.data]
    required = [goal for goal in goals if goal.required]
    for var, value in _sides(required, solver):
        pinned = Goal("", f"{var.name} = {value}", Compare(Op.EQ, var, Const(value)))
        result = with_data(scenario, [*goals, pinned], solver)
        if not isinstance(result, TestScenario) or result.data in seen:
            continue
        seen.append(result.data)
        name = f"{scenario.name} [{var.name} = {value}]"
        made.append(result.model_copy(update={"name": name}))
    return made


def _sides(goals: list[Goal], solver: ConditionSolver) -> Iterator[tuple[Var, Side]]:
    """Each (variable, value) at a side of a bound of the goals' comparisons, once."""
    done: set[tuple[Var, Side]] = set()
    for goal in goals:
        for compare in comparisons(goal.expr):
            bound = _bound(compare, solver)
            if bound is None:
                continue
            var, low, high = bound
            for value in (low, high):
                if (var, value) not in done:
                    done.add((var, value))
                    yield var, value


def _bound(compare: Compare, solver: ConditionSolver) -> tuple[Var, Side, Side] | None:
    """The variable of an ordering of a number variable and a number (or a date variable and
    a date), with the last value on the lower side of its bound and the first on the upper
    side."""
    if compare.op not in _ORDERINGS:
        return None
    left, right, op = compare.left, compare.right, compare.op
    if isinstance(left, Const):
        left, right, op = right, left, op.mirrored()
    if not isinstance(left, Var) or not isinstance(right, Const):
        return None
    constant = right.value
    kind = solver.kind(left)
    if kind is Kind.DATE and isinstance(constant, date) and not isinstance(constant, datetime):
        day = timedelta(days=1)
        low, high = (
            (constant, constant + day) if op in (Op.GT, Op.LE) else (constant - day, constant)
        )
        return left, low, high
    if isinstance(constant, bool) or not isinstance(constant, Number) or kind is None:
        return None
    if kind not in (Kind.INT, Kind.REAL):
        return None
    step = Fraction(1) if kind is Kind.INT else _REAL_STEP
    bound = Fraction(constant)
    if op in (Op.GT, Op.LE):  # the bound itself is on the lower side
        return left, _friendly(bound), _friendly(bound + step)
    return left, _friendly(bound - step), _friendly(bound)


def _friendly(value: Fraction) -> Number:
    return int(value) if value.denominator == 1 else float(value)
