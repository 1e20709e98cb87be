"""A branch that runs beside the main line (a non-interrupting event subprocess or boundary
event) goes through the subprocesses and inlined call activities on its way, and on after
them, as the main line does."""

from __future__ import annotations

from orchestra.domain.process import Node, NodeCategory, ProcessGraph
from tests.unit.generation.models import model, node
from tests.unit.generation.test_constructs import generate


def callee() -> ProcessGraph:
    return model("s>X", "X>e").model_copy(update={"id": "callee"})


def event_subprocess_calling(parent: str | None = None) -> tuple[Node, ...]:
    return (
        node(
            "ev",
            category=NodeCategory.SUB_PROCESS,
            type="subProcess",
            triggered_by_event=True,
            parent=parent,
        ),
        node("sv", parent="ev", event_definitions=("message",), is_interrupting=False),
        node(
            "C",
            parent="ev",
            category=NodeCategory.CALL_ACTIVITY,
            type="callActivity",
            called_element="callee",
        ),
        node("H", parent="ev"),
        node("ee", parent="ev"),
    )


def test_an_inlined_call_in_a_non_interrupting_event_subprocess_continues_after_the_callee() -> (
    None
):
    graph = model("s>T", "T>e", "sv>C", "C>H", "H>ee", extra=event_subprocess_calling())
    suite = generate(graph, called={"callee": callee()})
    assert suite.coverage.uncovered == ()
    (scenario,) = suite.scenarios
    branch = next(path for label, path in scenario.branch_paths.items() if label)
    assert branch[-5:] == ("C/e", "C-H", "H", "H-ee", "ee")
    assert [s.element_id for s in scenario.steps if s.branch] == ["sv", "C/X", "C/e", "H", "ee"]


def test_the_same_inside_a_subprocess() -> None:
    graph = model(
        "s>sub", "sub>e", "s2>T", "T>e2", "sv>C", "C>H", "H>ee",
        extra=(
            node("sub", category=NodeCategory.SUB_PROCESS, type="subProcess"),
            *(node(n, parent="sub") for n in ("s2", "T", "e2")),
            *event_subprocess_calling(parent="sub"),
        ),
    )  # fmt: skip
    suite = generate(graph, called={"callee": callee()})
    assert suite.coverage.uncovered == ()


def test_a_non_interrupting_boundary_event_whose_path_enters_a_subprocess_goes_on_after_it() -> (
    None
):
    graph = model(
        "s>T", "T>e", "b>S", "S>H", "H>e3", "s2>Y", "Y>e2",
        extra=(
            node(
                "b",
                category=NodeCategory.BOUNDARY_EVENT,
                type="boundaryEvent",
                attached_to="T",
                cancel_activity=False,
                event_definitions=("timer",),
            ),
            node("S", category=NodeCategory.SUB_PROCESS, type="subProcess"),
            *(node(n, parent="S") for n in ("s2", "Y", "e2")),
        ),
    )  # fmt: skip
    suite = generate(graph)
    assert suite.coverage.uncovered == ()
    assert any("S-H" in s.path for s in suite.scenarios)
