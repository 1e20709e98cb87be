"""The token game for models that are not block-structured finds the games that do finish.

Reduced from the MIWG corpus (Modelio B.2.0, both pools of "Start Event 1 Timer"): an inclusive
split whose branches all run into a parallel join that can never fire, one of them with a
boundary event that leaves before the join.
"""

from __future__ import annotations

from orchestra.domain.generation import Criterion, generate_suite
from orchestra.domain.process import Node, NodeCategory
from tests.unit.generation.models import model, node


def boundary(node_id: str, on: str) -> Node:
    return node(node_id, category=NodeCategory.BOUNDARY_EVENT, type="boundaryEvent", attached_to=on)


# p2 waits for A, B and C, but A and C exclude each other (C follows A's boundary event bA):
# the only game that ends takes o1's branch B alone and leaves it through bB
NEVER_JOINS = model(
    "s>o1", "o1>A", "o1>B", "A>p2", "B>p2", "bA>C", "C>p2", "p2>e1", "bB>e2",
    extra=(boundary("bA", "A"), boundary("bB", "B")),
)  # fmt: skip


def test_an_inclusive_split_takes_only_the_branch_that_can_finish_when_the_others_deadlock() -> (
    None
):
    for criterion in (Criterion.ALL_FLOWS, Criterion.ALL_NODES):
        suite = generate_suite(NEVER_JOINS, process_key="p", process_version=1, criterion=criterion)
        assert [" ".join(s.path) for s in suite.scenarios] == ["s s-o1 o1 o1-B B bB bB-e2 e2"]
        reasons = {item["element"]: item["reason"] for item in suite.coverage.uncovered}
        assert "deadlock" in reasons["e1"]
