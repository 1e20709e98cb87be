"""Whatever is done to a valid document, the importer answers with a graph or a clean refusal."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from orchestra.bpmn import read_bpmn
from orchestra.domain.process import ImportedModel
from orchestra.errors import BpmnRefused
from tests.unit.bpmn.documents import ORDER_BPMN

_ROOT = etree.fromstring(ORDER_BPMN)
_ELEMENT_COUNT = sum(1 for _ in _ROOT.iter())
_ATTRIBUTES = [
    "id", "sourceRef", "targetRef", "attachedToRef", "x", "default", "isExecutable",
    "cancelActivity", "processRef", "bpmnElement", "calledElement",
]  # fmt: skip
_VALUES = st.sampled_from(["", "Check", "Flow_1", "Ship", "x:y:z", "nan", "-1e999", "true", "é"])


@st.composite
def mutated_documents(draw: st.DrawFn) -> bytes:
    root = copy.deepcopy(_ROOT)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        elements = list(root.iter())
        target = elements[draw(st.integers(min_value=0, max_value=len(elements) - 1))]
        _mutate(draw, root, target)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if draw(st.booleans()):
        data = data[: draw(st.integers(min_value=0, max_value=len(data)))]
    return data


def _mutate(draw: st.DrawFn, root: etree._Element, target: etree._Element) -> None:
    action = draw(st.sampled_from(["delete", "duplicate", "drop-attribute", "set-attribute"]))
    parent = target.getparent()
    if action == "delete" and parent is not None:
        parent.remove(target)
    elif action == "duplicate" and parent is not None:
        parent.append(copy.deepcopy(target))
    elif action == "drop-attribute" and target.attrib:
        del target.attrib[draw(st.sampled_from(sorted(target.attrib)))]
    elif action == "set-attribute":
        name = draw(st.sampled_from(_ATTRIBUTES))
        target.set(name, draw(_VALUES))


@given(mutated_documents())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_mutated_document_gives_a_graph_or_a_clean_refusal(data: bytes) -> None:
    try:
        model = read_bpmn(data, source="mutant.bpmn")
    except BpmnRefused as refused:
        message = refused.message
        assert message.startswith("mutant.bpmn: "), message
        return
    assert isinstance(model, ImportedModel)
    for graph in model.processes:
        graph.model_dump_json()  # storable as it stands


def test_the_mutation_base_has_enough_elements_to_be_interesting() -> None:
    assert _ELEMENT_COUNT > 80
