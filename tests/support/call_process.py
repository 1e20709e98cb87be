"""A process whose call activities inline imported processes, for the reports' called drawings.

Checkout: place the order, pay (`Call_Pay` calls Payment), ship (`Call_Ship` calls Shipping,
never imported: it stays one step). Payment, drawn with its own BPMNDI: authorize, check for
fraud (`Call_Fraud` calls FraudCheck), capture. FraudCheck has no BPMNDI (laid out
automatically): score. The bindings make capturing fail against `executor_sut` (`/ok` answers
`state: CREATED`). `checkout_suite_report()` and `checkout_run_report()` are the reports' models
as the services build them, without a database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

from orchestra.binding.attach import attach_bindings
from orchestra.binding.loader import bindings_for, merge_bindings, parse_bindings
from orchestra.binding.yamlsource import Source
from orchestra.bpmn.reader import read_bpmn
from orchestra.domain.execution import StepOutcome
from orchestra.domain.generation import Criterion, generate_suite, inline_calls
from orchestra.domain.process import ProcessGraph
from orchestra.domain.scenario import GeneratedSuite
from orchestra.domain.statuses import StepStatus, SuiteRunStatus, TestRunStatus
from orchestra.reports.calls import Imported, called_processes
from orchestra.reports.model import (
    ProcessInfo,
    RunReport,
    SuiteInfo,
    SuiteReport,
    SuiteRunInfo,
    TestRunReport,
    step_report,
)

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
Box = tuple[int, int, int, int]
Line = tuple[tuple[int, int], ...]


def _definitions(process: str, shapes: dict[str, Box], edges: dict[str, Line], key: str) -> bytes:
    diagram = ""
    if shapes:
        drawn = "".join(
            f'<bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}">'
            f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/></bpmndi:BPMNShape>'
            for element, (x, y, w, h) in shapes.items()
        ) + "".join(
            f'<bpmndi:BPMNEdge id="{element}_di" bpmnElement="{element}">'
            + "".join(f'<di:waypoint x="{x}" y="{y}"/>' for x, y in points)
            + "</bpmndi:BPMNEdge>"
            for element, points in edges.items()
        )
        diagram = (
            f'<bpmndi:BPMNDiagram id="D_{key}"><bpmndi:BPMNPlane id="P_{key}" bpmnElement="{key}">'
            f"{drawn}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
             xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
             xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
             id="Defs_{key}" targetNamespace="http://example.com/{key}">{process}{diagram}
</definitions>
""".encode()


CHECKOUT_BPMN = _definitions(
    """
  <process id="Checkout" name="Checkout" isExecutable="true">
    <startEvent id="Start" name="Cart full"/>
    <task id="Task_Order" name="Place order"/>
    <callActivity id="Call_Pay" name="Pay" calledElement="Payment"/>
    <callActivity id="Call_Ship" name="Ship" calledElement="Shipping"/>
    <endEvent id="End" name="Done"/>
    <sequenceFlow id="Flow_1" sourceRef="Start" targetRef="Task_Order"/>
    <sequenceFlow id="Flow_2" sourceRef="Task_Order" targetRef="Call_Pay"/>
    <sequenceFlow id="Flow_3" sourceRef="Call_Pay" targetRef="Call_Ship"/>
    <sequenceFlow id="Flow_4" sourceRef="Call_Ship" targetRef="End"/>
  </process>""",
    {
        "Start": (150, 100, 36, 36),
        "Task_Order": (230, 78, 100, 80),
        "Call_Pay": (380, 78, 100, 80),
        "Call_Ship": (530, 78, 100, 80),
        "End": (680, 100, 36, 36),
    },
    {
        "Flow_1": ((186, 118), (230, 118)),
        "Flow_2": ((330, 118), (380, 118)),
        "Flow_3": ((480, 118), (530, 118)),
        "Flow_4": ((630, 118), (680, 118)),
    },
    "Checkout",
)

PAYMENT_BPMN = _definitions(
    """
  <process id="Payment" name="Payment" isExecutable="true">
    <startEvent id="Start" name="Pay"/>
    <task id="Task_Authorize" name="Authorize"/>
    <callActivity id="Call_Fraud" name="Fraud check" calledElement="FraudCheck"/>
    <task id="Task_Capture" name="Capture"/>
    <endEvent id="End" name="Paid"/>
    <sequenceFlow id="Flow_1" sourceRef="Start" targetRef="Task_Authorize"/>
    <sequenceFlow id="Flow_2" sourceRef="Task_Authorize" targetRef="Call_Fraud"/>
    <sequenceFlow id="Flow_3" sourceRef="Call_Fraud" targetRef="Task_Capture"/>
    <sequenceFlow id="Flow_4" sourceRef="Task_Capture" targetRef="End"/>
  </process>""",
    {
        "Start": (100, 300, 36, 36),
        "Task_Authorize": (180, 278, 100, 80),
        "Call_Fraud": (330, 278, 100, 80),
        "Task_Capture": (480, 278, 100, 80),
        "End": (630, 300, 36, 36),
    },
    {
        "Flow_1": ((136, 318), (180, 318)),
        "Flow_2": ((280, 318), (330, 318)),
        "Flow_3": ((430, 318), (480, 318)),
        "Flow_4": ((580, 318), (630, 318)),
    },
    "Payment",
)

