"""Data rows checked against a scenario's path: a row contradicts it when, merged over the
scenario's data, it turns a condition the path needs."""

from __future__ import annotations

from typing import Any

from orchestra.domain.conditions import parse_condition
from orchestra.domain.conditions.evaluate import holds
from orchestra.domain.conditions.rows import RowChecker
from orchestra.domain.conditions.suites import derive_data
from orchestra.domain.generation import generate_suite
from orchestra.domain.merging import deep_merge
from orchestra.domain.scenario import TestScenario
from tests.unit.bpmn.documents import only_process, process
from tests.unit.conditions.test_scenario_data import ROUTING

NESTED = """
    <startEvent id="S"/>
    <exclusiveGateway id="Tier" default="Plain"/>
    <task id="Gold"/><task id="Rest"/>
    <endEvent id="E"/>
    <sequenceFlow id="F1" sourceRef="S" targetRef="Tier"/>
    <sequenceFlow id="Golden" sourceRef="Tier" targetRef="Gold">
      <conditionExpression>customer.tier == "gold" and customer.age &gt;= 18</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="Plain" sourceRef="Tier" targetRef="Rest"/>
    <sequenceFlow id="F2" sourceRef="Gold" targetRef="E"/>
    <sequenceFlow id="F3" sourceRef="Rest" targetRef="E"/>
"""


def scenarios(model: str) -> dict[str, TestScenario]:
    graph = only_process(process(model))
    suite, _ = derive_data(generate_suite(graph, process_key="P", process_version=1), graph, graph)
    return {next(e for e in s.path if e in ("Review", "Ship", "Export", "Gold", "Rest")): s
            for s in suite.scenarios}  # fmt: skip


def test_each_decision_keeps_the_conditions_its_choice_requires() -> None:
    ship = scenarios(ROUTING)["Ship"]  # the default: neither sibling may hold
    (decision,) = ship.decisions
    assert [(r.flow, r.describe()) for r in decision.requires] == [
        ("Big", "not = amount > 1000"),
        ("Foreign", 'not = country != "DE"'),
    ]


def test_a_row_that_turns_a_required_condition_contradicts_the_path() -> None:
    ship = scenarios(ROUTING)["Ship"]
    conflict = RowChecker().conflict(ship, 3, {"amount": 1500})
    assert conflict is not None
    assert (conflict.row, conflict.flow, conflict.values) == (3, "Big", {"amount": 1500})
    assert conflict.describe() == (
        f"data row 3 contradicts the path of {ship.name}: not = amount > 1000 (Big) is false "
        "with amount = 1500"
    )


def test_a_row_that_keeps_the_path_or_sets_other_columns_does_not() -> None:
    checker, found = RowChecker(), scenarios(ROUTING)
    assert checker.conflict(found["Ship"], 0, {"amount": 999, "note": "x"}) is None
    assert checker.conflict(found["Review"], 0, {"amount": 1500, "country": "FR"}) is None
    assert checker.conflict(found["Review"], 0, {}) is None


def test_a_csv_row_of_strings_is_read_as_the_numbers_it_spells() -> None:
    found = scenarios(ROUTING)
    assert RowChecker().conflict(found["Review"], 0, {"amount": "1500"}) is None
    assert RowChecker().conflict(found["Review"], 0, {"amount": "900"}) is not None


def test_a_nested_row_is_merged_into_the_scenario_data_not_over_it() -> None:
    gold = scenarios(NESTED)["Gold"]
    assert gold.data == {"customer": {"tier": "gold", "age": 18}}
    checker = RowChecker()
    assert checker.conflict(gold, 0, {"customer": {"age": 40}}) is None  # tier kept
    conflict = checker.conflict(gold, 1, {"customer": {"tier": "silver"}})
    assert conflict is not None
    assert conflict.values == {"customer.tier": "silver", "customer.age": 18}


def test_deep_merge_merges_objects_at_every_depth_and_replaces_the_rest() -> None:
    base: dict[str, Any] = {"a": {"b": {"c": 1, "d": 2}, "l": [1]}, "x": 1}
    over: dict[str, Any] = {"a": {"b": {"d": 3}, "l": [2]}, "x": {"y": 1}}
    assert deep_merge(base, over) == {"a": {"b": {"c": 1, "d": 3}, "l": [2]}, "x": {"y": 1}}
    assert base == {"a": {"b": {"c": 1, "d": 2}, "l": [1]}, "x": 1}  # untouched


def test_the_evaluator_reads_strings_as_numbers_and_booleans_only_when_they_spell_one() -> None:
    assert holds(parse_condition("${vip}"), {"vip": "true"})
    assert not holds(parse_condition("${vip}"), {"vip": "yes"})
    assert holds(parse_condition("= amount >= 10.5"), {"amount": "10.5"})
    assert not holds(parse_condition("= amount >= 10"), {"amount": "ten"})
    assert not holds(parse_condition("= amount >= 10"), {"amount": "nan"})
    assert holds(parse_condition('= code = "10"'), {"code": "10"})
    assert not holds(parse_condition("= amount > 1"), {})
    assert holds(parse_condition("= amount = null"), {})
