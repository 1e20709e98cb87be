"""Generation on small hand-built models: the exact scenarios of each construct."""

from __future__ import annotations

import pytest

from orchestra.domain.generation import MAX_LOOP_BOUND, MAX_SCENARIOS, Criterion, generate_suite
from orchestra.domain.process import MessageFlow, NodeCategory, ProcessGraph
from orchestra.domain.scenario import Decision, GeneratedSuite
from orchestra.domain.statuses import StepKind
from orchestra.errors import BpmnRefused, GenerationLimit, InputRefused
from tests.unit.generation.checks import covered_flows
from tests.unit.generation.models import model, node


def generate(
    graph: ProcessGraph,
    criterion: Criterion = Criterion.ALL_FLOWS,
    *,
    loop_bound: int = 1,
    max_scenarios: int = 1000,
    called: dict[str, ProcessGraph] | None = None,
) -> GeneratedSuite:
    return generate_suite(
        graph,
        process_key="p",
        process_version=1,
        criterion=criterion,
        loop_bound=loop_bound,
        max_scenarios=max_scenarios,
        called=called,
    )


def paths(suite: GeneratedSuite) -> list[str]:
    return [" ".join(scenario.path) for scenario in suite.scenarios]


def steps(suite: GeneratedSuite, position: int = 0) -> list[tuple[str, str | None, str]]:
    return [(s.kind.value, s.element_id, s.branch) for s in suite.scenarios[position].steps]


CHOICE = model("s>A", "A>x1", "x1>B", "x1>C", "B>x2", "C>x2", "x2>e")


def test_an_exclusive_choice_gives_one_scenario_per_branch() -> None:
    suite = generate(CHOICE)
    assert paths(suite) == [
        "s s-A A A-x1 x1 x1-B B B-x2 x2 x2-e e",
        "s s-A A A-x1 x1 x1-C C C-x2 x2 x2-e e",
    ]
    assert suite.parameters["method"] == "minimum-flow"
    assert suite.coverage.flows_covered == suite.coverage.flows_total == 7


def test_each_task_is_an_unbound_action_and_the_end_event_an_empty_assertion() -> None:
    first = generate(CHOICE).scenarios[0].steps
    assert [(s.kind, s.element_id) for s in first] == [
        (StepKind.ACTION, "A"),
        (StepKind.ACTION, "B"),
        (StepKind.ASSERTION, "e"),
    ]
    assert first[0].meta["unbound"] is True
    assert first[2].spec == {}
    assert [s.position for s in first] == [1, 2, 3]


def test_decisions_record_the_flow_taken_and_its_condition() -> None:
    graph = model(
        "s>x1", "x1>B", "x1>C", "B>e", "C>e", conditions={"x1-B": "${ok}", "x1-C": "${!ok}"}
    )
    suite = generate(graph)
    assert suite.scenarios[1].decisions == (
        Decision(gateway="x1", flows=("x1-C",), conditions=("${!ok}",), branch=""),
    )
    assert [s.name for s in suite.scenarios] == ["S01 ${ok} → e", "S02 ${!ok} → e"]


def test_nested_exclusive_blocks_need_the_sum_of_their_branches() -> None:
    graph = model("s>x1", "x1>x3", "x3>A", "x3>B", "A>x4", "B>x4", "x4>x2", "x1>C", "C>x2", "x2>e")
    assert len(generate(graph).scenarios) == 3


def test_a_parallel_block_is_one_scenario_with_labelled_branches_and_a_barrier() -> None:
    graph = model("s>p1", "p1>A", "p1>B", "A>p2", "B>p2", "p2>e")
    suite = generate(graph)
    assert len(suite.scenarios) == 1
    assert steps(suite) == [
        ("ACTION", "A", "/p1#1"),
        ("ACTION", "B", "/p1#2"),
        ("BARRIER", "p2", ""),
        ("ASSERTION", "e", ""),
    ]
    barrier = suite.scenarios[0].steps[2]
    assert barrier.spec == {"gateway": "p2", "branches": ["/p1#1", "/p1#2"]}
    assert suite.scenarios[0].branch_paths == {
        "": ("s", "s-p1", "p1", "p2", "p2-e", "e"),
        "/p1#1": ("p1-A", "A", "A-p2"),
        "/p1#2": ("p1-B", "B", "B-p2"),
    }