FRAUD_BPMN = _definitions(
    """
  <process id="FraudCheck" name="Fraud check" isExecutable="true">
    <startEvent id="Start"/>
    <task id="Task_Score" name="Score risk"/>
    <endEvent id="End"/>
    <sequenceFlow id="Flow_1" sourceRef="Start" targetRef="Task_Score"/>
    <sequenceFlow id="Flow_2" sourceRef="Task_Score" targetRef="End"/>
  </process>""",
    {},
    {},
    "FraudCheck",
)

CHECKOUT_BINDINGS = """
version: 1
defaults: {service: api}
tasks:
  Task_Order: {action: {path: /ok}, checks: [{jsonpath: $.state, eq: CREATED}]}
  Call_Ship: {action: {path: /ok}}
  Call_Pay/Task_Authorize: {action: {path: /ok}}
  Call_Pay/Call_Fraud/Task_Score: {action: {path: /ok}}
  Call_Pay/Task_Capture: {action: {path: /ok}, checks: [{jsonpath: $.state, eq: CAPTURED}]}
"""

CAPTURE = "Call_Pay/Task_Capture"


@cache
def graphs() -> dict[str, ProcessGraph]:
    found: dict[str, ProcessGraph] = {}
    for data in (CHECKOUT_BPMN, PAYMENT_BPMN, FRAUD_BPMN):
        model = read_bpmn(data, source="calls.bpmn")
        assert model.errors == (), model.errors
        (graph,) = model.processes
        found[graph.id] = graph
    return found


def _called() -> dict[str, Imported]:
    return {
        key: Imported(key, 1, graph.name, graph)
        for key, graph in graphs().items()
        if key != "Checkout"
    }


def _suite() -> tuple[GeneratedSuite, list[str]]:
    caller = graphs()["Checkout"]
    called = {key: item.graph for key, item in _called().items()}
    generated = generate_suite(
        caller,
        process_key="Checkout",
        process_version=1,
        criterion=Criterion.ALL_FLOWS,
        called=called,
    )
    working, _ = inline_calls(caller, called)
    source = Source("b", CHECKOUT_BINDINGS)
    bound = merge_bindings(bindings_for(working), parse_bindings(source, working))
    suite, unbound = attach_bindings(generated, bound)
    return suite, unbound


def checkout_info() -> ProcessInfo:
    caller = graphs()["Checkout"]
    return ProcessInfo(
        key="Checkout",
        version=1,
        name=caller.name,
        graph=caller,
        calls=called_processes(caller, _called()),
    )


def checkout_suite_report(*, without: str = "") -> SuiteReport:
    """The suite's coverage page; `without` a task's binding (an inlined id) to leave it
    unbound."""
    suite, unbound = _suite()
    return SuiteReport(
        process=checkout_info(),
        suite=SuiteInfo(id=5, criterion=suite.criterion, coverage=suite.coverage),
        parameters=suite.parameters,
        unbound=tuple(unbound) + ((without,) if without else ()),
        scenarios=suite.scenarios,
        created_at=T0,
        generated_at=T0,
    )


def checkout_run_report() -> RunReport:
    """One run of the suite's one scenario, failing at capturing the payment."""
    suite, _ = _suite()
    (scenario,) = suite.scenarios
    steps = []
    failed = False
    for scenario_step in scenario.steps:
        outcome = None
        if not failed:
            bad = scenario_step.element_id == CAPTURE
            status = StepStatus.FAILED if bad else StepStatus.PASSED
            outcome = StepOutcome(status=status, started_at=T0.timestamp(), duration_ms=3.0)
            failed = bad
        steps.append(step_report(scenario_step, outcome))
    run = TestRunReport(
        id=1,
        scenario=scenario.name,
        status=TestRunStatus.FAILED,
        path=scenario.path,
        steps=tuple(steps),
        started_at=T0,
        finished_at=T0 + timedelta(seconds=1),
    )
    return RunReport(
        suite_run=SuiteRunInfo(id=9, status=SuiteRunStatus.FAILED, started_at=T0),
        process=checkout_info(),
        suite=SuiteInfo(id=5, criterion=suite.criterion, coverage=suite.coverage),
        test_runs=(run,),
        generated_at=T0,
    )
