"""Every importable model of the shared BPMN corpus generates, or says clearly why not."""

from __future__ import annotations

import pytest

from orchestra.bpmn import read_bpmn
from orchestra.domain.generation import Criterion, generate_suite
from orchestra.domain.process import ProcessGraph
from orchestra.errors import BpmnRefused, GenerationLimit, InputRefused, OrchestraError
from orchestra.runtime.plan import all_steps, build_plan
from tests.corpus import corpus_dir, corpus_files

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        corpus_dir() is None, reason="the BPMN corpus (shared/corpus/bpmn-miwg) is not here"
    ),
]


def corpus_processes() -> list[tuple[str, ProcessGraph]]:
    root = corpus_dir()
    assert root is not None
    found: list[tuple[str, ProcessGraph]] = []
    for path in corpus_files():
        try:
            model = read_bpmn(path.read_bytes(), source=path.name)
        except BpmnRefused:
            continue
        name = str(path.relative_to(root))
        found += [(f"{name}#{graph.id}", graph) for graph in model.processes]
    return found


@pytest.mark.parametrize("criterion", list(Criterion))
def test_every_corpus_process_generates_or_is_refused_with_a_message(criterion: Criterion) -> None:
    outcomes: dict[str, int] = {}
    messages: list[str] = []
    for name, graph in corpus_processes():
        try:
            suite = generate_suite(
                graph,
                process_key=graph.id,
                process_version=1,
                criterion=criterion,
                max_scenarios=200,
            )
        except (BpmnRefused, GenerationLimit, InputRefused) as refused:
            outcomes[type(refused).__name__] = outcomes.get(type(refused).__name__, 0) + 1
            messages.append(refused.message)
            continue
        cov = suite.coverage
        assert cov.flows_total == len(graph.flows), name
        assert cov.nodes_total == len(graph.nodes), name
        uncovered = len(cov.uncovered)
        assert (
            uncovered == cov.flows_total - cov.flows_covered + cov.nodes_total - cov.nodes_covered
        )
        assert all(item["reason"] for item in cov.uncovered), name
        assert suite.scenarios, name
        for scenario in suite.scenarios:  # the runtime reads the branch encoding back
            assert all_steps(build_plan(scenario.steps)) == list(scenario.steps), name
        outcomes[suite.parameters["method"]] = outcomes.get(suite.parameters["method"], 0) + 1
    assert all(message.startswith("process ") for message in messages)
    assert sum(outcomes.values()) >= 600
    assert outcomes.get("minimum-flow", 0) + outcomes.get("enumeration", 0) >= 500


def test_block_structured_corpus_processes_cover_every_reachable_flow() -> None:
    for name, graph in corpus_processes():
        try:
            suite = generate_suite(graph, process_key=graph.id, process_version=1)
        except OrchestraError:
            continue
        if suite.parameters["method"] != "minimum-flow":
            continue
        for item in suite.coverage.uncovered:
            assert not item["reason"].startswith("no valid token game"), (name, item)


def test_corpus_generation_is_deterministic() -> None:
    for name, graph in corpus_processes()[::7]:
        try:
            first = generate_suite(graph, process_key=graph.id, process_version=1)
        except OrchestraError:
            continue
        assert generate_suite(graph, process_key=graph.id, process_version=1) == first, name


def test_corpus_scenarios_name_and_decide_on_model_elements_only() -> None:
    for name, graph in corpus_processes():
        for criterion in Criterion:
            try:
                suite = generate_suite(
                    graph, process_key=graph.id, process_version=1, criterion=criterion
                )
            except OrchestraError:
                continue
            for scenario in suite.scenarios:
                assert "::" not in scenario.name, (name, criterion, scenario.name)
                known = graph.node_by_id.keys() | graph.flow_by_id.keys()
                taken = {flow for decision in scenario.decisions for flow in decision.flows}
                assert taken <= known, (name, criterion, taken - known)


def test_every_corpus_process_with_flow_nodes_gets_an_all_flows_suite() -> None:
    """But one: Bonita's export of B.2.0 lost the boundary event feeding a parallel join, so
    the join waits for a task nothing starts, and every token game deadlocks before an end."""
    refused = []
    for name, graph in corpus_processes():
        try:
            generate_suite(graph, process_key=graph.id, process_version=1)
        except BpmnRefused as exc:
            if graph.nodes:
                refused.append((name, exc.message))
    assert [name for name, _ in refused] == [
        "Bonita BPM 7.2.3/B.2.0-roundtrip.bpmn#_VvBk0LZ2EeawX8E3Bjsrfw"
    ]
    assert "parallel join _Vv02ELZ2EeawX8E3Bjsrfw never fires" in refused[0][1]
