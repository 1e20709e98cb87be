"""Arbitrary graphs (any gateways, cycles, boundary events) never crash generation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestra.domain.generation import Criterion, generate_suite
from orchestra.domain.process import Flow, NodeCategory, ProcessGraph
from orchestra.domain.scenario import GeneratedSuite
from orchestra.errors import OrchestraError
from tests.unit.generation.models import node

KINDS = ["A", "B", "x", "p", "o", "g"]  # tasks, exclusive, parallel, inclusive, event-based


@st.composite
def arbitrary_graphs(draw: st.DrawFn) -> ProcessGraph:
    count = draw(st.integers(min_value=1, max_value=7))
    inner = [f"{draw(st.sampled_from(KINDS))}{i}" for i in range(count)]
    names = ["s", *inner, "e"]
    edges = {("s", inner[0])}
    for _ in range(draw(st.integers(min_value=count, max_value=3 * count))):
        source = draw(st.sampled_from(names[:-1]))
        target = draw(st.sampled_from(names[1:]))
        edges.add((source, target))
    nodes = [node(n) for n in names]
    tasks = [n for n in inner if n[0] in "AB"]
    if draw(st.booleans()) and tasks:
        host = draw(st.sampled_from(tasks))
        nodes.append(
            node(
                "b",
                category=NodeCategory.BOUNDARY_EVENT,
                type="boundaryEvent",
                attached_to=host,
                cancel_activity=draw(st.booleans()),
            )
        )
        edges.add(("b", draw(st.sampled_from(names[1:]))))
    flows = tuple(Flow(id=f"{a}-{b}", source=a, target=b) for a, b in sorted(edges))
    return ProcessGraph(id="p", nodes=tuple(nodes), flows=flows)


@settings(max_examples=300, deadline=None)
@given(arbitrary_graphs(), st.sampled_from(list(Criterion)))
def test_generation_ends_with_a_suite_or_a_clear_refusal(
    graph: ProcessGraph, criterion: Criterion
) -> None:
    outcome = _generate(graph, criterion)
    if isinstance(outcome, OrchestraError):
        assert outcome.message.startswith("process p")
        return
    assert outcome.scenarios
    cov = outcome.coverage
    uncovered = cov.flows_total - cov.flows_covered + cov.nodes_total - cov.nodes_covered
    assert len(cov.uncovered) == uncovered
    assert all(scenario.path[0] == "s" for scenario in outcome.scenarios)


def _generate(graph: ProcessGraph, criterion: Criterion) -> GeneratedSuite | OrchestraError:
    try:
        return generate_suite(
            graph, process_key="p", process_version=1, criterion=criterion, max_scenarios=50
        )
    except OrchestraError as refused:
        return refused
