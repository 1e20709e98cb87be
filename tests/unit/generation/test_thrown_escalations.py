"""An escalation thrown inside a subprocess: caught by an interrupting boundary event it leaves
the subprocess at the throw; caught by a non-interrupting one the subprocess goes on and the
boundary event's path is taken as well; caught nowhere it is ignored."""

from __future__ import annotations

from orchestra.domain.generation import Criterion, generate_suite
from orchestra.domain.process import EventDetail, Node, NodeCategory, ProcessGraph
from orchestra.domain.scenario import GeneratedSuite
from tests.unit.generation.models import model, node

LATE = EventDetail(kind="escalation", ref="Esc_Late", code="LATE")
LOST = EventDetail(kind="escalation", ref="Esc_Lost", code="LOST")


def generate(graph: ProcessGraph, criterion: Criterion = Criterion.ALL_FLOWS) -> GeneratedSuite:
    return generate_suite(graph, process_key="p", process_version=1, criterion=criterion)


def paths(graph: ProcessGraph, criterion: Criterion = Criterion.ALL_FLOWS) -> list[str]:
    return sorted(" ".join(scenario.path) for scenario in generate(graph, criterion).scenarios)


def walk(text: str) -> tuple[str, ...]:
    return tuple(text.split(" "))


def throw(node_id: str, parent: str, detail: EventDetail = LATE) -> Node:
    return node(
        node_id,
        category=NodeCategory.INTERMEDIATE_THROW_EVENT,
        type="intermediateThrowEvent",
        parent=parent,
        event_definitions=("escalation",),
        event_details=(detail,),
    )


def end(node_id: str, parent: str, detail: EventDetail = LATE) -> Node:
    return node(
        node_id,
        category=NodeCategory.END_EVENT,
        type="endEvent",
        parent=parent,
        event_definitions=("escalation",),
        event_details=(detail,),
    )


def boundary(
    node_id: str, on: str, detail: EventDetail = LATE, *, interrupting: bool = True
) -> Node:
    return node(
        node_id,
        category=NodeCategory.BOUNDARY_EVENT,
        type="boundaryEvent",
        attached_to=on,
        parent="outer" if on == "inner" else None,
        event_definitions=("escalation",),
        event_details=(detail,),
        cancel_activity=interrupting,
    )


def review(*nodes: Node) -> ProcessGraph:
    """s -> sub -> e1; inside sub: s2 -> A -> t1 -> B -> e3, t1 the escalation throw given (or
    an end event when given as one); each boundary event bX continues at X and eAfterX."""
    inner = (
        node("sub", category=NodeCategory.SUB_PROCESS, type="subProcess"),
        *(node(n, parent="sub") for n in ("s2", "A", "B", "e3")),
    )
    arrows = ["s>sub", "sub>e1", "s2>A", "A>t1", "t1>B", "B>e3"]
    for caught in (n for n in nodes if n.attached_to is not None):
        task = caught.id.removeprefix("b")
        arrows += [f"{caught.id}>{task}", f"{task}>eAfter{task}"]
    return model(*arrows, extra=(*inner, *nodes))


BEFORE = "s s-sub sub s2 s2-A A A-t1 t1"


def test_an_interrupting_boundary_event_leaves_the_subprocess_at_the_intermediate_throw() -> None:
    graph = review(throw("t1", "sub"), boundary("bLate", "sub"))
    suite = generate(graph)
    assert [" ".join(s.path) for s in suite.scenarios] == [
        f"{BEFORE} bLate bLate-Late Late Late-eAfterLate eAfterLate"
    ]
    reasons = {item["element"]: item["reason"] for item in suite.coverage.uncovered}
    assert reasons["t1-B"] == (
        "the escalation thrown at t1 is caught by bLate, which interrupts: "
        "the way on after the throw is never taken"
    )
    assert reasons["B"].startswith("only reached after t1: ")


def test_a_non_interrupting_boundary_event_runs_beside_the_subprocess_going_on_past_the_throw() -> (
    None
):
    graph = review(throw("t1", "sub"), boundary("bLate", "sub", interrupting=False))
    suite = generate(graph)
    (scenario,) = suite.scenarios
    assert scenario.branch_paths[""] == walk(f"{BEFORE} t1-B B B-e3 e3 sub-e1 e1")
    assert scenario.branch_paths["/t1#2"] == walk(
        "bLate bLate-Late Late Late-eAfterLate eAfterLate"
    )
    assert suite.coverage.flows_covered == suite.coverage.flows_total


def test_all_paths_always_takes_the_non_interrupting_catch_of_a_throw_it_passes() -> None:
    graph = review(throw("t1", "sub"), boundary("bLate", "sub", interrupting=False))
    suite = generate(graph, Criterion.ALL_PATHS)
    assert [sorted(s.branch_paths) for s in suite.scenarios] == [["", "/t1#2"]]


