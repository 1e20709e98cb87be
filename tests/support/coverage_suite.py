"""A process an all-nodes suite leaves a flow of uncovered, with one task left unbound.

Refund: check the claim, then approve or reject it — or skip straight to the merge
(`Flow_Skip`, which all-nodes does not need) — and notify the customer. The bindings bind every
task but `Task_Notify`. `refund_suite_report()` is its coverage page's model as the service
builds it, without a database (with its BPMNDI, or without to exercise the automatic layout).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from orchestra.binding.attach import attach_bindings
from orchestra.binding.loader import bindings_for, merge_bindings, parse_bindings
from orchestra.binding.yamlsource import Source
from orchestra.bpmn.reader import read_bpmn
from orchestra.domain.generation import Criterion, generate_suite
from orchestra.domain.process import ProcessGraph
from orchestra.reports.model import ProcessInfo, SuiteInfo, SuiteReport

_PROCESS = """
  <process id="Refund" name="Refund" isExecutable="true">
    <startEvent id="Start_Claim" name="Claim received"/>
    <task id="Task_Check" name="Check claim"/>
    <exclusiveGateway id="Gateway_Decide" name="Decide" default="Flow_Skip"/>
    <task id="Task_Approve" name="Approve"/>
    <task id="Task_Reject" name="Reject"/>
    <exclusiveGateway id="Gateway_Merge"/>
    <task id="Task_Notify" name="Notify customer"/>
    <endEvent id="End_Done" name="Done"/>
    <sequenceFlow id="Flow_ToCheck" sourceRef="Start_Claim" targetRef="Task_Check"/>
    <sequenceFlow id="Flow_ToDecide" sourceRef="Task_Check" targetRef="Gateway_Decide"/>
    <sequenceFlow id="Flow_Approve" name="valid" sourceRef="Gateway_Decide"
                  targetRef="Task_Approve"><conditionExpression>${valid}</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="Flow_Reject" name="invalid" sourceRef="Gateway_Decide"
                  targetRef="Task_Reject"><conditionExpression>${!valid}</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="Flow_Skip" sourceRef="Gateway_Decide" targetRef="Gateway_Merge"/>
    <sequenceFlow id="Flow_Approved" sourceRef="Task_Approve" targetRef="Gateway_Merge"/>
    <sequenceFlow id="Flow_Rejected" sourceRef="Task_Reject" targetRef="Gateway_Merge"/>
    <sequenceFlow id="Flow_ToNotify" sourceRef="Gateway_Merge" targetRef="Task_Notify"/>
    <sequenceFlow id="Flow_ToEnd" sourceRef="Task_Notify" targetRef="End_Done"/>
  </process>
"""
_SHAPES = {
    "Start_Claim": (150, 100, 36, 36),
    "Task_Check": (230, 78, 100, 80),
    "Gateway_Decide": (380, 93, 50, 50),
    "Task_Approve": (480, 78, 100, 80),
    "Task_Reject": (480, 200, 100, 80),
    "Gateway_Merge": (630, 93, 50, 50),
    "Task_Notify": (730, 78, 100, 80),
    "End_Done": (880, 100, 36, 36),
}
_EDGES = {
    "Flow_ToCheck": ((186, 118), (230, 118)),
    "Flow_ToDecide": ((330, 118), (380, 118)),
    "Flow_Approve": ((430, 118), (480, 118)),
    "Flow_Reject": ((405, 143), (405, 240), (480, 240)),
    "Flow_Skip": ((405, 93), (405, 40), (655, 40), (655, 93)),  # drawn above the decision
    "Flow_Approved": ((580, 118), (630, 118)),
    "Flow_Rejected": ((580, 240), (655, 240), (655, 143)),
    "Flow_ToNotify": ((680, 118), (730, 118)),
    "Flow_ToEnd": ((830, 118), (880, 118)),
}


def _diagram() -> str:
    shapes = "".join(
        f'<bpmndi:BPMNShape id="{key}_di" bpmnElement="{key}">'
        f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/></bpmndi:BPMNShape>'
        for key, (x, y, w, h) in _SHAPES.items()
    )
    edges = "".join(
        f'<bpmndi:BPMNEdge id="{key}_di" bpmnElement="{key}">'
        + "".join(f'<di:waypoint x="{x}" y="{y}"/>' for x, y in points)
        + "</bpmndi:BPMNEdge>"
        for key, points in _EDGES.items()
    )
    return (
        '<bpmndi:BPMNDiagram id="Diagram"><bpmndi:BPMNPlane id="Plane" bpmnElement="Refund">'
        f"{shapes}{edges}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"
    )


REFUND_BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
             xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
             xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
             id="Defs" targetNamespace="http://example.com/refund">{_PROCESS}{_diagram()}
</definitions>
""".encode()

REFUND_BINDINGS = """
version: 1
defaults: {service: claims}
tasks:
  Task_Check: {action: {method: POST, path: /claims}}
  Task_Approve: {action: {method: POST, path: /claims/approve}}
  Task_Reject: {action: {method: POST, path: /claims/reject}}
"""

# what the all-nodes suite of Refund covers: two scenarios, one through each decision
THROUGH_BOTH = ("Start_Claim", "Task_Check", "Gateway_Decide", "Gateway_Merge", "Task_Notify")
THROUGH_ONE = ("Task_Approve", "Task_Reject", "Flow_Approve", "Flow_Reject")
UNCOVERED = ("Flow_Skip",)
UNBOUND = ("Task_Notify",)


@cache
def refund_graph() -> ProcessGraph:
    model = read_bpmn(REFUND_BPMN, source="refund.bpmn")
    assert model.errors == (), model.errors
    (graph,) = model.processes
    return graph


def refund_suite_report(suite_id: int = 7, *, with_diagram: bool = True) -> SuiteReport:
    graph = refund_graph()
    if not with_diagram:
        graph = graph.model_copy(update={"diagram": None})
    generated = generate_suite(
        graph, process_key="Refund", process_version=1, criterion=Criterion.ALL_NODES
    )
    bound = merge_bindings(bindings_for(graph), parse_bindings(Source("b", REFUND_BINDINGS), graph))
    suite, unbound = attach_bindings(generated, bound)
    return SuiteReport(
        process=ProcessInfo(key="Refund", version=1, name=graph.name, graph=graph),
        suite=SuiteInfo(id=suite_id, criterion=suite.criterion, coverage=suite.coverage),
        parameters=suite.parameters,
        unbound=tuple(unbound),
        scenarios=suite.scenarios,
        created_at=datetime(2026, 11, 28, 7, 0, tzinfo=UTC),
        generated_at=datetime(2026, 11, 28, 7, 5, tzinfo=UTC),
    )
