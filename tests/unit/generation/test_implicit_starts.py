"""Implicit start (BPMN 2.0): a process or subprocess without a start event starts at every
flow node no sequence flow enters, all at once; the import's warning and generation agree."""

from __future__ import annotations

from orchestra.domain.process import NodeCategory
from orchestra.domain.statuses import StepKind
from tests.unit.bpmn.documents import process, read
from tests.unit.generation.checks import covered_flows
from tests.unit.generation.models import model, node
from tests.unit.generation.test_constructs import generate, paths


def test_a_process_without_a_start_event_starts_where_the_import_says_it_does() -> None:
    imported = read(
        process(
            '<task id="A"/><task id="B"/><endEvent id="E"/>'
            '<sequenceFlow id="F1" sourceRef="A" targetRef="B"/>'
            '<sequenceFlow id="F2" sourceRef="B" targetRef="E"/>'
        )
    )
    (warning,) = [p for p in imported.warnings if p.code == "no-start-event"]
    assert "it starts at 'A'" in warning.message
    (graph,) = imported.processes
    assert paths(generate(graph)) == ["A F1 B F2 E"]


def test_several_implicit_starts_all_get_a_token_at_once() -> None:
    graph = model("A>p", "C>p", "p>e")
    (scenario,) = generate(graph).scenarios
    assert scenario.branch_paths["/p:start#1"] == ("A", "A-p")
    assert scenario.branch_paths["/p:start#2"] == ("C", "C-p")
    kinds = [(s.kind, s.element_id, s.branch) for s in scenario.steps]
    assert kinds == [
        (StepKind.ACTION, "A", "/p:start#1"),
        (StepKind.ACTION, "C", "/p:start#2"),
        (StepKind.BARRIER, "p", ""),
        (StepKind.ASSERTION, "e", ""),
    ]


def test_implicit_starts_without_a_join_end_where_their_tokens_have_nowhere_to_go() -> None:
    graph = model("A>B", "C>D")
    suite = generate(graph)
    assert covered_flows(suite, graph) == {"A-B", "C-D"}
    assert suite.coverage.nodes_covered == 4


def test_a_subprocess_without_a_start_event_starts_at_its_first_node() -> None:
    graph = model(
        "s>S", "S>e", "A>B",
        extra=(
            node("S", category=NodeCategory.SUB_PROCESS, type="subProcess"),
            node("A", parent="S"),
            node("B", parent="S"),
        ),
    )  # fmt: skip
    assert paths(generate(graph)) == ["s s-S S A A-B B S-e e"]
