"""An activity with no outgoing flow ends its scope there; its boundary events still branch off.

Reduced from the MIWG corpus (Cardanit C.8.1 "Fetch Vacation Information", Signavio B.1.0), where
the scenario that completes the activity normally was named after, and decided on, the internal
`::sink` node.
"""

from __future__ import annotations

from orchestra.domain.generation import Criterion, generate_suite
from orchestra.domain.process import NodeCategory, ProcessGraph
from orchestra.domain.scenario import Decision, GeneratedSuite
from tests.unit.generation.models import model, node

BOUNDARY = node("B", category=NodeCategory.BOUNDARY_EVENT, type="boundaryEvent", attached_to="A")
ENDS_AT_TASK = model("s>A", "B>e", extra=(BOUNDARY,))
ENDS_IN_SUBPROCESS = ProcessGraph(
    id="p",
    nodes=(
        node("s"),
        node("S", category=NodeCategory.SUB_PROCESS, type="subProcess"),
        node("s2", parent="S"),
        node("A", parent="S"),
        node(
            "B",
            parent="S",
            category=NodeCategory.BOUNDARY_EVENT,
            type="boundaryEvent",
            attached_to="A",
        ),
        node("e2", parent="S"),
        node("e"),
    ),
    flows=tuple(model("s>S", "s2>A", "B>e2", "S>e").flows),
)


def generate(graph: ProcessGraph, criterion: Criterion) -> GeneratedSuite:
    return generate_suite(graph, process_key="p", process_version=1, criterion=criterion)


def test_completing_an_activity_that_ends_the_process_is_decided_on_the_activity() -> None:
    suite = generate(ENDS_AT_TASK, Criterion.ALL_PATHS)
    assert [s.decisions for s in suite.scenarios] == [
        (Decision(gateway="A", flows=("A",), conditions=(None,)),),
        (Decision(gateway="A", flows=("B",), conditions=(None,)),),
    ]
    assert [s.name for s in suite.scenarios] == ["S01 A", "S02 B → e"]


def test_completing_an_activity_that_ends_a_subprocess_is_decided_on_the_activity() -> None:
    suite = generate(ENDS_IN_SUBPROCESS, Criterion.ALL_PATHS)
    assert [s.decisions for s in suite.scenarios] == [
        (Decision(gateway="A", flows=("A",), conditions=(None,)),),
        (Decision(gateway="A", flows=("B",), conditions=(None,)),),
    ]
    assert [s.name for s in suite.scenarios] == ["S01 A → e", "S02 B → e"]


def test_a_boundary_event_without_outgoing_flow_ends_its_path_where_it_fires() -> None:
    timer = node(
        "bT",
        category=NodeCategory.BOUNDARY_EVENT,
        type="boundaryEvent",
        attached_to="A",
        event_definitions=("timer",),
    )
    suite = generate(model("s>A", "A>e", extra=(timer,)), Criterion.ALL_NODES)
    assert sorted(" ".join(s.path) for s in suite.scenarios) == ["s s-A A A-e e", "s s-A A bT"]
    assert suite.coverage.uncovered == ()