def test_a_parallel_block_needs_as_many_scenarios_as_its_most_demanding_branch() -> None:
    graph = model(
        "s>p1",
        "p1>x1",
        "x1>A",
        "x1>B",
        "x1>C",
        "A>x2",
        "B>x2",
        "C>x2",
        "x2>p2",
        "p1>x3",
        "x3>D",
        "x3>F",
        "D>x4",
        "F>x4",
        "x4>p2",
        "p2>e",
    )
    suite = generate(graph)
    assert len(suite.scenarios) == 3
    assert covered_flows(suite, graph) == {f.id for f in graph.flows}


def test_nested_splits_get_nested_labels_and_inner_barriers() -> None:
    graph = model("s>p1", "p1>p3", "p3>A", "p3>B", "A>p4", "B>p4", "p4>p2", "p1>C", "C>p2", "p2>e")
    assert steps(generate(graph)) == [
        ("ACTION", "A", "/p1#1/p3#1"),
        ("ACTION", "B", "/p1#1/p3#2"),
        ("BARRIER", "p4", "/p1#1"),
        ("ACTION", "C", "/p1#2"),
        ("BARRIER", "p2", ""),
        ("ASSERTION", "e", ""),
    ]


def test_a_parallel_split_inside_an_exclusive_branch() -> None:
    graph = model("s>x1", "x1>p1", "p1>A", "p1>B", "A>p2", "B>p2", "p2>x2", "x1>C", "C>x2", "x2>e")
    suite = generate(graph)
    assert len(suite.scenarios) == 2
    assert [s.kind for s in suite.scenarios[0].steps].count(StepKind.BARRIER) == 1
    assert [s.kind for s in suite.scenarios[1].steps].count(StepKind.BARRIER) == 0


def test_a_parallel_block_without_steps_needs_no_barrier() -> None:
    suite = generate(model("s>p1", "p1>x1", "x1>p2", "p1>x2", "x2>p2", "p2>e"))
    assert steps(suite) == [("ASSERTION", "e", "")]
    assert set(suite.scenarios[0].branch_paths) == {"", "/p1#1", "/p1#2"}


def test_parallel_branches_that_end_are_closed_by_the_end_of_the_scenario() -> None:
    suite = generate(model("s>p1", "p1>A", "p1>B", "A>e1", "B>e2"))
    assert steps(suite) == [
        ("ACTION", "A", "/p1#1"),
        ("ASSERTION", "e1", "/p1#1"),
        ("ACTION", "B", "/p1#2"),
        ("ASSERTION", "e2", "/p1#2"),
    ]


INCLUSIVE = model("s>o1", "o1>A", "o1>B", "A>o2", "B>o2", "o2>e")


def test_all_flows_takes_every_inclusive_branch_at_once() -> None:
    suite = generate(INCLUSIVE)
    assert len(suite.scenarios) == 1
    assert suite.scenarios[0].decisions == (
        Decision(gateway="o1", flows=("o1-A", "o1-B"), conditions=(None, None)),
    )


def test_all_paths_takes_every_non_empty_subset_of_inclusive_branches() -> None:
    suite = generate(INCLUSIVE, Criterion.ALL_PATHS)
    assert [s.decisions[0].flows for s in suite.scenarios] == [
        ("o1-A",),
        ("o1-B",),
        ("o1-A", "o1-B"),
    ]


