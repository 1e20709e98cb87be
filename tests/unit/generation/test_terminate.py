"""Terminate end events end their scope at once: branches racing to them give one scenario per
winner, marked as a race the SUT decides; no scenario expects anything after a terminate."""

from __future__ import annotations

from orchestra.domain.generation import Criterion
from orchestra.domain.process import Node, NodeCategory
from orchestra.domain.scenario import GeneratedSuite, TestScenario
from orchestra.domain.statuses import StepKind
from tests.unit.generation.checks import covered_flows
from tests.unit.generation.models import model, node
from tests.unit.generation.test_constructs import generate


def terminate(node_id: str, parent: str | None = None) -> Node:
    return node(
        node_id,
        category=NodeCategory.END_EVENT,
        type="endEvent",
        event_definitions=("terminate",),
        parent=parent,
    )


def ends(scenario: TestScenario) -> list[str]:
    return [s.element_id or "" for s in scenario.steps if s.meta.get("endEvent")]


def first_approval_wins() -> GeneratedSuite:
    graph = model("s>p1", "p1>A", "p1>B", "A>e1", "B>e2", extra=(terminate("e1"), terminate("e2")))
    return generate(graph)


def test_branches_racing_to_terminate_ends_give_one_scenario_per_winner() -> None:
    suite = first_approval_wins()
    assert [ends(s) for s in suite.scenarios] == [["e1"], ["e2"]]
    assert [s.path for s in suite.scenarios] == [
        ("s", "s-p1", "p1", "p1-A", "A", "A-e1", "e1"),
        ("s", "s-p1", "p1", "p1-B", "B", "B-e2", "e2"),
    ]
    assert suite.coverage.flows_covered == suite.coverage.flows_total


def test_a_race_scenario_says_so_in_its_terminate_step_and_its_name() -> None:
    first, second = first_approval_wins().scenarios
    assert first.race is not None
    assert first.race["winner"] == "e1"
    assert first.race["rivals"] == ["e2"]
    assert "the SUT's to decide" in first.race["note"]
    assert second.race is not None
    assert second.race["winner"] == "e2"
    assert first.name.endswith("race won by e1")
    assert [s.element_id for s in first.steps] == ["A", "e1"]  # nothing of B is expected


def test_branches_that_end_normally_end_before_the_winner_terminates() -> None:
    graph = model("s>p1", "p1>A", "p1>B", "A>e1", "B>C", "C>e3", extra=(terminate("e1"),))
    (scenario,) = generate(graph).scenarios
    steps = [(s.kind, s.element_id, s.branch) for s in scenario.steps]
    assert steps == [
        (StepKind.ACTION, "A", "/p1#1"),
        (StepKind.ACTION, "B", "/p1#2"),
        (StepKind.ACTION, "C", "/p1#2"),
        (StepKind.ASSERTION, "e3", "/p1#2"),
        (StepKind.BARRIER, "e1", ""),
        (StepKind.ASSERTION, "e1", ""),
    ]
    assert scenario.steps[-2].spec["branches"] == ["/p1#1", "/p1#2"]
    assert scenario.race is not None
    assert scenario.race["afterBranches"] is True
    assert scenario.path[-1] == "e1"


def test_a_terminate_inside_a_subprocess_ends_only_the_subprocess() -> None:
    graph = model(
        "s>S", "S>T", "T>e", "s2>p1", "p1>A", "p1>B", "A>t1", "B>e2",
        extra=(
            node("S", category=NodeCategory.SUB_PROCESS, type="subProcess"),
            *(node(n, parent="S") for n in ("s2", "p1", "A", "B", "e2")),
            terminate("t1", parent="S"),
        ),
    )  # fmt: skip
    (scenario,) = generate(graph).scenarios
    assert [s.element_id for s in scenario.steps] == ["A", "B", "e2", "t1", "t1", "T", "e"]
    assert scenario.race is not None
    assert scenario.race["scope"] == "S"
    assert scenario.path[-3:] == ("T", "T-e", "e")


