"""A parallel join waiting for a flow no token can come down never fires: nothing after it is
expected, and the report says which join and which flow (MIWG B.2.0 as Bonita exports it,
where the boundary event feeding the join was lost)."""

from __future__ import annotations

import pytest

from orchestra.errors import BpmnRefused
from tests.unit.generation.models import model
from tests.unit.generation.test_constructs import generate, paths


def test_a_process_whose_only_way_on_is_a_join_that_never_fires_is_refused_saying_why() -> None:
    graph = model("s>A", "A>p", "T>p", "p>e")
    with pytest.raises(BpmnRefused, match=r"parallel join p never fires: no token can come from T"):
        generate(graph)


def test_what_only_a_join_that_never_fires_leads_to_is_uncovered_naming_the_join() -> None:
    suite = generate(model("s>x", "x>A", "x>B", "A>e1", "B>p", "T>p", "p>e2"))
    assert paths(suite) == ["s s-x x x-A A A-e1 e1"]
    reasons = {u["element"]: u["reason"] for u in suite.coverage.uncovered}
    assert reasons["e2"].startswith("parallel join p never fires: no token can come from T")
    assert reasons["p-e2"] == reasons["e2"]
    assert reasons["B"].startswith("parallel join p never fires")  # B leads only there


def test_a_join_on_a_loops_way_back_never_fires() -> None:
    with pytest.raises(BpmnRefused, match=r"parallel join p never fires: no token can come from x"):
        generate(model("s>p", "x>p", "p>A", "A>x", "x>e"))
