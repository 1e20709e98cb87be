"""`orchestra bindings init`'s skeleton: every step bound, loading as written; with an API
description, values passed on only from tasks every path has gone through."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
from ruamel.yaml import YAML

from orchestra.binding.loader import parse_bindings
from orchestra.binding.openapi import read_description
from orchestra.binding.scaffold import scaffold
from orchestra.binding.scaffold_text import SCHEMA_LINE
from orchestra.binding.yamlsource import Source
from orchestra.bpmn.documentation import documentation_by_id
from orchestra.bpmn.reader import read_bpmn
from orchestra.domain.generation import generate_suite
from orchestra.domain.process import ProcessGraph
from orchestra.schemas import shipped_schema

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D"
    targetNamespace="t"><bpmn:process id="P" name="Parcels" isExecutable="true">
  <bpmn:startEvent id="Start"/>
  <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_Create"/>
  <bpmn:serviceTask id="Task_Create" name="Create parcel">
    <bpmn:documentation>Registers the parcel at the depot.</bpmn:documentation>
  </bpmn:serviceTask>
  <bpmn:sequenceFlow id="F2" sourceRef="Task_Create" targetRef="Split"/>
  <bpmn:parallelGateway id="Split"/>
  <bpmn:sequenceFlow id="F3" sourceRef="Split" targetRef="Task_Label"/>
  <bpmn:sequenceFlow id="F4" sourceRef="Split" targetRef="Task_Weigh"/>
  <bpmn:serviceTask id="Task_Label" name="Print the label"/>
  <bpmn:serviceTask id="Task_Weigh" name="Weigh the parcel"/>
  <bpmn:sequenceFlow id="F5" sourceRef="Task_Label" targetRef="Join"/>
  <bpmn:sequenceFlow id="F6" sourceRef="Task_Weigh" targetRef="Join"/>
  <bpmn:parallelGateway id="Join"/>
  <bpmn:sequenceFlow id="F7" sourceRef="Join" targetRef="Catch_Picked"/>
  <bpmn:intermediateCatchEvent id="Catch_Picked" name="Picked up">
    <bpmn:messageEventDefinition/>
  </bpmn:intermediateCatchEvent>
  <bpmn:sequenceFlow id="F8" sourceRef="Catch_Picked" targetRef="Gw"/>
  <bpmn:exclusiveGateway id="Gw" name="Delivered?"/>
  <bpmn:sequenceFlow id="Flow_Yes" name="yes" sourceRef="Gw" targetRef="End_Delivered"/>
  <bpmn:sequenceFlow id="Flow_No" name="no" sourceRef="Gw" targetRef="Task_Return"/>
  <bpmn:serviceTask id="Task_Return" name="Return to sender"/>
  <bpmn:sequenceFlow id="F9" sourceRef="Task_Return" targetRef="End_Returned"/>
  <bpmn:endEvent id="End_Delivered" name="Delivered"/>
  <bpmn:endEvent id="End_Returned"/>
</bpmn:process></bpmn:definitions>"""

LABEL = {"type": "object", "required": ["labelId"], "properties": {"labelId": {"type": "string"}}}


def _ok(status: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {status: {"description": "ok", "content": {"application/json": {"schema": schema}}}}


API: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Parcels", "version": "1"},
    "paths": {
        "/parcels": {"post": {"operationId": "createParcel", "responses": _ok("201", {
            "type": "object", "properties": {"id": {"type": "string"}}})}},
        "/parcels/{parcelId}/label": {"post": {"operationId": "printLabel",
            "parameters": [{"name": "parcelId", "in": "path", "required": True}],
            "responses": _ok("201", LABEL)}},
        "/parcels/{parcelId}/weight": {"put": {"operationId": "weighParcel",
            "parameters": [{"name": "parcelId", "in": "path", "required": True},
                           {"name": "labelId", "in": "query", "required": True,
                            "schema": {"type": "string"}}],
            "responses": _ok("200", {"type": "object"})}},
        "/labels/{labelId}/pickup": {"get": {"operationId": "pickedUp", "summary": "Picked up?",
            "parameters": [{"name": "labelId", "in": "path", "required": True}],
            "responses": _ok("200", {"type": "object"})}},
    },
}  # fmt: skip


