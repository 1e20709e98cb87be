"""What BPMN forbids but tools write is imported with a warning naming the element and line,
and refused under --strict; duplicate ids name both lines; imported files are said to be
unread."""

from __future__ import annotations

import pytest

from orchestra.domain.process import ImportedModel, Problem, ProblemSeverity
from orchestra.errors import BpmnRefused
from orchestra.services.importing import validated_model
from tests.unit.bpmn.documents import LINEAR, definitions, process, read


def problem(model: ImportedModel, code: str) -> Problem:
    (found,) = [p for p in model.problems if p.code == code]
    return found


SUBPROCESS = """
    <startEvent id="S"/>
    <subProcess id="Sub">
      <startEvent id="S2"/>
      <task id="T"/>
      <endEvent id="E2"/>
      <sequenceFlow id="F3" sourceRef="S2" targetRef="T"/>
      <sequenceFlow id="F4" sourceRef="T" targetRef="E2"/>
      {inside}
    </subProcess>
    <endEvent id="E"/>
    <sequenceFlow id="F1" sourceRef="S" targetRef="Sub"/>
    <sequenceFlow id="F2" sourceRef="Sub" targetRef="E"/>
    {outside}
"""


def model_with(*, inside: str = "", outside: str = "") -> bytes:
    return process(SUBPROCESS.format(inside=inside, outside=outside))


def test_a_boundary_event_inside_its_own_host_is_a_warning() -> None:
    found = problem(
        read(model_with(inside='<boundaryEvent id="B" attachedToRef="Sub"><timerEventDefinition/>'
                        '</boundaryEvent>')),
        "boundary-event-inside-host",
    )  # fmt: skip
    assert found.severity is ProblemSeverity.WARNING
    assert found.element_id == "B"
    assert found.line is not None


def test_a_boundary_event_with_an_incoming_flow_is_a_warning() -> None:
    outside = (
        '<boundaryEvent id="B" attachedToRef="Sub"><timerEventDefinition/></boundaryEvent>'
        '<task id="X"/><sequenceFlow id="F5" sourceRef="X" targetRef="B"/>'
    )
    found = problem(read(model_with(outside=outside)), "boundary-event-with-incoming-flow")
    assert found.element_id == "B"


def test_a_cancel_boundary_on_a_plain_subprocess_is_a_warning() -> None:
    outside = '<boundaryEvent id="B" attachedToRef="Sub"><cancelEventDefinition/></boundaryEvent>'
    found = problem(read(model_with(outside=outside)), "cancel-boundary-not-on-transaction")
    assert "not a transaction" in found.message


def test_a_compensation_boundary_event_without_a_handler_is_a_warning() -> None:
    inside = '<boundaryEvent id="B" attachedToRef="T"><compensateEventDefinition/></boundaryEvent>'
    found = problem(read(model_with(inside=inside)), "compensation-without-handler")
    assert found.severity is ProblemSeverity.WARNING
    assert "'B' on 'T' has no association to a handler" in found.message
    handled = inside + (
        '<task id="Undo" isForCompensation="true"/>'
        '<association id="A1" sourceRef="B" targetRef="Undo"/>'
    )
    codes = {p.code for p in read(model_with(inside=handled)).problems}
    assert "compensation-without-handler" not in codes


def test_a_flow_crossing_a_subprocess_border_is_a_warning_naming_both_scopes() -> None:
    outside = '<sequenceFlow id="F5" sourceRef="S" targetRef="T"/>'
    found = problem(read(model_with(outside=outside)), "flow-crosses-subprocess")
    assert found.element_id == "F5"
    assert "'S' (at process level) to 'T' (in 'Sub')" in found.message


@pytest.mark.parametrize(
    "outside",
    [
        '<sequenceFlow id="F5" sourceRef="S" targetRef="T"/>',
        '<boundaryEvent id="B" attachedToRef="Sub"><cancelEventDefinition/></boundaryEvent>',
    ],
    ids=["crossing-flow", "cancel-boundary"],
)
def test_strict_refuses_what_it_warns_about(outside: str) -> None:
    data = model_with(outside=outside)
    assert validated_model(data, source="m.bpmn").errors == ()
    with pytest.raises(BpmnRefused, match="refused"):
        validated_model(data, source="m.bpmn", strict=True)


def test_a_well_formed_subprocess_gets_none_of_these_warnings() -> None:
    codes = {p.code for p in read(model_with()).problems}
    assert not codes & {
        "boundary-event-inside-host",
        "boundary-event-with-incoming-flow",
        "cancel-boundary-not-on-transaction",
        "flow-crosses-subprocess",
    }


def test_a_duplicate_id_names_the_line_of_the_first_use_too() -> None:
    data = process(LINEAR + '\n    <task id="T"/>')
    found = problem(read(data), "duplicate-id")
    assert found.message.endswith("repeats the id of line 10")
    assert found.line == 15


def test_a_file_whose_processes_come_from_imported_files_says_so() -> None:
    body = (
        '  <import importType="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'location="processes.bpmn" namespace="http://example.com/p"/>\n'
        '  <collaboration id="C"><participant id="P1" processRef="p:Proc"/></collaboration>'
    )
    found = problem(read(definitions(body, diagram_of=None)), "no-process")
    assert "its processes come from imported files (processes.bpmn)" in found.message


def test_a_bpmn_import_beside_processes_is_a_warning_and_a_schema_import_is_not() -> None:
    schema = '<import importType="http://www.w3.org/2001/XMLSchema" location="types.xsd"/>'
    bpmn = '<import importType="http://www.omg.org/spec/BPMN/20100524/MODEL" location="x.bpmn"/>'
    inner = f'  <process id="P" isExecutable="true">{LINEAR}</process>'
    assert "imports" not in {p.code for p in read(definitions(schema + inner)).problems}
    found = problem(read(definitions(bpmn + inner)), "imports")
    assert "x.bpmn" in found.message