def test_an_inclusive_default_flow_is_taken_alone() -> None:
    graph = model("s>o1", "o1>A", "o1>B", "o1>C", "A>o2", "B>o2", "C>o2", "o2>e")
    split = node("o1", default_flow="o1-C")
    graph = graph.model_copy(
        update={"nodes": tuple(split if n.id == "o1" else n for n in graph.nodes)}
    )
    suite = generate(graph)
    assert [s.decisions[0].flows for s in suite.scenarios] == [("o1-C",), ("o1-A", "o1-B")]


def test_an_event_based_gateway_gives_one_scenario_per_event() -> None:
    message = node(
        "m1",
        category=NodeCategory.INTERMEDIATE_CATCH_EVENT,
        type="intermediateCatchEvent",
        event_definitions=("message",),
    )
    timer = node(
        "t1",
        category=NodeCategory.INTERMEDIATE_CATCH_EVENT,
        type="intermediateCatchEvent",
        event_definitions=("timer",),
    )
    graph = model(
        "s>g", "g>m1", "g>t1", "m1>A", "t1>B", "A>x", "B>x", "x>e", extra=(message, timer)
    )
    suite = generate(graph)
    assert [s.decisions[0].flows for s in suite.scenarios] == [("g-m1",), ("g-t1",)]
    assert steps(suite)[0] == ("ACTION", "m1", "")


def test_an_interrupting_boundary_event_gives_an_exception_path_leaving_the_task() -> None:
    timer = node(
        "bt",
        category=NodeCategory.BOUNDARY_EVENT,
        type="boundaryEvent",
        attached_to="A",
        event_definitions=("timer",),
    )
    suite = generate(model("s>A", "A>B", "B>e1", "bt>C", "C>e2", extra=(timer,)))
    assert paths(suite) == ["s s-A A A-B B B-e1 e1", "s s-A A bt bt-C C C-e2 e2"]
    assert suite.scenarios[1].decisions == (
        Decision(gateway="A", flows=("bt",), conditions=(None,)),
    )


def test_a_non_interrupting_boundary_event_adds_a_concurrent_branch() -> None:
    message = node(
        "bm",
        category=NodeCategory.BOUNDARY_EVENT,
        type="boundaryEvent",
        attached_to="A",
        cancel_activity=False,
        event_definitions=("message",),
    )
    suite = generate(model("s>A", "A>B", "B>e1", "bm>C", "C>e2", extra=(message,)))
    assert len(suite.scenarios) == 1
    assert steps(suite) == [
        ("ACTION", "A", ""),
        ("ACTION", "bm", "/A#2"),
        ("ACTION", "C", "/A#2"),
        ("ASSERTION", "e2", "/A#2"),
        ("ACTION", "B", ""),
        ("ASSERTION", "e1", ""),
    ]


def test_a_boundary_event_inside_a_parallel_branch_nests_its_label() -> None:
    message = node(
        "bm",
        category=NodeCategory.BOUNDARY_EVENT,
        type="boundaryEvent",
        attached_to="A",
        cancel_activity=False,
        event_definitions=("message",),
    )
    graph = model("s>p1", "p1>A", "p1>B", "A>p2", "B>p2", "p2>e", "bm>C", "C>e2", extra=(message,))
    assert steps(generate(graph)) == [
        ("ACTION", "A", "/p1#1"),
        ("ACTION", "bm", "/p1#1/A#2"),
        ("ACTION", "C", "/p1#1/A#2"),
        ("ASSERTION", "e2", "/p1#1/A#2"),
        ("ACTION", "B", "/p1#2"),
        ("BARRIER", "p2", ""),
        ("ASSERTION", "e", ""),
    ]


def test_a_boundary_event_that_loops_back_is_covered_going_around_once() -> None:
    timer = node(
        "bt",
        category=NodeCategory.BOUNDARY_EVENT,
        type="boundaryEvent",
        attached_to="A",
        event_definitions=("timer",),
    )
    graph = model("s>x1", "x1>A", "A>x2", "x2>x1", "x2>e", "bt>x1", extra=(timer,))
    suite = generate(graph)
    assert paths(suite) == [
        "s s-x1 x1 x1-A A A-x2 x2 x2-x1 x1 x1-A A A-x2 x2 x2-e e",
        "s s-x1 x1 x1-A A bt bt-x1 x1 x1-A A A-x2 x2 x2-e e",
    ]
    assert suite.coverage.uncovered == ()