def graph() -> ProcessGraph:
    (process,) = read_bpmn(MODEL.encode(), source="p.bpmn").processes
    return process


def loaded(text: str) -> dict[str, Any]:
    """The scaffold as the loader takes it, checked by the schema its first line names too."""
    parse_bindings(Source("scaffold.yaml", text), graph())
    value: dict[str, Any] = YAML(typ="safe", pure=True).load(text)
    jsonschema.Draft202012Validator(shipped_schema("bindings")).validate(value)
    return value


def test_without_a_description_every_step_is_bound_and_the_file_loads() -> None:
    made = scaffold(graph(), label="P@1")
    value = loaded(made.text)

    assert made.text.startswith(SCHEMA_LINE + "\n")
    assert list(value["tasks"]) == [
        "Task_Create", "Task_Label", "Task_Weigh", "Catch_Picked", "Task_Return"
    ]  # fmt: skip
    assert list(value["events"]) == ["End_Delivered", "End_Returned"]
    assert list(value["flows"]) == ["Flow_Yes", "Flow_No"]
    assert value["tasks"]["Task_Create"]["action"]["path"] == "{{ TODO }}"
    assert value["events"]["End_Returned"] == {"checks": []}
    steps = {
        step.element_id
        for scenario in generate_suite(graph(), process_key="P", process_version=1).scenarios
        for step in scenario.steps
        if step.kind.value == "ACTION"
    }
    assert steps == set(value["tasks"])


def test_names_documentation_and_todo_are_comments() -> None:
    documentation = documentation_by_id(MODEL.encode(), source="p.bpmn")
    text = scaffold(graph(), label="P@1", documentation=documentation).text

    assert "  # Create parcel (serviceTask)\n  #   Registers the parcel at the depot.\n" in text
    assert "  # Delivered? -> 'no' Return to sender\n  Flow_No:\n" in text
    assert "# TODO" in text


def test_a_value_comes_only_from_a_task_every_path_has_been_through() -> None:
    made = scaffold(
        graph(), label="P@1", description=read_description(API, "api.yaml"), description_name="x"
    )
    tasks = loaded(made.text)["tasks"]

    assert tasks["Task_Create"]["save"] == {"parcelId": "$.id"}
    assert tasks["Task_Label"]["action"]["path"] == "/parcels/{{ vars.parcelId }}/label"
    # Print the label runs beside Weigh the parcel, not before it: its labelId is not there yet
    assert tasks["Task_Weigh"]["action"]["query"] == {"labelId": "text"}
    # after the join, both branches have run
    assert tasks["Catch_Picked"]["action"]["path"] == "/labels/{{ vars.labelId }}/pickup"
    assert tasks["Task_Label"]["save"] == {"labelId": "$.labelId"}
    assert tasks["Task_Weigh"]["checks"] == [{"status": 200}, {"schema": {"type": "object"}}]
    reported = {task.element_id: task for task in made.tasks}
    assert reported["Task_Return"].operation is None
    assert reported["Task_Return"].why_unmatched is not None


def test_a_path_parameter_nobody_saves_is_left_to_fill_saying_so() -> None:
    api = {**API, "paths": {key: API["paths"][key] for key in ["/parcels/{parcelId}/label"]}}
    made = scaffold(graph(), label="P@1", description=read_description(api, "api.yaml"))
    label = loaded(made.text)["tasks"]["Task_Label"]

    assert label["action"]["path"] == "/parcels/{{ vars.parcelId }}/label"
    (reported,) = [task for task in made.tasks if task.element_id == "Task_Label"]
    assert reported.todo == ("parcelId: no earlier task saves it; vars.parcelId is undefined",)
    assert "    # TODO: parcelId: no earlier task saves it" in made.text


