"""Every scenario generated replays as a valid token game in the reference simulator of
tests/support/token_game.py, written from the rules and not from the generator."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestra.domain.generation import Criterion, generate_suite
from orchestra.domain.process import NodeCategory, ProcessGraph
from orchestra.domain.scenario import TestScenario
from orchestra.errors import InputRefused, OrchestraError
from tests.support.token_game import coverable, known, replay, supported
from tests.unit.bpmn.documents import only_process, process
from tests.unit.generation.blocks import random_tree, to_graph
from tests.unit.generation.models import model, node
from tests.unit.generation.test_compensation import (
    HANDLED_BY_EVENT_SUBPROCESS,
    THROWN,
    TRANSACTION,
)
from tests.unit.generation.test_robustness import arbitrary_graphs
from tests.unit.generation.test_terminate import terminate
from tests.unit.generation.test_transactions import transaction


def assert_replays(graph: ProcessGraph, criteria: tuple[Criterion, ...] = tuple(Criterion)) -> None:
    assert supported(graph)
    for criterion in criteria:
        try:
            suite = generate_suite(graph, process_key="p", process_version=1, criterion=criterion)
        except InputRefused:  # all-paths on a model that is not block-structured
            assert criterion is Criterion.ALL_PATHS
            continue
        alone = "defaults" not in suite.parameters.get("search", {})
        for scenario in suite.scenarios:
            reason = replay(graph, scenario, default_alone=alone)
            assert reason is None, (criterion, scenario.name, scenario.path, reason)


SUB = node("S", category=NodeCategory.SUB_PROCESS, type="subProcess")

MODELS = {
    "first approval wins": model(
        "s>p1", "p1>A", "p1>B", "A>e1", "B>e2", extra=(terminate("e1"), terminate("e2"))
    ),
    "terminate beside a normal end": model(
        "s>p1", "p1>A", "p1>B", "A>e1", "B>C", "C>e3", extra=(terminate("e1"),)
    ),
    "terminate in an exclusive branch": model(
        "s>p1", "p1>A", "p1>x", "A>e1", "x>B", "x>C", "B>t", "C>e2", extra=(terminate("t"),)
    ),
    "terminate in a subprocess": model(
        "s>S", "S>T", "T>e", "s2>p1", "p1>A", "p1>B", "A>t1", "B>e2",
        extra=(SUB, *(node(n, parent="S") for n in ("s2", "p1", "A", "B", "e2")),
               terminate("t1", parent="S")),
    ),
    "terminate racing in a token game": model(
        "s>p1", "p1>A", "p1>B", "A>tA", "B>C", "C>e2", "s2>A", extra=(terminate("tA"),)
    ),
    "implicit starts joined": model("A>p", "C>p", "p>e"),
    "implicit starts apart": model("A>B", "C>D"),
    "subprocess without a start event": model(
        "s>S", "S>e", "A>B", extra=(SUB, node("A", parent="S"), node("B", parent="S"))
    ),
    "parallel exit of a subprocess": model(
        "s>S", "S>A", "S>B", "A>p", "B>p", "p>e", "s2>T", "T>e2",
        extra=(SUB, *(node(n, parent="S") for n in ("s2", "T", "e2"))),
    ),
    "default flow of a task beside a conditional one (token game)": model(
        "s>p1", "p1>T", "p1>B", "T>e1", "T>C", "C>e2", "B>x", "x>e3", "s2>T",
        extra=(node("T", default_flow="T-C"),), conditions={"T-e1": "${late}"},
    ),
    "a subprocess whose branches end apart completes once (token game)": model(
        "s>p0", "p0>S", "p0>C", "S>T", "T>x", "C>x", "x>e", "s2>p1", "p1>A", "p1>B", "A>e2",
        "B>e3",
        extra=(SUB, *(node(n, parent="S") for n in ("s2", "p1", "A", "B", "e2", "e3"))),
    ),
    "interrupting and non-interrupting boundary events on a subprocess (token game)": model(
        "s>p0", "p0>S", "p0>C", "S>x", "C>x", "x>e", "bI>I", "I>eI", "bN>N", "N>eN", "s2>A",
        "A>e2",
        extra=(
            SUB, node("s2", parent="S"), node("A", parent="S"), node("e2", parent="S"),
            node("bI", category=NodeCategory.BOUNDARY_EVENT, type="boundaryEvent",
                 attached_to="S", event_definitions=("timer",)),
            node("bN", category=NodeCategory.BOUNDARY_EVENT, type="boundaryEvent",
                 attached_to="S", cancel_activity=False, event_definitions=("message",)),
        ),
    ),
    "a loop whose way back is its only way on (token game)": model(
        "s>A0", "s>x1", "x1>A0", "x1>A2", "A2>x1"
    ),
    "a cancel end event in a transaction": transaction(),
    "a transaction no cancel end event cancels": transaction(with_cancel_end=False),
    "a cancel end event outside any transaction": model(
        "s>x", "x>A", "x>eC", "A>e", extra=(node("eC", event_definitions=("cancel",)),)
    ),
    "a cancelled transaction compensates": only_process(process(TRANSACTION)),
    "a compensation throw event": only_process(process(THROWN.format(ref=""))),
    "a compensation throw naming its activity": only_process(
        process(THROWN.format(ref='activityRef="A"'))
    ),
    "an event subprocess started by compensation": only_process(
        process(HANDLED_BY_EVENT_SUBPROCESS)
    ),
    "link events": model(
        "s>A", "A>x", "x>lt", "x>e1", "lc>B", "B>e2",
        extra=(
            node("lt", category=NodeCategory.INTERMEDIATE_THROW_EVENT,
                 type="intermediateThrowEvent", event_definitions=("link",), link_name="L"),
            node("lc", category=NodeCategory.INTERMEDIATE_CATCH_EVENT,
                 type="intermediateCatchEvent", event_definitions=("link",), link_name="L"),
        ),
    ),
    "link events whose names do not pair up": model(
        "s>lt", "lc>B", "B>e",
        extra=(
            node("lt", category=NodeCategory.INTERMEDIATE_THROW_EVENT,
                 type="intermediateThrowEvent", event_definitions=("link",), name="to B"),
            node("lc", category=NodeCategory.INTERMEDIATE_CATCH_EVENT,
                 type="intermediateCatchEvent", event_definitions=("link",), name="B"),
        ),
    ),
    "a parallel join fed through a non-interrupting boundary event": model(
        "s>A", "A>p", "bN>B", "B>p", "p>e",
        extra=(node("bN", category=NodeCategory.BOUNDARY_EVENT, type="boundaryEvent",
                    attached_to="A", cancel_activity=False, event_definitions=("message",)),),
    ),
    "a boundary event without outgoing flow": model(
        "s>A", "A>e",
        extra=(node("bT", category=NodeCategory.BOUNDARY_EVENT, type="boundaryEvent",
                    attached_to="A", event_definitions=("timer",)),),
    ),
}  # fmt: skip


def test_the_scenarios_of_each_small_model_replay() -> None:
    for name, graph in MODELS.items():
        try:
            assert_replays(graph)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc


def test_the_replay_refuses_a_scenario_expecting_two_terminate_ends_of_one_scope() -> None:
    graph = MODELS["first approval wins"]
    both = TestScenario(
        name="both",
        position=1,
        path=(),
        branch_paths={
            "": ("s", "s-p1", "p1"),
            "/p1#1": ("p1-A", "A", "A-e1", "e1"),
            "/p1#2": ("p1-B", "B", "B-e2", "e2"),
        },
    )
    assert replay(graph, both) is not None


def test_the_replay_refuses_steps_of_a_branch_after_a_terminate_of_their_scope() -> None:
    graph = MODELS["terminate beside a normal end"]
    after = TestScenario(
        name="after",
        position=1,
        path=(),
        branch_paths={"": ("s", "s-p1", "p1", "p1-A", "A", "A-e1", "e1", "p1-B", "B", "B-C", "C")},
    )
    assert replay(graph, after) is not None


def test_a_task_bound_to_cancel_replays_as_cancelling_its_transaction() -> None:
    graph = only_process(process(TRANSACTION))
    cancels = frozenset({"Pay"})
    suite = generate_suite(graph, process_key="p", process_version=1, cancels=cancels)
    assert suite.scenarios
    for scenario in suite.scenarios:
        assert replay(graph, scenario, cancels=cancels) is None, scenario.path
        assert replay(graph, scenario) is not None  # without the binding, Pay goes on


def _walk(text: str) -> tuple[str, ...]:
    return tuple(text.split(" "))


def test_the_replay_refuses_handlers_run_first_completed_first() -> None:
    graph = MODELS["a compensation throw event"]
    scenario = TestScenario(
        name="in order",
        position=1,
        path=(),
        branch_paths={"": _walk("s f1 A f2 B f3 c cA UndoA cB UndoB f4 e")},
    )
    assert replay(graph, scenario) is not None
    right = scenario.model_copy(
        update={"branch_paths": {"": _walk("s f1 A f2 B f3 c cB UndoB cA UndoA f4 e")}}
    )
    assert replay(graph, right) is None


def test_the_replay_refuses_the_cancel_boundary_path_before_the_handlers() -> None:
    graph = MODELS["a cancelled transaction compensates"]
    early = "s g1 tx s2 f1 Book f2 Pay f3 x f5 eC bC g3 Undo g4 eUndone cPay Refund cBook UnBook"
    scenario = TestScenario(name="early", position=1, path=(), branch_paths={"": _walk(early)})
    assert replay(graph, scenario) is not None


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=3, max_value=30))
def test_the_scenarios_of_random_block_models_replay(seed: int, size: int) -> None:
    graph = to_graph(random_tree(random.Random(seed), size, loops=False))
    assert_replays(graph, (Criterion.ALL_FLOWS, Criterion.ALL_NODES))


@settings(max_examples=150, deadline=None)
@given(arbitrary_graphs(), st.sampled_from([Criterion.ALL_FLOWS, Criterion.ALL_NODES]))
def test_the_scenarios_of_random_unstructured_models_replay(
    graph: ProcessGraph, criterion: Criterion
) -> None:
    if not known(graph):
        return
    try:
        suite = generate_suite(graph, process_key="p", process_version=1, criterion=criterion)
    except OrchestraError:
        return  # refused with a message: test_robustness checks that
    alone = "defaults" not in suite.parameters.get("search", {})
    for scenario in suite.scenarios:
        reason = replay(graph, scenario, default_alone=alone)
        assert reason is None, (scenario.name, scenario.branch_paths, reason)


def assert_exact(graph: ProcessGraph) -> None:
    """What the reference finds coverable the suite covers, and what the suite calls
    uncoverable (proven) the reference cannot cover either."""
    reference = coverable(graph, bound=3000)
    if reference is None:
        return
    for criterion, wanted in (
        (Criterion.ALL_FLOWS, set(graph.flow_by_id)),
        (Criterion.ALL_NODES, set(graph.node_by_id)),
    ):
        try:
            suite = generate_suite(graph, process_key="p", process_version=1, criterion=criterion)
        except OrchestraError:
            assert not reference & wanted, criterion
            continue
        seen = {element for scenario in suite.scenarios for element in scenario.path}
        assert reference & wanted <= seen, (criterion, sorted(reference & wanted - seen))
        proven = {
            item["element"]
            for item in suite.coverage.uncovered
            if item["reason"].startswith("no valid token game")
        }
        assert not proven & reference, (criterion, sorted(proven & reference))


def test_the_reference_search_finds_what_the_racing_model_can_cover() -> None:
    reference = coverable(MODELS["terminate racing in a token game"])
    assert reference is not None
    assert {"C", "B-C", "C-e2", "e2", "tA"} <= reference


def test_each_small_model_is_covered_exactly() -> None:
    for name, graph in MODELS.items():
        try:
            assert_exact(graph)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc


@settings(max_examples=100, deadline=None)
@given(arbitrary_graphs())
def test_random_unstructured_models_are_covered_exactly(graph: ProcessGraph) -> None:
    if known(graph):
        assert_exact(graph)


def test_a_task_completed_then_interrupted_in_a_loop_replays() -> None:
    # found by the random models: the reference gave the boundary event to the task's first
    # firing, which had completed, not to the second, which it interrupted
    boundary = node(
        "b", category=NodeCategory.BOUNDARY_EVENT, type="boundaryEvent", attached_to="A"
    )
    graph = model("s>x0", "x0>A", "A>x0", "b>x0", "x0>C", extra=(boundary,))
    suite = generate_suite(graph, process_key="p", process_version=1)
    assert [s.name for s in suite.scenarios] == ["S01 A → x0 → A → b → C"]
    assert_replays(graph, (Criterion.ALL_FLOWS, Criterion.ALL_NODES))
