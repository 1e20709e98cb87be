"""An error or escalation thrown inside a subprocess leaves it through the boundary event that
catches that error: same ref, else same code, else one catching every error (the only one that
catches a throw naming no error); nothing else. Not caught
there, an error goes on outward, level by level; caught nowhere, it ends the process."""

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


def test_an_error_nothing_catches_ends_the_process_at_its_end_event() -> None:
    graph = order(thrower("eStock", STOCK), boundary("bPay", PAY))
    found = paths(graph)
    assert f"{INSIDE} x-eStock eStock" in found
    assert not any("eStock sub-e1" in path or "eStock bPay" in path for path in found)


def test_an_error_end_event_that_names_no_error_is_caught_by_a_catch_all_only() -> None:
    graph = order(thrower("eX"), boundary("bPay", PAY), boundary("bAny"))
    found = paths(graph)
    assert f"{INSIDE} x-eX eX bAny bAny-Any Any Any-eAfterAny eAfterAny" in found
    assert not any("eX bPay" in path for path in found)


def test_an_error_that_names_no_error_and_meets_only_specific_catchers_ends_the_process() -> None:
    graph = order(thrower("eX"), boundary("bPay", PAY), boundary("bStock", STOCK))
    found = paths(graph)
    assert f"{INSIDE} x-eX eX" in found
    assert not any("eX bPay" in path or "eX bStock" in path for path in found)


def test_the_same_ref_is_preferred_to_the_same_code_whatever_their_order() -> None:
    same_code = EventDetail(kind="error", ref="Error_Pay_Copy", code="PAY")
    graph = order(thrower("ePay", PAY), boundary("bCopy", same_code), boundary("bPay", PAY))
    found = paths(graph)
    assert f"{INSIDE} x-ePay ePay bPay bPay-Pay Pay Pay-eAfterPay eAfterPay" in found
    assert not any("ePay bCopy" in path for path in found)


def test_the_same_code_is_preferred_to_a_catch_all_listed_before_it() -> None:
    same_code = EventDetail(kind="error", ref="Error_Pay_Copy", code="PAY")
    graph = order(thrower("ePay", same_code), boundary("bAny"), boundary("bPay", PAY))
    found = paths(graph)
    assert f"{INSIDE} x-ePay ePay bPay bPay-Pay Pay Pay-eAfterPay eAfterPay" in found
    assert not any("ePay bAny" in path for path in found)


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


def nested(*nodes: Node) -> ProcessGraph:
    """s -> outer -> e1; outer holds s2 -> inner -> e2; inner holds s3 -> T -> x, and x decides
    between ending (e3) and the throwers given with parent "inner"; boundary events bX on inner
    or outer continue at task X and end event eAfterX."""
    containers = (
        node("outer", category=NodeCategory.SUB_PROCESS, type="subProcess"),
        node("inner", category=NodeCategory.SUB_PROCESS, type="subProcess", parent="outer"),
        *(node(n, parent="outer") for n in ("s2", "e2")),
        *(node(n, parent="inner") for n in ("s3", "T", "x", "e3")),
    )
    arrows = ["s>outer", "outer>e1", "s2>inner", "inner>e2", "s3>T", "T>x", "x>e3"]
    arrows += [f"x>{n.id}" for n in nodes if n.parent == "inner"]
    for caught in (n for n in nodes if n.attached_to is not None):
        task = caught.id.removeprefix("b")
        arrows += [f"{caught.id}>{task}", f"{task}>eAfter{task}"]
    return model(*arrows, extra=(*containers, *nodes))


def on(scope: str, caught: Node) -> Node:
    parent = "outer" if scope == "inner" else None
    return caught.model_copy(update={"attached_to": scope, "parent": parent})


def deep(node_id: str, *details: EventDetail) -> Node:
    return thrower(node_id, *details).model_copy(update={"parent": "inner"})


NESTED = "s s-outer outer s2 s2-inner inner s3 s3-T T T-x x"


def test_an_error_the_inner_subprocess_does_not_catch_reaches_the_outer_boundary_event() -> None:
    graph = nested(
        deep("ePay", PAY),
        on("inner", boundary("bStock", STOCK)),
        on("outer", boundary("bPay", PAY)),
    )
    found = paths(graph)
    assert f"{NESTED} x-ePay ePay bPay bPay-Pay Pay Pay-eAfterPay eAfterPay" in found
    assert f"{NESTED} x-e3 e3 inner-e2 e2 outer-e1 e1" in found
    assert not any("ePay inner-e2" in path or "ePay bStock" in path for path in found)