def test_all_paths_fires_a_non_interrupting_boundary_event_or_not() -> None:
    message = node(
        "bm",
        category=NodeCategory.BOUNDARY_EVENT,
        type="boundaryEvent",
        attached_to="A",
        cancel_activity=False,
        event_definitions=("message",),
    )
    graph = model("s>A", "A>B", "B>e1", "bm>C", "C>e2", extra=(message,))
    suite = generate(graph, Criterion.ALL_PATHS)
    assert paths(suite) == ["s s-A A A-B B B-e1 e1", "s s-A A bm bm-C C C-e2 e2 A-B B B-e1 e1"]


def test_a_non_interrupting_event_subprocess_runs_beside_the_process() -> None:
    esp = node("esp", category=NodeCategory.SUB_PROCESS, type="subProcess", triggered_by_event=True)
    start = node("s9", parent="esp", event_definitions=("message",), is_interrupting=False)
    inner = (start, node("H", parent="esp"), node("e9", parent="esp"))
    suite = generate(model("s>A", "A>e1", "s9>H", "H>e9", extra=(esp, *inner)))
    assert steps(suite) == [
        ("ACTION", "s9", "/s#2"),
        ("ACTION", "H", "/s#2"),
        ("ASSERTION", "e9", "/s#2"),
        ("ACTION", "A", ""),
        ("ASSERTION", "e1", ""),
    ]


def _subprocess(*inner: str, **fields: object) -> tuple:  # type: ignore[type-arg]
    sub = node("sub", category=NodeCategory.SUB_PROCESS, type="subProcess", **fields)
    return (sub, *(node(n, parent="sub") for n in inner))


def test_a_subprocess_is_inlined() -> None:
    graph = model("s>sub", "sub>B", "B>e1", "s2>T", "T>e3", extra=_subprocess("s2", "T", "e3"))
    assert paths(generate(graph)) == ["s s-sub sub s2 s2-T T T-e3 e3 sub-B B B-e1 e1"]


def test_an_error_end_event_in_a_subprocess_leaves_through_its_error_boundary_event() -> None:
    catcher = node(
        "be",
        category=NodeCategory.BOUNDARY_EVENT,
        type="boundaryEvent",
        attached_to="sub",
        event_definitions=("error",),
    )
    inner = (
        *_subprocess("s2", "T", "x", "e3"),
        node("e4", parent="sub", event_definitions=("error",)),
    )
    graph = model(
        "s>sub",
        "sub>B",
        "B>e1",
        "s2>T",
        "T>x",
        "x>e3",
        "x>e4",
        "be>C",
        "C>e2",
        extra=(*inner, catcher),
    )
    assert paths(generate(graph)) == [
        "s s-sub sub s2 s2-T T T-x x x-e3 e3 sub-B B B-e1 e1",
        "s s-sub sub s2 s2-T T T-x x x-e4 e4 be be-C C C-e2 e2",
    ]


def test_parallel_branches_ending_inside_a_subprocess_meet_at_its_barrier() -> None:
    graph = model(
        "s>sub",
        "sub>B",
        "B>e1",
        "s2>p",
        "p>T",
        "p>U",
        "T>e3",
        "U>e4",
        extra=_subprocess("s2", "p", "T", "U", "e3", "e4"),
    )
    assert steps(generate(graph))[4:] == [
        ("BARRIER", "sub", ""),
        ("ACTION", "B", ""),
        ("ASSERTION", "e1", ""),
    ]


