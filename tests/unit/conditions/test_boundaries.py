"""Boundary values: each scenario again at both sides of each bound on its path, where the
path stays feasible, named after the value pinned."""

from __future__ import annotations

from orchestra.domain.conditions import parse_condition
from orchestra.domain.conditions.boundaries import boundary_variants
from orchestra.domain.conditions.scenarios import with_data
from orchestra.domain.conditions.solver import ConditionSolver, Goal
from orchestra.domain.conditions.suites import derive_data
from orchestra.domain.generation import Criterion
from orchestra.domain.scenario import Decision, TestScenario
from tests.unit.bpmn.documents import only_process, process
from tests.unit.conditions.test_scenario_data import ROUTING, every_path, suite_of


def variants(*conditions: str) -> list[tuple[str, dict[str, object]]]:
    goals = [Goal(f"F{i}", text, parse_condition(text)) for i, text in enumerate(conditions)]
    solver = ConditionSolver([goal.expr for goal in goals])
    bare = TestScenario(name="S1", position=1, path=(), decisions=(Decision(gateway="", flows=()),))
    base = with_data(bare, goals, solver)
    assert isinstance(base, TestScenario)
    return [(v.name, v.data) for v in boundary_variants(base, goals, solver)]


def test_both_sides_of_a_bound_that_keep_the_path_are_scenarios_of_their_own() -> None:
    # 1001 is the scenario's own value for `> 1000`, and 1000 would turn its path
    assert variants("= amount > 1000") == []
    assert variants("= amount >= 1000") == []  # 999 would turn it; 1000 is its own
    assert variants("= amount <= 1000") == [("S1 [amount = 1000]", {"amount": 1000})]
    assert variants("= amount < -5") == []  # -6, its own value


def test_a_real_bound_has_sides_a_hundredth_apart() -> None:
    # its own value is 11, whole: the value just past the bound is a variant
    assert variants("= total > 10.5") == [("S1 [total = 10.51]", {"total": 10.51})]
    assert [name for name, _ in variants("= total < 10.5 and total > 1")] == [
        "S1 [total = 10.49]",
        "S1 [total = 1.01]",
    ]


def test_strings_and_booleans_have_no_bound() -> None:
    assert variants('= country = "DE" and vip = true') == []


def test_a_boundary_suite_follows_each_scenario_with_its_variants() -> None:
    graph = only_process(process(ROUTING))
    generated = suite_of(graph, Criterion.ALL_FLOWS)
    suite, _ = derive_data(generated, graph, graph, every_path(graph), boundary=True)
    found = [(s.position, s.name.split(" ", 1)[0], s.name.rpartition(" [")[2], s.data)
             for s in suite.scenarios]  # fmt: skip
    # Big (> 1000) keeps 1001, its own value; the two others take amount = 1000 too
    assert [(p, n, d) for p, n, _, d in found] == [
        (1, "S01", {"amount": 1001, "country": "DE"}),
        (2, "S02", {"amount": 0, "country": "other"}),
        (3, "S03", {"amount": 1000, "country": "other"}),
        (4, "S04", {"amount": 0, "country": "DE"}),
        (5, "S05", {"amount": 1000, "country": "DE"}),
    ]
    assert [pinned for _, _, pinned, _ in found if pinned.startswith("amount")] == [
        "amount = 1000]",
        "amount = 1000]",
    ]
    assert suite.coverage == generated.coverage
