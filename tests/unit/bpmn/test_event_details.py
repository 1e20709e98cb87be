"""Event definitions keep their timer expressions and the root definitions their refs name."""

from __future__ import annotations

from orchestra.bpmn import checksum
from orchestra.domain.process import EventDetail, Node, ProcessGraph, TimerKind
from tests.unit.bpmn.documents import LINEAR, codes, definitions, only_process, process, read

_ROOT = """
  <error id="Error_Pay" name="PaymentFailed" errorCode="PAY-402"/>
  <escalation id="Esc_Late" name="Late" escalationCode="LATE"/>
  <message id="Msg_Order" name="order"/>
  <signal id="Sig_Stop" name="stop"/>
  <timerEventDefinition id="Timer_Shared"><timeCycle>R3/PT1H</timeCycle></timerEventDefinition>
"""

_EVENTS = """
  <process id="P" isExecutable="true" xmlns:tns="http://example.com/test">
    <startEvent id="S"><messageEventDefinition messageRef="tns:Msg_Order"/></startEvent>
    <subProcess id="Sub">
      <startEvent id="S2"/>
      <endEvent id="E2"><errorEventDefinition errorRef="tns:Error_Pay"/></endEvent>
      <sequenceFlow id="F3" sourceRef="S2" targetRef="E2"/>
    </subProcess>
    <boundaryEvent id="B_Pay" attachedToRef="Sub"><errorEventDefinition errorRef="Error_Pay"/>
    </boundaryEvent>
    <boundaryEvent id="B_Any" attachedToRef="Sub"><errorEventDefinition/></boundaryEvent>
    <boundaryEvent id="B_Late" attachedToRef="Sub" cancelActivity="false">
      <escalationEventDefinition escalationRef="Esc_Late"/></boundaryEvent>
    <intermediateCatchEvent id="W1"><timerEventDefinition>
      <timeDuration xsi:type="tFormalExpression"> PT5M </timeDuration></timerEventDefinition>
    </intermediateCatchEvent>
    <intermediateCatchEvent id="W2"><timerEventDefinition>
      <timeDate>2026-12-01T09:00:00Z</timeDate></timerEventDefinition>
    </intermediateCatchEvent>
    <intermediateCatchEvent id="W3"><eventDefinitionRef>Timer_Shared</eventDefinitionRef>
    </intermediateCatchEvent>
    <endEvent id="E"><signalEventDefinition signalRef="Sig_Stop"/></endEvent>
    <sequenceFlow id="F1" sourceRef="S" targetRef="Sub"/>
    <sequenceFlow id="F2" sourceRef="Sub" targetRef="W1"/>
    <sequenceFlow id="F4" sourceRef="W1" targetRef="W2"/>
    <sequenceFlow id="F5" sourceRef="W2" targetRef="W3"/>
    <sequenceFlow id="F6" sourceRef="W3" targetRef="E"/>
  </process>
"""


def events() -> ProcessGraph:
    return only_process(definitions(_ROOT + _EVENTS))


def _line_of(element_id: str) -> str:
    return next(text for text in _EVENTS.splitlines() if f'id="{element_id}"' in text)


def details(graph: ProcessGraph, node_id: str) -> tuple[EventDetail, ...]:
    return graph.node_by_id[node_id].event_details


def test_an_error_ref_written_as_a_qname_or_a_plain_id_names_the_root_error() -> None:
    graph = events()
    paid = EventDetail(kind="error", ref="Error_Pay", code="PAY-402", name="PaymentFailed")
    assert details(graph, "E2") == (paid,)
    assert details(graph, "B_Pay") == (paid,)


def test_escalation_message_and_signal_refs_keep_the_code_and_name_of_their_definition() -> None:
    graph = events()
    assert details(graph, "B_Late") == (
        EventDetail(kind="escalation", ref="Esc_Late", code="LATE", name="Late"),
    )
    assert details(graph, "S") == (EventDetail(kind="message", ref="Msg_Order", name="order"),)
    assert details(graph, "E") == (EventDetail(kind="signal", ref="Sig_Stop", name="stop"),)


def test_timers_keep_their_kind_and_expression() -> None:
    graph = events()
    kept = [(d.timer, d.expression) for w in ("W1", "W2", "W3") for d in details(graph, w)]
    assert kept == [
        (TimerKind.DURATION, "PT5M"),
        (TimerKind.DATE, "2026-12-01T09:00:00Z"),
        (TimerKind.CYCLE, "R3/PT1H"),
    ]
    assert graph.node_by_id["W3"].event_definitions == ("timer",)


def test_an_event_definition_that_says_only_its_kind_has_no_details() -> None:
    graph = events()
    assert graph.node_by_id["B_Any"].event_definitions == ("error",)
    assert details(graph, "B_Any") == ()
    assert graph.node_by_id["B_Any"].event_detail("error") is None
    assert details(graph, "S2") == ()


def test_a_ref_to_a_missing_definition_is_a_warning_naming_the_event_and_its_line() -> None:
    document = definitions(_EVENTS)  # the same events, no root definitions
    model = read(document)
    line = document.decode().splitlines().index(_line_of("E2")) + 1
    assert model.errors == ()
    warnings = [p for p in model.problems if p.code == "unknown-event-ref"]
    assert {p.element_id for p in warnings} == {"S", "E2", "B_Pay", "B_Late", "E"}
    (missing,) = [p for p in warnings if p.element_id == "E2"]
    assert missing.line == line
    assert f"endEvent 'E2' (line {line})" in missing.message
    assert "errorRef 'Error_Pay'" in missing.message
    (graph,) = model.processes
    assert details(graph, "E2") == (EventDetail(kind="error", ref="Error_Pay"),)


def test_a_ref_to_a_definition_of_another_kind_is_missing_too() -> None:
    body = '<message id="Error_Pay" name="not an error"/>' + _EVENTS
    assert "unknown-event-ref" in codes(read(definitions(body)))


def test_a_process_without_timers_or_refs_keeps_the_checksum_earlier_versions_gave_it() -> None:
    # computed before event details existed: stored versions of such processes still match
    assert checksum(only_process(process(LINEAR))) == (
        "26b06e8d88075c050a6adb81ed00e4c5825e5a05ab29f204ca4990a8f0a0b153"
    )


def test_a_changed_timer_expression_or_error_ref_changes_the_checksum() -> None:
    original = checksum(events())
    for old, new in (("PT5M", "PT6M"), ('errorRef="Error_Pay"', "")):
        changed = only_process(definitions(_ROOT + _EVENTS.replace(old, new)))
        assert checksum(changed) != original, new


def test_a_graph_stored_before_event_details_existed_still_loads() -> None:
    stored = {"id": "P", "nodes": [{"id": "T", "category": "task", "type": "task"}]}
    (node,) = ProcessGraph.model_validate(stored).nodes
    assert node == Node(id="T", category="task", type="task")
    assert node.event_details == ()