def test_an_interrupting_event_subprocess_is_an_alternative_path() -> None:
    esp = node("esp", category=NodeCategory.SUB_PROCESS, type="subProcess", triggered_by_event=True)
    inner = (
        node("s9", parent="esp", event_definitions=("message",)),
        node("H", parent="esp"),
        node("e9", parent="esp"),
    )
    suite = generate(model("s>A", "A>e1", "s9>H", "H>e9", extra=(esp, *inner)))
    assert paths(suite) == ["s s-A A A-e1 e1", "s esp s9 s9-H H H-e9 e9"]


def test_a_link_throw_event_continues_at_the_catch_event_of_its_link_name() -> None:
    throw = node(
        "lt",
        category=NodeCategory.INTERMEDIATE_THROW_EVENT,
        type="intermediateThrowEvent",
        event_definitions=("link",),
        link_name="L",
    )
    catch = node(
        "lc",
        category=NodeCategory.INTERMEDIATE_CATCH_EVENT,
        type="intermediateCatchEvent",
        event_definitions=("link",),
        link_name="L",
    )
    suite = generate(model("s>A", "A>lt", "lc>B", "B>e", extra=(throw, catch)))
    assert paths(suite) == ["s s-A A A-lt lt lc lc-B B B-e e"]


def test_a_call_activity_is_one_action_naming_the_called_process() -> None:
    call = node(
        "c", category=NodeCategory.CALL_ACTIVITY, type="callActivity", called_element="billing"
    )
    step = generate(model("s>c", "c>e", extra=(call,))).scenarios[0].steps[0]
    assert (step.kind, step.meta["calledElement"]) == (StepKind.ACTION, "billing")


def test_an_imported_called_process_is_inlined_with_prefixed_ids() -> None:
    call = node(
        "c", category=NodeCategory.CALL_ACTIVITY, type="callActivity", called_element="bill"
    )
    billing = model("s>x1", "x1>charge", "x1>invoice", "charge>e", "invoice>e").model_copy(
        update={"id": "bill"}
    )
    suite = generate(model("s>c", "c>e", extra=(call,)), called={"bill": billing})
    assert paths(suite) == [
        "s s-c c c/s c/s-x1 c/x1 c/x1-charge c/charge c/charge-e c/e c-e e",
        "s s-c c c/s c/s-x1 c/x1 c/x1-invoice c/invoice c/invoice-e c/e c-e e",
    ]
    step = suite.scenarios[0].steps[0]
    assert (step.element_id, step.meta["calledElementId"], step.meta["calledFrom"]) == (
        "c/charge",
        "charge",
        "c",
    )
    assert suite.parameters["inlined_calls"] == ["bill"]
    assert suite.coverage.flows_total == 2


def test_a_called_process_is_inlined_even_when_the_graph_was_looked_up_before() -> None:
    # resolving a binding file reads `node_by_id` before generation inlines the calls
    call = node(
        "c", category=NodeCategory.CALL_ACTIVITY, type="callActivity", called_element="bill"
    )
    caller = model("s>c", "c>e", extra=(call,))
    assert set(caller.node_by_id) == {"s", "c", "e"}
    billing = model("s>charge", "charge>e").model_copy(update={"id": "bill"})
    suite = generate(caller, called={"bill": billing})
    assert [step.element_id for step in suite.scenarios[0].steps] == ["c/charge", "c/e", "e"]


def test_a_copied_graph_looks_up_its_own_nodes_and_flows() -> None:
    graph = model("s>a", "a>e")
    assert "b" not in graph.node_by_id
    assert graph.outgoing["a"][0].target == "e"
    copy = graph.model_copy(update={"nodes": (*graph.nodes, node("b")), "flows": ()})
    assert "b" in copy.node_by_id
    assert copy.outgoing["a"] == ()
    assert copy.flow_by_id == {}
    assert graph.outgoing["a"][0].target == "e"  # the original keeps its own


