"""Properties of generation on random block-structured models (sequence, exclusive, parallel)."""

from __future__ import annotations

import itertools

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from orchestra.domain.generation import Criterion, generate_suite
from orchestra.domain.process import ProcessGraph
from orchestra.domain.scenario import GeneratedSuite
from orchestra.runtime.plan import all_steps, build_plan
from tests.unit.generation.blocks import (
    And,
    Block,
    Loop,
    Seq,
    Task,
    Xor,
    minimum,
    to_graph,
    token_games,
)
from tests.unit.generation.checks import assert_valid_token_game, covered_flows
from tests.unit.generation.models import model


def trees(loops: bool = False) -> st.SearchStrategy[Block]:
    def extend(inner: st.SearchStrategy[Block]) -> st.SearchStrategy[Block]:
        def seq(items: list[Block]) -> Block:
            return Seq(tuple(items))

        def xor(branches: list[Block | None]) -> Block:
            return Xor(tuple(branches))

        def par(branches: list[Block]) -> Block:
            return And(tuple(branches))

        def loop(body: Block) -> Block:
            return Loop(body)

        options: list[st.SearchStrategy[Block]] = [
            st.lists(inner, min_size=2, max_size=3).map(seq),
            st.lists(st.none() | inner, min_size=2, max_size=3).map(xor),
            st.lists(inner, min_size=2, max_size=3).map(par),
        ]
        if loops:
            options.append(inner.map(loop))
        return st.one_of(options)

    return st.recursive(st.just(Task()), extend, max_leaves=7)


def _generate(graph: ProcessGraph, criterion: Criterion = Criterion.ALL_FLOWS) -> GeneratedSuite:
    return generate_suite(graph, process_key="t", process_version=1, criterion=criterion)


def brute_force_minimum(games: list[frozenset[str]]) -> int:
    everything = frozenset().union(*games)
    distinct = sorted(set(games), key=sorted)
    for count in range(1, len(distinct) + 1):
        for chosen in itertools.combinations(distinct, count):
            if frozenset().union(*chosen) == everything:
                return count
    raise AssertionError("no cover")


@settings(max_examples=150, deadline=None)
@given(trees())
def test_all_flows_covers_every_flow_with_the_brute_force_minimum(tree: Block) -> None:
    graph = to_graph(tree)
    suite = _generate(graph)
    games = token_games(tree)
    assert covered_flows(suite, graph) == {f.id for f in graph.flows}
    assert len(suite.scenarios) == minimum(tree)
    if len(set(games)) <= 12:
        assert len(suite.scenarios) == brute_force_minimum(games)
    for scenario in suite.scenarios:
        assert_valid_token_game(scenario, graph)
        flows = frozenset(e for e in scenario.path if e in graph.flow_by_id)
        assert flows in games


@settings(max_examples=80, deadline=None)
@given(trees())
def test_all_paths_lists_every_token_game_once(tree: Block) -> None:
    graph = to_graph(tree)
    games = token_games(tree)
    suite = generate_suite(
        graph, process_key="t", process_version=1, criterion=Criterion.ALL_PATHS, max_scenarios=5000
    )
    found = [frozenset(e for e in s.path if e in graph.flow_by_id) for s in suite.scenarios]
    assert sorted(found, key=sorted) == sorted(games, key=sorted)


@settings(max_examples=80, deadline=None)
@given(trees(loops=True))
def test_with_loops_every_flow_and_back_flow_is_covered_by_valid_token_games(tree: Block) -> None:
    graph = to_graph(tree)
    suite = _generate(graph)
    assert covered_flows(suite, graph) == {f.id for f in graph.flows}
    assert len(suite.scenarios) <= minimum(tree)
    for scenario in suite.scenarios:
        assert_valid_token_game(scenario, graph)


@settings(max_examples=80, deadline=None)
@given(trees(loops=True), st.sampled_from([Criterion.ALL_FLOWS, Criterion.ALL_PATHS]))
def test_the_runtime_reads_every_scenario_back_in_the_same_step_order(
    tree: Block, criterion: Criterion
) -> None:
    graph = to_graph(tree)
    suite = generate_suite(
        graph, process_key="t", process_version=1, criterion=criterion, max_scenarios=5000
    )
    for scenario in suite.scenarios:
        assert all_steps(build_plan(scenario.steps)) == list(scenario.steps)


@settings(max_examples=60, deadline=None)
@given(trees(loops=True))
def test_all_nodes_covers_every_node_with_no_more_scenarios_than_all_flows(tree: Block) -> None:
    graph = to_graph(tree)
    nodes = _generate(graph, Criterion.ALL_NODES)
    flows = _generate(graph)
    assert nodes.coverage.nodes_covered == nodes.coverage.nodes_total
    assert len(nodes.scenarios) <= len(flows.scenarios)


@settings(max_examples=40, deadline=None)
@given(trees(loops=True))
def test_generation_is_deterministic(tree: Block) -> None:
    graph = to_graph(tree)
    assert _generate(graph) == _generate(graph)


@st.composite
def exclusive_dags(draw: st.DrawFn) -> ProcessGraph:
    """Random acyclic graphs of exclusive gateways, not block-structured: s -> x0..xn -> e."""
    count = draw(st.integers(min_value=2, max_value=5))
    names = [*(f"x{i}" for i in range(count + 1)), "e"]
    arrows = {"s>x0"} | {f"{names[i]}>{names[i + 1]}" for i in range(len(names) - 1)}
    for i in range(len(names) - 1):
        for j in range(i + 2, len(names)):
            if draw(st.booleans()):
                arrows.add(f"{names[i]}>{names[j]}")
    order = ["s", *names]
    return model(*sorted(arrows, key=lambda a: [order.index(n) for n in a.split(">")]))


def all_paths_flows(graph: ProcessGraph) -> list[frozenset[str]]:
    found: list[frozenset[str]] = []

    def walk(node: str, taken: frozenset[str]) -> None:
        if not graph.outgoing[node]:
            found.append(taken)
        for flow in graph.outgoing[node]:
            walk(flow.target, taken | {flow.id})

    walk("s", frozenset())
    return found


@settings(max_examples=150, deadline=None)
@given(exclusive_dags())
def test_all_flows_is_the_exact_minimum_on_unstructured_exclusive_graphs(
    graph: ProcessGraph,
) -> None:
    games = all_paths_flows(graph)
    assume(len(games) <= 12)  # keeps the brute force small
    suite = _generate(graph)
    assert suite.parameters["method"] == "minimum-flow"
    assert covered_flows(suite, graph) == {f.id for f in graph.flows}
    assert len(suite.scenarios) == brute_force_minimum(games)
