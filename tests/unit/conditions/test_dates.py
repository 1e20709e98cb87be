"""FEEL dates: `date("...")` and `date and time("...")` literals, compared; solved into ISO
8601 text nearest to the conditions' own dates; rows' date strings read as dates."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from orchestra.domain.conditions import Compare, Const, NotUnderstood, Op, Var, parse_condition
from orchestra.domain.conditions.boundaries import boundary_variants
from orchestra.domain.conditions.evaluate import holds
from orchestra.domain.conditions.scenarios import with_data
from orchestra.domain.conditions.solver import ConditionSolver, Goal, solve
from orchestra.domain.scenario import Decision, TestScenario


def solved(condition: str, holds: bool = True) -> object:
    return solve([Goal("F", condition, parse_condition(condition), holds)])


def test_feel_date_literals_are_dates() -> None:
    assert parse_condition('= due < date("2024-03-01")') == Compare(
        Op.LT, Var(("due",)), Const(date(2024, 3, 1))
    )
    assert parse_condition('= at >= date and time("2024-03-01T10:30:00")') == Compare(
        Op.GE, Var(("at",)), Const(datetime(2024, 3, 1, 10, 30))
    )


def test_a_zoned_date_and_time_is_read_in_utc() -> None:
    parsed = parse_condition('= at > date and time("2024-03-01T10:30:00+02:00")')
    assert parsed == Compare(Op.GT, Var(("at",)), Const(datetime(2024, 3, 1, 8, 30)))


def test_a_variable_named_date_is_still_a_variable() -> None:
    assert parse_condition("= date > 3") == Compare(Op.GT, Var(("date",)), Const(3))


@pytest.mark.parametrize(
    "condition", ['= due < date("March 1")', "= due < date(start)", '${due < date("2024-01-01")}']
)
def test_what_is_not_an_iso_date_literal_in_feel_is_not_understood(condition: str) -> None:
    with pytest.raises(NotUnderstood):
        parse_condition(condition)


def test_dates_are_solved_nearest_the_conditions_own_dates() -> None:
    assert solved('= due > date("2024-01-01")') == {"due": "2024-01-02"}
    assert solved('= due < date("2024-01-01")') == {"due": "2023-12-31"}
    assert solved('= due > date("2024-01-01")', holds=False) == {"due": "2024-01-01"}
    assert solved('= due in [date("2024-01-10")..date("2024-02-01")]') == {"due": "2024-01-10"}
    assert solved('= at > date and time("2024-01-01T23:59:59")') == {"at": "2024-01-02T00:00:00"}


def test_contradictory_dates_are_infeasible() -> None:
    condition = '= due > date("2024-02-01") and due < date("2024-01-01")'
    assert not isinstance(solved(condition), dict)


def test_a_row_of_date_strings_is_read_as_dates() -> None:
    condition = parse_condition('= due > date("2024-01-01")')
    assert holds(condition, {"due": "2024-01-02"})
    assert not holds(condition, {"due": "2023-12-31"})
    assert not holds(condition, {"due": "soon"})


def test_a_date_bound_has_sides_a_day_apart() -> None:
    text = '= due <= date("2024-01-31")'
    goals = [Goal("F", text, parse_condition(text))]
    solver = ConditionSolver([goal.expr for goal in goals])
    bare = TestScenario(name="S1", position=1, path=(), decisions=(Decision(gateway="", flows=()),))
    base = with_data(bare, goals, solver)
    assert isinstance(base, TestScenario)
    assert base.data == {"due": "2024-01-31"}  # its own value is the bound: no variant
    text = '= due < date("2024-01-31") and due > date("2024-01-01")'
    goals = [Goal("F", text, parse_condition(text))]
    solver = ConditionSolver([goal.expr for goal in goals])
    base = with_data(bare, goals, solver)
    assert isinstance(base, TestScenario)
    assert [(v.name, v.data) for v in boundary_variants(base, goals, solver)] == [
        ("S1 [due = 2024-01-30]", {"due": "2024-01-30"})
    ]
