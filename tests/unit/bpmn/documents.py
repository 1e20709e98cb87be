"""BPMN documents for the importer's tests, written out in full so a reader sees the XML."""

from __future__ import annotations

from pathlib import Path

from orchestra.bpmn import read_bpmn
from orchestra.domain.process import ImportedModel, ProcessGraph

ORDER_BPMN = (Path(__file__).parent / "order.bpmn").read_bytes()

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
             xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
             xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
             id="Defs" targetNamespace="http://example.com/test">
"""


def definitions(body: str, *, diagram_of: str | None = "P") -> bytes:
    """A BPMN document around `body`; with a one-shape diagram of `diagram_of` unless None."""
    diagram = ""
    if diagram_of is not None:
        diagram = f"""
  <bpmndi:BPMNDiagram id="D"><bpmndi:BPMNPlane id="Plane" bpmnElement="{diagram_of}">
    <bpmndi:BPMNShape id="S_di" bpmnElement="S"><dc:Bounds x="1" y="2" width="3" height="4"/>
    </bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"""
    return (_HEAD + body + diagram + "\n</definitions>\n").encode()


def process(inner: str, *, attributes: str = 'isExecutable="true"') -> bytes:
    """A document with one process `P` holding `inner`."""
    return definitions(f'  <process id="P" {attributes}>\n{inner}\n  </process>')


LINEAR = """
    <startEvent id="S"/>
    <task id="T"/>
    <endEvent id="E"/>
    <sequenceFlow id="F1" sourceRef="S" targetRef="T"/>
    <sequenceFlow id="F2" sourceRef="T" targetRef="E"/>
"""


def read(data: bytes) -> ImportedModel:
    return read_bpmn(data, source="test.bpmn")


def only_process(data: bytes) -> ProcessGraph:
    (graph,) = read(data).processes
    return graph


def codes(model: ImportedModel) -> set[str]:
    return {problem.code for problem in model.problems}
