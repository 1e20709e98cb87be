"""An error or escalation thrown inside a subprocess leaves it through the boundary event that
catches that error: same ref or code, else one catching every error; nothing else."""

from __future__ import annotations

from orchestra.bpmn import read_bpmn
from orchestra.domain.generation import Criterion, generate_suite
from orchestra.domain.process import EventDetail, Node, NodeCategory, ProcessGraph
from tests.unit.generation.models import model, node

PAY = EventDetail(kind="error", ref="Error_Pay", code="PAY", name="PaymentFailed")
STOCK = EventDetail(kind="error", ref="Error_Stock", code="STOCK", name="OutOfStock")


def paths(graph: ProcessGraph) -> list[str]:
    suite = generate_suite(
        graph,
        process_key="p",
        process_version=1,
        criterion=Criterion.ALL_FLOWS,
        loop_bound=1,
        max_scenarios=100,
    )
    return sorted(" ".join(scenario.path) for scenario in suite.scenarios)


def thrower(node_id: str, *details: EventDetail, kind: str = "error") -> Node:
    return node(node_id, parent="sub", event_definitions=(kind,), event_details=details)


def boundary(node_id: str, *details: EventDetail, kind: str = "error", **fields: object) -> Node:
    return node(
        node_id,
        category=NodeCategory.BOUNDARY_EVENT,
        type="boundaryEvent",
        attached_to="sub",
        event_definitions=(kind,),
        event_details=details,
        **fields,
    )


def order(*nodes: Node) -> ProcessGraph:
    """s -> sub -> e1; inside sub, T decides between ending (e3) and throwing (ePay, eStock);
    boundary bX continues at task X and end event eAfterX."""
    inner = (
        node("sub", category=NodeCategory.SUB_PROCESS, type="subProcess"),
        *(node(n, parent="sub") for n in ("s2", "T", "x", "e3")),
    )
    arrows = ["s>sub", "sub>e1", "s2>T", "T>x", "x>e3"]
    arrows += [f"x>{n.id}" for n in nodes if n.parent == "sub"]
    for caught in (n for n in nodes if n.attached_to == "sub"):
        task = caught.id.removeprefix("b")
        arrows += [f"{caught.id}>{task}", f"{task}>eAfter{task}"]
    return model(*arrows, extra=(*inner, *nodes))


INSIDE = "s s-sub sub s2 s2-T T T-x x"


def test_each_error_end_event_reaches_the_boundary_event_of_its_own_error_and_not_the_other() -> (
    None
):
    graph = order(
        thrower("ePay", PAY),
        thrower("eStock", STOCK),
        boundary("bPay", PAY),
        boundary("bStock", STOCK),
    )
    assert paths(graph) == [
        f"{INSIDE} x-e3 e3 sub-e1 e1",
        f"{INSIDE} x-ePay ePay bPay bPay-Pay Pay Pay-eAfterPay eAfterPay",
        f"{INSIDE} x-eStock eStock bStock bStock-Stock Stock Stock-eAfterStock eAfterStock",
    ]


def test_the_order_of_the_boundary_events_does_not_decide_which_one_catches() -> None:
    graph = order(
        thrower("ePay", PAY),
        thrower("eStock", STOCK),
        boundary("bStock", STOCK),
        boundary("bPay", PAY),
    )
    caught = [p.split(" x-")[1].split(" ")[:3] for p in paths(graph)]
    assert caught == [
        ["e3", "e3", "sub-e1"],
        ["ePay", "ePay", "bPay"],
        ["eStock", "eStock", "bStock"],
    ]


def test_an_error_with_another_ref_but_the_same_error_code_is_caught() -> None:
    same_code = EventDetail(kind="error", ref="Error_Pay_Copy", code="PAY")
    graph = order(thrower("ePay", same_code), boundary("bStock", STOCK), boundary("bPay", PAY))
    assert f"{INSIDE} x-ePay ePay bPay bPay-Pay Pay Pay-eAfterPay eAfterPay" in paths(graph)
    assert not any("ePay bStock" in path for path in paths(graph))