def test_a_recursive_call_stays_one_step() -> None:
    call = node("c", category=NodeCategory.CALL_ACTIVITY, type="callActivity", called_element="p")
    graph = model("s>c", "c>e", extra=(call,))
    suite = generate(graph, called={"p": graph})
    assert suite.scenarios[0].path == ("s", "s-c", "c", "c-e", "e")
    assert suite.scenarios[0].steps[0].meta["calledElement"] == "p"


def test_message_flows_to_other_pools_become_send_and_receive_steps() -> None:
    graph = model(
        "s>A",
        "A>m",
        "m>e",
        extra=(
            node(
                "m", category=NodeCategory.INTERMEDIATE_CATCH_EVENT, type="intermediateCatchEvent"
            ),
        ),
    )
    graph = graph.model_copy(
        update={
            "message_flows": (
                MessageFlow(id="mf1", source="A", target="Shop"),
                MessageFlow(id="mf2", source="Shop", target="m"),
            )
        }
    )
    first = generate(graph).scenarios[0].steps
    assert first[0].meta["messages"] == [{"flow": "mf1", "direction": "send", "peer": "Shop"}]
    assert (first[1].kind, first[1].meta["messages"][0]["direction"]) == (
        StepKind.ACTION,
        "receive",
    )


DO_WHILE = model("s>x1", "x1>A", "A>x2", "x2>x1", "x2>e")


def test_a_back_flow_is_covered_by_going_around_the_loop_once() -> None:
    assert paths(generate(DO_WHILE)) == ["s s-x1 x1 x1-A A A-x2 x2 x2-x1 x1 x1-A A A-x2 x2 x2-e e"]


def test_a_while_loop_body_is_left_through_its_back_flow() -> None:
    suite = generate(model("s>x1", "x1>A", "A>x1", "x1>e"))
    assert paths(suite) == ["s s-x1 x1 x1-A A A-x1 x1 x1-e e"]


def test_all_paths_takes_each_back_flow_at_most_loop_bound_times() -> None:
    assert len(generate(DO_WHILE, Criterion.ALL_PATHS).scenarios) == 2
    assert len(generate(DO_WHILE, Criterion.ALL_PATHS, loop_bound=3).scenarios) == 4
    assert len(generate(DO_WHILE, Criterion.ALL_PATHS, loop_bound=0).scenarios) == 1


@pytest.mark.parametrize(
    ("loop_bound", "max_scenarios"),
    [(-1, 1), (MAX_LOOP_BOUND + 1, 1), (1, 0), (1, MAX_SCENARIOS + 1)],
)
def test_generation_knobs_outside_their_bounds_are_refused_naming_both_ranges(
    loop_bound: int, max_scenarios: int
) -> None:
    ranges = f"--loop-bound must be 0 to {MAX_LOOP_BOUND} and --max-scenarios 1 to {MAX_SCENARIOS}"
    with pytest.raises(InputRefused, match=ranges):
        generate(DO_WHILE, Criterion.ALL_PATHS, loop_bound=loop_bound, max_scenarios=max_scenarios)


def test_all_paths_above_the_cap_stops_with_the_count_reached_and_how_to_narrow() -> None:
    with pytest.raises(GenerationLimit, match=r"stopped at 3 scenarios.*--loop-bound.*all-flows"):
        generate(DO_WHILE, Criterion.ALL_PATHS, loop_bound=5, max_scenarios=2)


def test_all_paths_above_the_cap_says_how_far_the_cap_may_be_raised() -> None:
    with pytest.raises(GenerationLimit) as caught:
        generate(DO_WHILE, Criterion.ALL_PATHS, loop_bound=5, max_scenarios=2)

    assert caught.value.message.endswith(
        f"use --coverage all-flows, or raise --max-scenarios (up to {MAX_SCENARIOS})"
    )


