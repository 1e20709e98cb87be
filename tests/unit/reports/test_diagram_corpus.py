"""Every process of the shared BPMN corpus draws as well-formed SVG, from BPMNDI or laid out."""

from __future__ import annotations

import pytest
from lxml import etree

from orchestra.bpmn.reader import read_bpmn
from orchestra.domain.process import ProcessGraph
from orchestra.errors import BpmnRefused
from orchestra.reports.diagram import diagram_of, render_svg
from orchestra.reports.outcomes import ElementOutcome
from tests.corpus import corpus_files

SVG = "{http://www.w3.org/2000/svg}"


def corpus_graphs() -> list[ProcessGraph]:
    graphs: list[ProcessGraph] = []  # 680 processes in 367 files: about a second
    for path in corpus_files():
        try:
            model = read_bpmn(path.read_bytes(), source=path.name)
        except BpmnRefused:  # the importer's own tests list the files it refuses
            continue
        graphs.extend(model.processes)
    return graphs


def drawn_elements(graph: ProcessGraph) -> set[str]:
    svg = etree.fromstring(str(render_svg(graph, {})).encode())
    return {g.get("data-element", "") for g in svg.iter(f"{SVG}g") if g.get("data-element")}


@pytest.mark.slow
def test_every_corpus_process_draws_each_element_it_has_a_shape_for() -> None:
    graphs = corpus_graphs()
    if not graphs:
        pytest.skip("the shared BPMN corpus is not on this machine (ORCHESTRA_BPMN_CORPUS)")
    for graph in graphs:
        diagram, _ = diagram_of(graph)
        shaped = {shape.element_id for shape in diagram.shapes}
        expected = {n.id for n in graph.nodes if n.id in shaped}
        expected |= {e.element_id for e in diagram.edges if e.element_id in graph.flow_by_id}
        assert drawn_elements(graph) == expected, graph.id
        messages = {m.id for m in graph.message_flows}
        drawn_messages = sum(1 for e in diagram.edges if e.element_id in messages)
        assert str(render_svg(graph, {})).count("data-message-flow=") == drawn_messages


@pytest.mark.slow
def test_every_corpus_process_lays_out_every_node_without_its_diagram() -> None:
    graphs = corpus_graphs()
    if not graphs:
        pytest.skip("the shared BPMN corpus is not on this machine (ORCHESTRA_BPMN_CORPUS)")
    for graph in graphs:
        bare = graph.model_copy(update={"diagram": None})
        outcomes: dict[str, ElementOutcome] = {}
        assert drawn_elements(bare) >= {n.id for n in graph.nodes}, graph.id
        assert render_svg(bare, outcomes).count("<polyline") == len(graph.flows), graph.id