def test_a_terminate_in_an_exclusive_branch_races_only_on_the_paths_that_reach_it() -> None:
    graph = model(
        "s>p1", "p1>A", "p1>x", "A>e1", "x>B", "x>C", "B>t", "C>e2", extra=(terminate("t"),)
    )
    suite = generate(graph)
    assert covered_flows(suite, graph) == {f.id for f in graph.flows}
    for scenario in suite.scenarios:
        if "t" in scenario.path:
            assert scenario.race is not None
            assert scenario.path[-1] == "t"  # everything else ended before it
        else:
            assert scenario.race is None


def test_all_nodes_races_the_same_way() -> None:
    graph = model("s>p1", "p1>A", "p1>B", "A>e1", "B>e2", extra=(terminate("e1"), terminate("e2")))
    suite = generate(graph, Criterion.ALL_NODES)
    assert [ends(s) for s in suite.scenarios] == [["e1"], ["e2"]]


def test_all_paths_lists_every_winner() -> None:
    graph = model("s>p1", "p1>A", "p1>B", "A>e1", "B>e2", extra=(terminate("e1"), terminate("e2")))
    suite = generate(graph, Criterion.ALL_PATHS)
    assert [ends(s) for s in suite.scenarios] == [["e1"], ["e2"]]


def test_a_token_game_ends_the_tokens_of_the_terminated_scope_and_marks_the_race() -> None:
    graph = model(
        "s>p1", "p1>A", "p1>B", "A>p2", "B>x", "x>p2", "x>e2", "p2>e1", extra=(terminate("e2"),)
    )
    suite = generate(graph)
    assert suite.parameters["method"] == "token-game-heuristic"
    raced = [s for s in suite.scenarios if "e2" in s.path]
    assert raced
    for scenario in raced:
        assert scenario.path[-1] == "e2"
        assert scenario.race is not None
        assert scenario.race["cut"] == ["p2"]


def test_a_token_game_terminating_a_subprocess_keeps_the_tokens_outside_it() -> None:
    # outside S, a parallel branch C runs beside it; t1 ends S only, so C and the join go on
    graph = model(
        "s>p0", "p0>S", "p0>C", "S>j", "C>j", "j>e", "s2>p1", "p1>A", "p1>B", "A>t1", "B>x",
        "x>e2", "x>A",
        extra=(
            node("S", category=NodeCategory.SUB_PROCESS, type="subProcess"),
            *(node(n, parent="S") for n in ("s2", "p1", "A", "B", "x", "e2")),
            terminate("t1", parent="S"),
            node("j", category=NodeCategory.PARALLEL_GATEWAY, type="parallelGateway"),
        ),
    )  # fmt: skip
    suite = generate(graph)
    assert suite.parameters["method"] == "token-game-heuristic"
    for scenario in suite.scenarios:
        assert scenario.path[-1] == "e", scenario.path
        assert "C" in scenario.path


def test_a_branch_beside_the_main_line_that_ends_the_process_wins_a_race_of_its_own() -> None:
    # a non-interrupting event subprocess ending in an error nothing catches ends the process
    graph = model(
        "s>T", "T>e", "sv>F", "F>eF",
        extra=(
            node("ev", category=NodeCategory.SUB_PROCESS, type="subProcess",
                 triggered_by_event=True),
            node("sv", parent="ev", event_definitions=("message",), is_interrupting=False),
            node("F", parent="ev"),
            node("eF", category=NodeCategory.END_EVENT, type="endEvent", parent="ev",
                 event_definitions=("error",)),
        ),
    )  # fmt: skip
    suite = generate(graph)
    paths = [s.path for s in suite.scenarios]
    assert ("s", "s-T", "T", "T-e", "e") in paths  # the main line, the branch left out
    (raced,) = [s for s in suite.scenarios if s.race is not None]
    assert raced.path[-1] == "eF"
    assert "T" not in raced.path  # the main line is cut where the branch forked
    assert raced.race is not None
    assert raced.race["winner"] == "eF"
