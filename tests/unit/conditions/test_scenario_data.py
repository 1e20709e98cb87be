"""Each scenario's data from the conditions on its path; all-paths drops infeasible paths."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orchestra.domain.conditions.suites import derive_data
from orchestra.domain.generation import Criterion, generate_suite
from orchestra.domain.process import ProcessGraph
from orchestra.domain.scenario import GeneratedSuite, TestScenario
from tests.unit.bpmn.documents import only_process, process

ROUTING = """
    <startEvent id="S"/>
    <exclusiveGateway id="Amount" default="Small"/>
    <task id="Review"/><task id="Ship"/><task id="Export"/>
    <endEvent id="E"/>
    <sequenceFlow id="F1" sourceRef="S" targetRef="Amount"/>
    <sequenceFlow id="Big" sourceRef="Amount" targetRef="Review">
      <conditionExpression>= amount &gt; 1000</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="Foreign" sourceRef="Amount" targetRef="Export">
      <conditionExpression>= country != "DE"</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="Small" sourceRef="Amount" targetRef="Ship"/>
    <sequenceFlow id="F2" sourceRef="Review" targetRef="E"/>
    <sequenceFlow id="F3" sourceRef="Ship" targetRef="E"/>
    <sequenceFlow id="F4" sourceRef="Export" targetRef="E"/>
"""

# a second gateway asks for a small amount: after Big, its Tiny branch cannot be taken
DEAD_BRANCH = """
    <startEvent id="S"/>
    <exclusiveGateway id="First"/><exclusiveGateway id="Second"/>
    <task id="A"/><task id="B"/><task id="C"/><task id="D"/>
    <exclusiveGateway id="Join"/>
    <endEvent id="E"/>
    <sequenceFlow id="F1" sourceRef="S" targetRef="First"/>
    <sequenceFlow id="Big" sourceRef="First" targetRef="A">
      <conditionExpression>${amount &gt; 1000}</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="Rest" sourceRef="First" targetRef="B">
      <conditionExpression>${amount &lt;= 1000}</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="F2" sourceRef="A" targetRef="Join"/>
    <sequenceFlow id="F3" sourceRef="B" targetRef="Join"/>
    <sequenceFlow id="F4" sourceRef="Join" targetRef="Second"/>
    <sequenceFlow id="Tiny" sourceRef="Second" targetRef="C">
      <conditionExpression>${amount &lt; 500}</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="Other" sourceRef="Second" targetRef="D">
      <conditionExpression>${amount &gt;= 500}</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="F5" sourceRef="C" targetRef="E"/>
    <sequenceFlow id="F6" sourceRef="D" targetRef="E"/>
"""


def suite_of(graph: ProcessGraph, criterion: Criterion) -> GeneratedSuite:
    return generate_suite(graph, process_key="P", process_version=1, criterion=criterion)


def data_by_path(suite: GeneratedSuite) -> dict[str, dict[str, object]]:
    return {
        next(e for e in s.path if e in {"Review", "Ship", "Export"}): s.data
        for s in suite.scenarios
    }


def test_each_branch_gets_the_data_that_takes_it_and_a_default_its_siblings_negation() -> None:
    graph = only_process(process(ROUTING))
    suite, report = derive_data(suite_of(graph, Criterion.ALL_FLOWS), graph, graph)
    assert data_by_path(suite) == {
        "Review": {"amount": 1001, "country": "DE"},
        "Export": {"amount": 0, "country": "other"},
        "Ship": {"amount": 0, "country": "DE"},
    }
    assert report.to_json() == {"not_understood": [], "infeasible": [], "loops": []}


def test_a_condition_outside_the_subset_is_reported_with_its_flow() -> None:
    text = ROUTING.replace("= amount &gt; 1000", "= count(items) &gt; 2")
    graph = only_process(process(text))
    suite, report = derive_data(suite_of(graph, Criterion.ALL_FLOWS), graph, graph)
    assert list(report.not_understood) == ["Big"]
    assert data_by_path(suite)["Review"] == {"country": "DE"}


def test_all_paths_drops_the_paths_no_data_can_take_and_says_why() -> None:
    graph = only_process(process(DEAD_BRANCH))
    generated = suite_of(graph, Criterion.ALL_PATHS)
    suite, report = derive_data(generated, graph, graph)
    assert len(generated.scenarios) == 4
    assert [s.position for s in suite.scenarios] == [1, 2, 3]
    assert [s.name[:3] for s in suite.scenarios] == ["S01", "S02", "S03"]
    conflict = report.infeasible[0]
    assert set(conflict.conditions) == {("Big", "${amount > 1000}"), ("Tiny", "${amount < 500}")}
    assert report.dropped == [conflict.scenario]
    assert all(not ({"Big", "Tiny"} <= set(s.path)) for s in suite.scenarios)


def test_a_dead_branch_is_uncovered_with_the_reason_under_all_paths() -> None:
    dead = DEAD_BRANCH.replace("${amount &lt;= 1000}", "${amount &gt; 2000}")
    graph = only_process(process(dead))
    suite, _ = derive_data(suite_of(graph, Criterion.ALL_PATHS), graph, graph)
    reasons = {item["element"]: item["reason"] for item in suite.coverage.uncovered}
    # an engine tries Big first: every amount over 2000 takes it, Rest is never taken
    assert {"Rest", "F3", "Tiny", "F5"} <= set(reasons)
    assert reasons["Rest"] == (
        "infeasible: not ${amount > 1000} (Big) and ${amount > 2000} (Rest) cannot all hold"
    )
    assert suite.coverage.flows_covered == suite.coverage.flows_total - 4


LOOP = """
    <startEvent id="S"/>
    <task id="Try"/>
    <exclusiveGateway id="Again" default="Done"/>
    <endEvent id="E"/>
    <sequenceFlow id="F1" sourceRef="S" targetRef="Try"/>
    <sequenceFlow id="F2" sourceRef="Try" targetRef="Again"/>
    <sequenceFlow id="Retry" sourceRef="Again" targetRef="Try">
      <conditionExpression>attempts &lt; 3</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="Done" sourceRef="Again" targetRef="E"/>