def test_the_innermost_catching_level_wins_even_with_a_boundary_event_catching_every_error() -> (
    None
):
    graph = nested(
        deep("ePay", PAY), on("inner", boundary("bAny")), on("outer", boundary("bPay", PAY))
    )
    found = paths(graph)
    assert f"{NESTED} x-ePay ePay bAny bAny-Any Any Any-eAfterAny eAfterAny" in found
    assert not any("ePay bPay" in path for path in found)


def test_an_error_naming_no_error_passes_specific_catchers_on_to_an_outer_catch_all() -> None:
    graph = nested(deep("eX"), on("inner", boundary("bPay", PAY)), on("outer", boundary("bAny")))
    found = paths(graph)
    assert f"{NESTED} x-eX eX bAny bAny-Any Any Any-eAfterAny eAfterAny" in found
    assert not any("eX bPay" in path for path in found)


def test_an_error_no_level_catches_ends_the_process_there_not_at_a_subprocess_exit() -> None:
    graph = nested(deep("ePay", PAY), on("outer", boundary("bStock", STOCK)))
    found = paths(graph)
    assert f"{NESTED} x-ePay ePay" in found
    assert not any("ePay inner-e2" in path for path in found)


def test_a_subprocess_every_way_through_which_throws_says_so_for_its_outgoing_flow() -> None:
    inner = (
        node("sub", category=NodeCategory.SUB_PROCESS, type="subProcess"),
        node("s2", parent="sub"),
        thrower("eStock", STOCK),
    )
    graph = model("s>sub", "sub>e1", "s2>eStock", extra=inner)
    suite = generate_suite(graph, process_key="p", process_version=1)
    assert [" ".join(s.path) for s in suite.scenarios] == ["s s-sub sub s2 s2-eStock eStock"]
    reasons = {item["element"]: item["reason"] for item in suite.coverage.uncovered}
    assert reasons["sub-e1"].startswith("subprocess sub never completes normally")


def event_subprocess(node_id: str, parent: str | None, *details: EventDetail) -> tuple[Node, ...]:
    """An error event subprocess `node_id` whose start event catches `details` and goes on to
    task H<node_id> and end event eH<node_id>."""
    return (
        node(
            node_id,
            category=NodeCategory.SUB_PROCESS,
            type="subProcess",
            parent=parent,
            triggered_by_event=True,
        ),
        node(f"s{node_id}", parent=node_id, event_definitions=("error",), event_details=details),
        node(f"H{node_id}", parent=node_id),
        node(f"eH{node_id}", parent=node_id),
    )


def with_event_subprocess(graph: ProcessGraph, nodes: tuple[Node, ...]) -> ProcessGraph:
    handler = nodes[0].id
    flows = (f"s{handler}>H{handler}", f"H{handler}>eH{handler}")
    extra = model(*flows, extra=nodes)
    return graph.model_copy(
        update={"nodes": graph.nodes + extra.nodes, "flows": graph.flows + extra.flows}
    )


def test_an_error_event_subprocess_of_the_process_catches_what_no_boundary_event_does() -> None:
    graph = with_event_subprocess(
        order(thrower("eStock", STOCK), boundary("bPay", PAY)), event_subprocess("ES", None, STOCK)
    )
    found = paths(graph)
    assert f"{INSIDE} x-eStock eStock ES sES sES-HES HES HES-eHES eHES" in found
    assert not any(path.startswith("s ES") for path in found)  # not entered at the start


def test_an_error_event_subprocess_inside_the_subprocess_catches_before_its_boundary_event() -> (
    None
):
    graph = with_event_subprocess(
        order(thrower("eStock", STOCK), boundary("bStock", STOCK)),
        event_subprocess("ES", "sub", STOCK),
    )
    found = paths(graph)
    assert f"{INSIDE} x-eStock eStock ES sES sES-HES HES HES-eHES eHES sub-e1 e1" in found
    assert not any("eStock bStock" in path for path in found)


def test_an_uncaught_error_in_one_parallel_branch_ends_the_other_branch_too() -> None:
    inner = (
        node("sub", category=NodeCategory.SUB_PROCESS, type="subProcess"),
        *(node(n, parent="sub") for n in ("s2", "x", "e3")),
        thrower("eStock", STOCK),
    )
    graph = model(
        "s>p1",
        "p1>sub",
        "p1>A",
        "sub>p2",
        "A>p2",
        "p2>e1",
        "s2>x",
        "x>e3",
        "x>eStock",
        extra=inner,
    )
    suite = generate_suite(graph, process_key="p", process_version=1)
    ends = {scenario.path[-1] for scenario in suite.scenarios}
    assert ends == {"e1", "eStock"}
    aborted = next(s for s in suite.scenarios if s.path[-1] == "eStock")
    assert "p2" not in aborted.path
    assert suite.coverage.flows_covered == suite.coverage.flows_total