def test_all_paths_distinguishes_choices_in_different_parallel_branches() -> None:
    graph = model(
        "s>p1",
        "p1>x1",
        "x1>A",
        "x1>B",
        "A>x2",
        "B>x2",
        "x2>p2",
        "p1>x3",
        "x3>C",
        "x3>D",
        "C>x4",
        "D>x4",
        "x4>p2",
        "p2>e",
    )
    assert len(generate(graph, Criterion.ALL_PATHS).scenarios) == 4
    assert len(generate(graph).scenarios) == 2


def test_all_nodes_can_need_fewer_scenarios_than_all_flows() -> None:
    graph = model("s>x1", "x1>A", "x1>x2", "A>x2", "x2>e")
    assert len(generate(graph).scenarios) == 2
    assert paths(generate(graph, Criterion.ALL_NODES)) == ["s s-x1 x1 x1-A A A-x2 x2 x2-e e"]


def test_an_unstructured_model_falls_back_to_a_complete_token_game_and_says_so() -> None:
    graph = model("s>p1", "p1>A", "p1>B", "A>x", "B>x", "x>e")  # parallel split, exclusive merge
    suite = generate(graph)
    assert suite.parameters["method"] == "token-game-heuristic"
    assert "not block-structured" in suite.parameters["note"]
    assert covered_flows(suite, graph) == {f.id for f in graph.flows}


def test_all_paths_on_an_unstructured_model_is_refused_with_the_reason() -> None:
    graph = model("s>p1", "p1>A", "p1>B", "A>x", "B>x", "x>e")
    with pytest.raises(InputRefused, match="not block-structured"):
        generate(graph, Criterion.ALL_PATHS)


def test_a_terminate_end_event_ends_every_branch() -> None:
    terminate = node("e2", event_definitions=("terminate",))
    graph = model(
        "s>p1", "p1>A", "p1>B", "A>p2", "B>x", "x>p2", "x>e2", "p2>e1", extra=(terminate,)
    )
    suite = generate(graph)
    assert covered_flows(suite, graph) == {f.id for f in graph.flows}
    assert any(s.path[-1] == "e2" for s in suite.scenarios)


def test_a_token_game_that_deadlocks_is_played_again_around_the_join_it_waited_at() -> None:
    # from s2 the guide first heads for the uncovered xW-p2, where the token waits for a
    # parallel branch that never comes; played again, it takes xW-eZ instead and covers s2-X
    graph = model(
        "s1>p1", "p1>B", "p1>C", "B>p2", "C>xW", "xW>p2", "p2>e1", "s2>X", "X>xW", "s3>xW",
        "xW>eZ",
    )  # fmt: skip
    suite = generate(graph)
    assert suite.parameters["method"] == "token-game-heuristic"
    assert "s2 s2-X X X-xW xW xW-eZ eZ" in paths(suite)
    assert covered_flows(suite, graph) == {f.id for f in graph.flows}


def test_unreachable_elements_are_reported_uncovered_with_the_reason() -> None:
    suite = generate(model("s>A", "A>e", "Z>e"))
    assert suite.coverage.uncovered == (
        {"element": "Z", "kind": "node", "reason": "no start event reaches it"},
        {"element": "Z-e", "kind": "flow", "reason": "no start event reaches it"},
    )


def test_a_process_without_a_way_from_start_to_end_is_refused() -> None:
    # no start event, and every node has an incoming flow: there is no implicit start either
    with pytest.raises(BpmnRefused, match="no start event leads to an end event"):
        generate(model("A>B", "B>A", "B>e"))


def test_scenario_names_are_numbered_and_read_the_choices() -> None:
    graph = model("s>x1", "x1>accept", "x1>reject", "accept>e1", "reject>e2")
    graph = graph.model_copy(
        update={
            "nodes": tuple(
                n.model_copy(update={"name": {"e1": "shipped", "e2": "refused"}.get(n.id)})
                if n.id in ("e1", "e2")
                else n
                for n in graph.nodes
            )
        }
    )
    assert [s.name for s in generate(graph).scenarios] == [
        "S01 accept → shipped",
        "S02 reject → refused",
    ]