"""


def test_a_gateway_passed_with_different_choices_is_left_out_and_reported() -> None:
    graph = only_process(process(LOOP))
    suite, report = derive_data(suite_of(graph, Criterion.ALL_PATHS), graph, graph)
    looping = [s for s in suite.scenarios if "Retry" in s.path]
    straight = [s for s in suite.scenarios if "Retry" not in s.path]
    assert report.loops == {"Again": ["attempts"]}
    assert [s.data for s in looping] == [{}]
    assert [s.data for s in straight] == [{"attempts": 3}]
    assert report.infeasible == []


def every_path(graph: ProcessGraph) -> Callable[[], tuple[TestScenario, ...]]:
    return lambda: suite_of(graph, Criterion.ALL_PATHS).scenarios


@pytest.mark.parametrize("criterion", [Criterion.ALL_FLOWS, Criterion.ALL_NODES])
def test_all_flows_and_all_nodes_plan_around_an_infeasible_combination(
    criterion: Criterion,
) -> None:
    graph = only_process(process(DEAD_BRANCH))
    generated = suite_of(graph, criterion)
    suite, report = derive_data(generated, graph, graph, every_path(graph))
    assert report.dropped  # the generator paired Big with Tiny: the amount cannot be both
    assert all(not ({"Big", "Tiny"} <= set(s.path)) for s in suite.scenarios)
    assert all(s.data for s in suite.scenarios)
    assert suite.coverage.uncovered == generated.coverage.uncovered
    assert len(suite.scenarios) == 2  # Big then Other, Rest then Tiny
    if criterion is Criterion.ALL_FLOWS:
        assert suite.coverage.flows_covered == suite.coverage.flows_total
    assert suite.coverage.nodes_covered == suite.coverage.nodes_total
    assert [s.position for s in suite.scenarios] == list(range(1, len(suite.scenarios) + 1))


def test_all_flows_reports_a_flow_no_satisfiable_path_reaches_as_a_dead_branch() -> None:
    dead = DEAD_BRANCH.replace("${amount &lt;= 1000}", "${amount &gt; 2000}")
    graph = only_process(process(dead))
    suite, report = derive_data(
        suite_of(graph, Criterion.ALL_FLOWS), graph, graph, every_path(graph)
    )
    reasons = {item["element"]: item["reason"] for item in suite.coverage.uncovered}
    # an engine tries Big first: every amount over 2000 takes it, Rest is never taken, and
    # after Big an amount under 500 cannot follow
    assert set(reasons) == {"Rest", "B", "F3", "Tiny", "C", "F5"}
    assert reasons["Rest"] == (
        "infeasible: not ${amount > 1000} (Big) and ${amount > 2000} (Rest) cannot all hold"
    )
    assert reasons["Tiny"] == (
        "infeasible: ${amount > 1000} (Big) and ${amount < 500} (Tiny) cannot all hold"
    )
    assert [s.data for s in suite.scenarios] == [{"amount": 1001}]
    assert report.dropped  # the infeasible scenarios generated are reported, and replaced


def test_without_the_paths_to_plan_with_an_infeasible_scenario_is_kept_without_data() -> None:
    graph = only_process(process(DEAD_BRANCH))
    generated = suite_of(graph, Criterion.ALL_FLOWS)
    suite, report = derive_data(generated, graph, graph, lambda: None)
    assert len(suite.scenarios) == len(generated.scenarios)
    assert report.dropped == []
    infeasible = {c.scenario for c in report.infeasible}
    assert all(not s.data for s in suite.scenarios if s.name in infeasible)
