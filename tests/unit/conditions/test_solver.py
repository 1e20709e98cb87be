"""Solving conditions into friendly values, and reporting those that cannot all hold."""

from __future__ import annotations

from orchestra.domain.conditions import parse_condition
from orchestra.domain.conditions.solver import Goal, Infeasible, solve


def goal(text: str, *, holds: bool = True, flow: str = "F", required: bool = True) -> Goal:
    return Goal(flow, text, parse_condition(text), holds, required)


def test_values_sit_just_past_a_bound_and_use_the_conditions_own_strings() -> None:
    assert solve([goal('= amount > 1000 and country = "DE"')]) == {
        "amount": 1001,
        "country": "DE",
    }
    assert solve([goal("${amount >= 1000 && amount < 2000}")]) == {"amount": 1000}
    assert solve([goal("amount < -5")]) == {"amount": -6}


def test_a_negated_condition_gives_the_other_side() -> None:
    assert solve([goal('= amount > 1000 or country = "DE"', holds=False)]) == {
        "amount": 0,
        "country": "other",
    }


def test_paths_nest_and_nulls_are_chosen_only_when_needed() -> None:
    assert solve([goal("order.total >= 10.5 and not vip and name is not None")]) == {
        "order": {"total": 11},
        "vip": False,
        "name": "other",
    }
    assert solve([goal("= x in [1..10) and z is null")]) == {"x": 1, "z": None}
    assert solve([goal("${empty name}")]) in ({"name": None}, {"name": ""})


def test_conditions_that_cannot_all_hold_are_reported_with_the_conflicting_ones() -> None:
    big = goal("${amount > 1000}", flow="Big")
    small = goal("${amount < 500}", flow="Small")
    free = goal("${vip}", flow="Vip")
    result = solve([big, free, small])
    assert isinstance(result, Infeasible)
    assert {g.flow for g in result.conflicts} == {"Big", "Small"}


def test_a_preference_is_dropped_when_it_conflicts_with_what_is_required() -> None:
    taken = goal("${amount > 100}", flow="Taken")
    later_sibling = goal("${amount > 10}", holds=False, flow="Later", required=False)
    assert solve([taken, later_sibling]) == {"amount": 101}


def test_the_same_values_every_time() -> None:
    goals = [goal('= a > 3 and b != "x"'), goal("= c < 2.5", holds=False)]
    assert all(solve(goals) == solve(goals) for _ in range(3))


def test_a_variable_equal_to_an_ordered_one_is_a_number_too() -> None:
    # found by the property test: `b` was typed a string, `a` a number, so `a == b` never held
    values = solve([goal("a == b and a <= a")])

    assert not isinstance(values, Infeasible)
    assert values["a"] == values["b"]
    assert isinstance(values["b"], int)