def test_a_body_property_ending_in_id_is_read_from_the_task_that_saved_it() -> None:
    body = {"application/json": {"example": {"parcelId": "p-1", "note": "fragile"}}}
    api = copy.deepcopy(API)
    api["paths"]["/returns"] = {
        "post": {"operationId": "returnToSender", "requestBody": {"content": body},
                 "responses": {"202": {"description": "taken"}}}
    }  # fmt: skip
    made = scaffold(graph(), label="P@1", description=read_description(api, "api.yaml"))
    back = loaded(made.text)["tasks"]["Task_Return"]

    assert back["action"]["json"] == {"parcelId": "{{ vars.parcelId }}", "note": "fragile"}
    assert back["checks"] == [{"status": 202}]


def test_examples_fill_what_no_task_saves_and_required_headers_are_sent() -> None:
    api = copy.deepcopy(API)
    api["paths"] = {
        "/depots/{depot}/returns": {"post": {"operationId": "returnToSender",
            "parameters": [
                {"name": "depot", "in": "path", "required": True, "example": "north 1"},
                {"name": "X-Api-Version", "in": "header", "required": True, "example": 2},
                {"name": "X-Trace", "in": "header"}],
            "responses": {"202": {"description": "taken"}}}},
    }  # fmt: skip
    api["components"] = {
        "securitySchemes": {
            "token": {"type": "http", "scheme": "bearer"},
            "key": {"type": "apiKey", "name": "X-Key", "in": "header"},
        }
    }
    made = scaffold(graph(), label="P@1", description=read_description(api, "api.yaml"))
    action = loaded(made.text)["tasks"]["Task_Return"]["action"]

    assert action["path"] == "/depots/north%201/returns"
    assert action["headers"] == {"X-Api-Version": "2"}
    assert "# the description's auth (token: http bearer; key: apiKey X-Key in header)" in made.text


def test_an_id_parameter_is_named_after_its_resource_and_read_from_its_creation() -> None:
    api = copy.deepcopy(API)
    api["paths"] = {
        "/invoices": {"post": {"operationId": "createParcel", "responses": _ok("201", {
            "type": "object", "properties": {"id": {"type": "string"}}})}},
        "/invoices/{id}/label": {"post": {"operationId": "printLabel",
            "parameters": [{"name": "id", "in": "path", "required": True}],
            "responses": _ok("201", LABEL)}},
    }  # fmt: skip
    made = scaffold(graph(), label="P@1", description=read_description(api, "api.yaml"))
    tasks = loaded(made.text)["tasks"]

    assert tasks["Task_Create"]["save"] == {"invoiceId": "$.id"}
    assert tasks["Task_Label"]["action"]["path"] == "/invoices/{{ vars.invoiceId }}/label"


def test_an_end_event_is_shown_how_to_read_back_the_resource_earlier_tasks_saved() -> None:
    api = copy.deepcopy(API)
    api["paths"]["/parcels/{parcelId}"] = {"get": {"operationId": "getParcel",
        "parameters": [{"name": "parcelId", "in": "path", "required": True}],
        "responses": _ok("200", {"type": "object"})}}  # fmt: skip
    made = scaffold(graph(), label="P@1", description=read_description(api, "api.yaml"))
    without = scaffold(graph(), label="P@1", description=read_description(API, "api.yaml"))

    assert loaded(made.text)["events"]["End_Delivered"] == {"checks": []}  # a comment only
    end = made.text.split("  End_Delivered:\n")[1].split("\n\n")[0]
    assert '    # action: {path: "/parcels/{{ vars.parcelId }}"}' in end.splitlines()
    # no GET of one resource: the generic example
    assert '    # action: {path: "/orders/{{ vars.order_id }}"}\n' in without.text
