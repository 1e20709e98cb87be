"""Bindings embedded in a real BPMN file, read by the importer, then by the binding reader."""

from __future__ import annotations

import pytest

from orchestra.binding.extension import bindings_from_extension_elements
from orchestra.bpmn.reader import read_bpmn
from orchestra.domain.process import ProcessGraph
from orchestra.errors import BindingRefused
from orchestra.protocols.http import HttpAction

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:orc="https://orchestra.dev/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="Order" isExecutable="true">
    <bpmn:startEvent id="Start"/>
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_Create"/>
    <bpmn:serviceTask id="Task_Create" name="Create order">
      <bpmn:extensionElements>
        <orc:binding><![CDATA[
          action: {method: POST, path: /orders}
          checks:
            - status: 201
        ]]></orc:binding>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_Create" targetRef="Gw"/>
    <bpmn:exclusiveGateway id="Gw" default="Flow_small"/>
    <bpmn:sequenceFlow id="Flow_big" sourceRef="Gw" targetRef="End">
      <bpmn:extensionElements>
        <orc:binding>{"data": {"amount": 5000}}</orc:binding>
      </bpmn:extensionElements>
      <bpmn:conditionExpression>${amount > 1000}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_small" sourceRef="Gw" targetRef="End"/>
    <bpmn:endEvent id="End">
      <bpmn:extensionElements>
        <orc:binding>checks: [{that: "{{ vars.done }}"}]</orc:binding>
      </bpmn:extensionElements>
    </bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def graph(text: str = BPMN) -> ProcessGraph:
    (process,) = read_bpmn(text.encode(), source="order.bpmn").processes
    return process


def test_tasks_flows_and_end_events_carry_their_embedded_bindings() -> None:
    bindings = bindings_from_extension_elements(graph())

    create = bindings.tasks["Task_Create"]
    assert isinstance(create.action, HttpAction)
    assert (create.action.method, create.action.path) == ("POST", "/orders")
    assert bindings.flows["Flow_big"].data == {"amount": 5000}
    assert [check.kind for check in bindings.events["End"].checks] == ["that"]


def test_an_invalid_embedded_binding_names_the_element_and_a_line_near_it() -> None:
    broken = BPMN.replace("- status: 201", "- status: 201\n              eq: 3")

    with pytest.raises(BindingRefused) as caught:
        bindings_from_extension_elements(graph(broken))

    assert caught.value.message.startswith("<orc:binding of Task_Create>:")
    assert "checks[0]: write `status: {eq: ...}`" in caught.value.message
