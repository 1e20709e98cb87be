"""Transactions: a cancel end event leaves its transaction through the cancel boundary event,
never through the normal exit; the cancel boundary fires only after a cancel end event."""

from __future__ import annotations

from orchestra.domain.generation import generate_suite
from orchestra.domain.process import Flow, Node, NodeCategory, ProcessGraph
from tests.unit.generation.models import model, node
from tests.unit.generation.test_constructs import generate, paths


def transaction(*, with_cancel_end: bool = True) -> ProcessGraph:
    """s -> tx -> e1; inside tx, s2 -> Book -> x, which ends normally (e2) or cancels (eC);
    the cancel boundary bC on tx continues at Undo and eUndone."""
    inner: tuple[Node, ...] = (
        node("tx", category=NodeCategory.SUB_PROCESS, type="transaction"),
        *(node(n, parent="tx") for n in ("s2", "Book", "x", "e2")),
        node(
            "bC",
            category=NodeCategory.BOUNDARY_EVENT,
            type="boundaryEvent",
            attached_to="tx",
            event_definitions=("cancel",),
        ),
    )
    arrows = ["s>tx", "tx>e1", "s2>Book", "Book>x", "x>e2", "bC>Undo", "Undo>eUndone"]
    if with_cancel_end:
        inner += (node("eC", parent="tx", event_definitions=("cancel",)),)
        arrows.append("x>eC")
    return model(*arrows, extra=inner)


INSIDE = "s s-tx tx s2 s2-Book Book Book-x x"


def test_a_cancel_end_event_leaves_through_the_cancel_boundary_and_never_the_normal_exit() -> None:
    assert sorted(paths(generate(transaction()))) == [
        f"{INSIDE} x-e2 e2 tx-e1 e1",
        f"{INSIDE} x-eC eC bC bC-Undo Undo Undo-eUndone eUndone",
    ]


def test_the_cancel_boundary_fires_only_after_a_cancel_end_event() -> None:
    suite = generate(transaction(with_cancel_end=False))
    assert paths(suite) == [f"{INSIDE} x-e2 e2 tx-e1 e1"]
    reasons = {u["element"]: u["reason"] for u in suite.coverage.uncovered}
    assert reasons["bC"].startswith("cancel boundary event bC fires only when a cancel end")
    assert reasons["bC-Undo"] == reasons["bC"]
    assert reasons["Undo"] == "only reached after cancel boundary event bC, which never fires"


def test_a_task_whose_action_cancels_leaves_through_the_cancel_boundary() -> None:
    suite = generate_suite(
        transaction(with_cancel_end=False), process_key="p", process_version=1, cancels={"Book"}
    )
    assert paths(suite) == ["s s-tx tx s2 s2-Book Book bC bC-Undo Undo Undo-eUndone eUndone"]
    book = suite.scenarios[0].steps[0]
    assert (book.element_id, book.meta["cancels"]) == ("Book", "tx")
    reasons = {u["element"]: u["reason"] for u in suite.coverage.uncovered}
    assert reasons["Book-x"] == (
        "the action bound to Book cancels transaction tx: the way on after it is never taken"
    )
    assert "bC" not in reasons


def test_a_task_whose_action_cancels_is_compensated_only_for_what_completed_before_it() -> None:
    graph = transaction(with_cancel_end=False)
    compensable = (
        node(
            "cBook",
            category=NodeCategory.BOUNDARY_EVENT,
            type="boundaryEvent",
            attached_to="Book",
            event_definitions=("compensate",),
            compensation_handler="UnBook",
        ),
        node("UnBook", parent="tx", is_for_compensation=True),
        node("Check", parent="tx"),
    )
    flows = (
        *(f for f in graph.flows if f.id != "Book-x"),
        Flow(id="Book-Check", source="Book", target="Check"),
        Flow(id="Check-x", source="Check", target="x"),
    )
    graph = graph.model_copy(update={"nodes": graph.nodes + compensable, "flows": flows})
    suite = generate_suite(graph, process_key="p", process_version=1, cancels={"Check"})
    assert paths(suite) == [
        f"{INSIDE.removesuffix(' Book-x x')} Book-Check Check cBook UnBook "
        "bC bC-Undo Undo Undo-eUndone eUndone"
    ]