def test_a_boundary_event_without_an_error_ref_catches_what_no_specific_one_catches() -> None:
    graph = order(
        thrower("ePay", PAY),
        thrower("eStock", STOCK),
        boundary("bPay", PAY),
        boundary("bAny"),
    )
    found = paths(graph)
    assert f"{INSIDE} x-ePay ePay bPay bPay-Pay Pay Pay-eAfterPay eAfterPay" in found
    assert f"{INSIDE} x-eStock eStock bAny bAny-Any Any Any-eAfterAny eAfterAny" in found
    assert not any("ePay bAny" in path for path in found)


def test_an_error_no_boundary_event_catches_leaves_the_subprocess_as_its_end() -> None:
    graph = order(thrower("eStock", STOCK), boundary("bPay", PAY))
    found = paths(graph)
    assert f"{INSIDE} x-eStock eStock sub-e1 e1" in found
    assert not any("eStock bPay" in path for path in found)


def test_an_error_end_event_that_names_no_error_is_caught_by_the_first_boundary_as_before() -> None:
    graph = order(thrower("eX"), boundary("bPay", PAY), boundary("bStock", STOCK))
    assert f"{INSIDE} x-eX eX bPay bPay-Pay Pay Pay-eAfterPay eAfterPay" in paths(graph)


def test_an_escalation_end_event_reaches_the_interrupting_boundary_of_its_escalation() -> None:
    late = EventDetail(kind="escalation", ref="Esc_Late", code="LATE")
    lost = EventDetail(kind="escalation", ref="Esc_Lost", code="LOST")
    graph = order(
        thrower("eLate", late, kind="escalation"),
        boundary("bLost", lost, kind="escalation"),
        boundary("bLate", late, kind="escalation"),
    )
    found = paths(graph)
    assert f"{INSIDE} x-eLate eLate bLate bLate-Late Late Late-eAfterLate eAfterLate" in found
    assert not any("eLate bLost" in path for path in found)


_IMPORTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:tns="urn:t"
             id="D" targetNamespace="urn:t">
  <error id="Error_Pay" name="PaymentFailed" errorCode="PAY"/>
  <error id="Error_Stock" name="OutOfStock" errorCode="STOCK"/>
  <process id="P" isExecutable="true">
    <startEvent id="s"/>
    <subProcess id="sub">
      <startEvent id="s2"/>
      <exclusiveGateway id="x"/>
      <endEvent id="ePay"><errorEventDefinition errorRef="tns:Error_Pay"/></endEvent>
      <endEvent id="eStock"><errorEventDefinition errorRef="tns:Error_Stock"/></endEvent>
      <sequenceFlow id="f3" sourceRef="s2" targetRef="x"/>
      <sequenceFlow id="f4" sourceRef="x" targetRef="ePay"/>
      <sequenceFlow id="f5" sourceRef="x" targetRef="eStock"/>
    </subProcess>
    <boundaryEvent id="bStock" attachedToRef="sub">
      <errorEventDefinition errorRef="Error_Stock"/></boundaryEvent>
    <boundaryEvent id="bPay" attachedToRef="sub">
      <errorEventDefinition errorRef="Error_Pay"/></boundaryEvent>
    <endEvent id="e1"/>
    <endEvent id="eRefund"/>
    <endEvent id="eRestock"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="sub"/>
    <sequenceFlow id="f2" sourceRef="sub" targetRef="e1"/>
    <sequenceFlow id="f6" sourceRef="bPay" targetRef="eRefund"/>
    <sequenceFlow id="f7" sourceRef="bStock" targetRef="eRestock"/>
  </process>
</definitions>
"""


def test_an_imported_model_routes_each_error_to_the_boundary_event_of_its_error_ref() -> None:
    (graph,) = read_bpmn(_IMPORTED, source="errors.bpmn").processes
    assert paths(graph) == [
        "s f1 sub s2 f3 x f4 ePay bPay f6 eRefund",
        "s f1 sub s2 f3 x f5 eStock bStock f7 eRestock",
    ]
