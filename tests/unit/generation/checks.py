"""Checks every generated scenario must pass, shared by the example and property tests."""

from __future__ import annotations

import itertools

from orchestra.domain.process import NodeCategory, ProcessGraph
from orchestra.domain.scenario import GeneratedSuite, TestScenario
from orchestra.domain.statuses import StepKind


def covered_flows(suite: GeneratedSuite, graph: ProcessGraph) -> set[str]:
    return {e for s in suite.scenarios for e in s.path if e in graph.flow_by_id}


def assert_valid_token_game(scenario: TestScenario, graph: ProcessGraph) -> None:
    """Each branch is a walk along flows; the main line goes from a start to an end event;
    every parallel split on a branch forks into one labelled branch per outgoing flow, closed by
    a BARRIER at its join when the branches hold steps."""
    main = scenario.branch_paths[""]
    assert graph.node_by_id[main[0]].category is NodeCategory.START_EVENT, scenario.name
    assert graph.node_by_id[main[-1]].category is NodeCategory.END_EVENT, scenario.name
    barriers = {s.spec["gateway"]: s for s in scenario.steps if s.kind is StepKind.BARRIER}
    for label, path in scenario.branch_paths.items():
        _assert_walk(graph, label, path)
        for position, element in enumerate(path):
            node = graph.node_by_id.get(element)
            if node is None or node.category is not NodeCategory.PARALLEL_GATEWAY:
                continue
            outgoing = graph.outgoing[element]
            if len(outgoing) < 2:
                continue
            labels = [f"{label}/{element}#{n}" for n in range(1, len(outgoing) + 1)]
            for flow, branch in zip(outgoing, labels, strict=True):
                assert scenario.branch_paths[branch][0] == flow.id, (scenario.name, branch)
            join = path[position + 1]
            inside = [s for s in scenario.steps if s.branch.startswith(f"{label}/{element}#")]
            if inside:  # a block with nothing to run needs no barrier
                assert barriers[join].spec["branches"] == labels
                assert barriers[join].branch == label
            for branch in labels:
                last = graph.flow_by_id[scenario.branch_paths[branch][-1]]
                assert last.target == join, (scenario.name, branch)


def _assert_walk(graph: ProcessGraph, label: str, path: tuple[str, ...]) -> None:
    """Node then flow: the flow leaves the node; flow then node: the flow enters it; node then
    node: a parallel split followed by its join (its branches are walked on their own labels);
    flow then flow: a loop took the block again and its branch starts over."""
    for before, after in itertools.pairwise(path):
        flow_before, flow_after = graph.flow_by_id.get(before), graph.flow_by_id.get(after)
        if flow_before is None and flow_after is not None:
            assert flow_after.source == before, (label, path)
        elif flow_before is not None and flow_after is None:
            assert flow_before.target == after, (label, path)
        elif flow_before is None and flow_after is None:
            category = graph.node_by_id[before].category
            assert category is NodeCategory.PARALLEL_GATEWAY, (label, path)
        else:  # a loop around the block walks the same branch again, after its BARRIER
            assert flow_before is not None
            assert flow_after is not None
            assert flow_before.target != flow_after.source, (label, path)
            assert graph.node_by_id[flow_after.source].category is NodeCategory.PARALLEL_GATEWAY
