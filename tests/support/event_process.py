"""A small process whose events say more than their kind, and a suite run over it.

A timer catch, an error boundary and an error end event naming a root <error>, a
non-interrupting escalation boundary, a message catch, a signal throw, a message catch with no
ref, and none start and end events. No BPMNDI: the report lays it out.
"""

from __future__ import annotations

from functools import cache

from orchestra.bpmn.reader import read_bpmn
from orchestra.domain.process import ProcessGraph
from orchestra.domain.statuses import StepKind, StepStatus, TestRunStatus
from orchestra.reports.model import RunReport
from tests.support.example_report import example_report, make_run, step

EVENTS_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:tns="http://example.com/events"
             id="Defs" targetNamespace="http://example.com/events">
  <error id="Error_Pay" name="Payment failed" errorCode="PAY_ERR"/>
  <escalation id="Esc_Late" name="Late" escalationCode="LATE"/>
  <message id="Msg_Paid" name="payment received"/>
  <signal id="Sig_Done" name="order done"/>
  <process id="Events" name="Events" isExecutable="true">
    <startEvent id="Start_Order"/>
    <intermediateCatchEvent id="Timer_Wait" name="Five minutes">
      <timerEventDefinition><timeDuration>PT5M</timeDuration></timerEventDefinition>
    </intermediateCatchEvent>
    <task id="Task_Charge" name="Charge"/>
    <boundaryEvent id="Boundary_PayFailed" name="Payment failed" attachedToRef="Task_Charge">
      <errorEventDefinition errorRef="tns:Error_Pay"/>
    </boundaryEvent>
    <boundaryEvent id="Boundary_Late" attachedToRef="Task_Charge" cancelActivity="false">
      <escalationEventDefinition escalationRef="Esc_Late"/>
    </boundaryEvent>
    <intermediateCatchEvent id="Message_Paid"><messageEventDefinition messageRef="Msg_Paid"/>
    </intermediateCatchEvent>
    <intermediateCatchEvent id="Message_Any"><messageEventDefinition/></intermediateCatchEvent>
    <intermediateThrowEvent id="Signal_Done"><signalEventDefinition signalRef="Sig_Done"/>
    </intermediateThrowEvent>
    <endEvent id="End_Done"/>
    <endEvent id="End_Failed"><errorEventDefinition errorRef="Error_Pay"/></endEvent>
    <task id="Task_Remind" name="Remind"/>
    <endEvent id="End_Reminded"/>
    <sequenceFlow id="F1" sourceRef="Start_Order" targetRef="Timer_Wait"/>
    <sequenceFlow id="F2" sourceRef="Timer_Wait" targetRef="Task_Charge"/>
    <sequenceFlow id="F3" sourceRef="Task_Charge" targetRef="Message_Paid"/>
    <sequenceFlow id="F4" sourceRef="Message_Paid" targetRef="Message_Any"/>
    <sequenceFlow id="F5" sourceRef="Message_Any" targetRef="Signal_Done"/>
    <sequenceFlow id="F6" sourceRef="Signal_Done" targetRef="End_Done"/>
    <sequenceFlow id="F7" sourceRef="Boundary_PayFailed" targetRef="End_Failed"/>
    <sequenceFlow id="F8" sourceRef="Boundary_Late" targetRef="Task_Remind"/>
    <sequenceFlow id="F9" sourceRef="Task_Remind" targetRef="End_Reminded"/>
  </process>
</definitions>
"""

PAID_PATH = (
    *("Start_Order", "F1", "Timer_Wait", "F2", "Task_Charge", "F3", "Message_Paid", "F4"),
    *("Message_Any", "F5", "Signal_Done", "F6", "End_Done"),
)


@cache
def events_graph() -> ProcessGraph:
    model = read_bpmn(EVENTS_BPMN, source="events.bpmn")
    assert model.errors == (), model.errors
    (graph,) = model.processes
    return graph


def events_report(uncovered: tuple[dict[str, str], ...] = ()) -> RunReport:
    """One passed run along the main line, with a step on the timer, the task and the end."""
    steps = (
        step(1, "Timer_Wait", kind=StepKind.ACTION),
        step(2, "Task_Charge"),
        step(3, "End_Done", StepStatus.PASSED, kind=StepKind.ASSERTION),
    )
    run = make_run(1, "paid", TestRunStatus.PASSED, steps).model_copy(update={"path": PAID_PATH})
    report = example_report((run,), graph=events_graph())
    coverage = report.suite.coverage.model_copy(update={"uncovered": uncovered})
    return report.model_copy(
        update={"suite": report.suite.model_copy(update={"coverage": coverage})}
    )