def test_a_boundary_event_of_another_escalation_does_not_catch_the_throw() -> None:
    graph = review(throw("t1", "sub"), boundary("bLost", "sub", LOST))
    found = paths(graph)
    assert f"{BEFORE} t1-B B B-e3 e3 sub-e1 e1" in found
    assert not any("t1 bLost" in path for path in found)


def test_an_escalation_nothing_catches_is_ignored_by_the_intermediate_throw() -> None:
    assert paths(review(throw("t1", "sub"))) == [f"{BEFORE} t1-B B B-e3 e3 sub-e1 e1"]


def two_levels(thrower: Node, *boundaries: Node) -> ProcessGraph:
    """s -> outer -> e1; outer holds s2 -> inner -> e2; inner holds s3 -> A -> the thrower, and
    an intermediate thrower goes on to B -> e3."""
    containers = (
        node("outer", category=NodeCategory.SUB_PROCESS, type="subProcess"),
        node("inner", category=NodeCategory.SUB_PROCESS, type="subProcess", parent="outer"),
        *(node(n, parent="outer") for n in ("s2", "e2")),
        *(node(n, parent="inner") for n in ("s3", "A", "B", "e3")),
    )
    arrows = ["s>outer", "outer>e1", "s2>inner", "inner>e2", "s3>A", f"A>{thrower.id}"]
    if thrower.category is NodeCategory.INTERMEDIATE_THROW_EVENT:
        arrows += [f"{thrower.id}>B", "B>e3"]
    else:
        containers = tuple(n for n in containers if n.id not in ("B", "e3"))
    for caught in boundaries:
        task = caught.id.removeprefix("b")
        arrows += [f"{caught.id}>{task}", f"{task}>eAfter{task}"]
    return model(*arrows, extra=(*containers, thrower, *boundaries))


DEEP = "s s-outer outer s2 s2-inner inner s3 s3-A A A-t1 t1"


def test_a_throw_two_subprocesses_deep_is_caught_on_the_outer_subprocess() -> None:
    graph = two_levels(
        throw("t1", "inner"), boundary("bLost", "inner", LOST), boundary("bLate", "outer")
    )
    found = paths(graph)
    assert f"{DEEP} bLate bLate-Late Late Late-eAfterLate eAfterLate" in found
    assert not any("t1-B" in path for path in found)


def test_an_escalation_end_event_leaves_the_inner_subprocess_for_the_outer_boundary_event() -> None:
    graph = two_levels(end("eLate", "inner"), boundary("bLate", "outer"))
    assert paths(graph) == [
        "s s-outer outer s2 s2-inner inner s3 s3-A A A-eLate eLate "
        "bLate bLate-Late Late Late-eAfterLate eAfterLate"
    ]


def test_an_escalation_end_event_caught_without_interrupting_ends_its_subprocess_normally() -> None:
    inner = (
        node("sub", category=NodeCategory.SUB_PROCESS, type="subProcess"),
        node("s2", parent="sub"),
        end("eLate", "sub"),
        boundary("bLate", "sub", interrupting=False),
    )
    graph = model("s>sub", "sub>e1", "s2>eLate", "bLate>Late", "Late>eAfterLate", extra=inner)
    (scenario,) = generate(graph).scenarios
    assert scenario.branch_paths[""] == walk("s s-sub sub s2 s2-eLate eLate sub-e1 e1")
    assert scenario.branch_paths["/eLate#2"] == walk(
        "bLate bLate-Late Late Late-eAfterLate eAfterLate"
    )


def test_an_escalation_end_event_nothing_catches_ends_its_subprocess_normally() -> None:
    inner = (
        node("sub", category=NodeCategory.SUB_PROCESS, type="subProcess"),
        node("s2", parent="sub"),
        end("eLate", "sub"),
    )
    graph = model("s>sub", "sub>e1", "s2>eLate", extra=inner)
    assert paths(graph) == ["s s-sub sub s2 s2-eLate eLate sub-e1 e1"]


def test_a_non_interrupting_escalation_event_subprocess_runs_beside_the_throw_it_catches() -> None:
    handler = (
        node("sub", category=NodeCategory.SUB_PROCESS, type="subProcess"),
        *(node(n, parent="sub") for n in ("s2", "A", "B", "e3")),
        throw("t1", "sub"),
        node(
            "ES",
            category=NodeCategory.SUB_PROCESS,
            type="subProcess",
            parent="sub",
            triggered_by_event=True,
        ),
        node(
            "sE",
            parent="ES",
            event_definitions=("escalation",),
            event_details=(LATE,),
            is_interrupting=False,
        ),
        *(node(n, parent="ES") for n in ("H", "eH")),
    )
    graph = model("s>sub", "sub>e1", "s2>A", "A>t1", "t1>B", "B>e3", "sE>H", "H>eH", extra=handler)
    (scenario,) = generate(graph).scenarios
    assert scenario.branch_paths[""] == walk(f"{BEFORE} t1-B B B-e3 e3 sub-e1 e1")
    assert scenario.branch_paths["/t1#2"] == walk("ES sE sE-H H H-eH eH")
