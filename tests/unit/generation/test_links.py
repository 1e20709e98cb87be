"""Link events pair by name as drawn: line breaks and spacing in a label are layout, not name;
a throw no catch names continues at the one catch no throw names.

Reduced from the MIWG corpus: SAP Signavio B.2.0-export names its link throw
"Intermediate Event \\nLink" and its catch "Intermediate Event\\nLink"; Modelio B.2.0-export
"Intermediate Event Link" and "IntermediateEventLink".
"""

from __future__ import annotations

from orchestra.domain.generation import generate_suite
from orchestra.domain.process import Node, NodeCategory
from tests.unit.generation.models import model, node


def link(node_id: str, name: str, *, throw: bool) -> Node:
    category = (
        NodeCategory.INTERMEDIATE_THROW_EVENT if throw else NodeCategory.INTERMEDIATE_CATCH_EVENT
    )
    return node(
        node_id,
        category=category,
        type=category.value,
        event_definitions=("link",),
        link_name=name,
    )


def test_a_link_throw_continues_at_the_catch_whose_name_differs_only_in_spacing() -> None:
    throw, catch = link("lt", "Go \non", throw=True), link("lc", " Go\non", throw=False)
    graph = model("s>A", "A>lt", "lc>B", "B>e", extra=(throw, catch))
    suite = generate_suite(graph, process_key="p", process_version=1)
    assert [" ".join(s.path) for s in suite.scenarios] == ["s s-A A A-lt lt lc lc-B B B-e e"]


def test_a_throw_whose_name_no_catch_carries_continues_at_the_only_unnamed_catch() -> None:
    # as in Modelio B.2.0-export: "Intermediate Event Link" thrown, "IntermediateEventLink" caught
    throw, catch = link("lt", "Go on", throw=True), link("lc", "Goon", throw=False)
    graph = model("s>A", "A>lt", "lc>B", "B>e", extra=(throw, catch))
    suite = generate_suite(graph, process_key="p", process_version=1)
    assert [" ".join(s.path) for s in suite.scenarios] == ["s s-A A A-lt lt lc lc-B B B-e e"]


def test_a_throw_whose_name_no_catch_carries_goes_nowhere_when_two_catches_could_be_meant() -> None:
    throw = link("lt", "Go on", throw=True)
    catches = (link("lc", "Goon", throw=False), link("ld", "Go there", throw=False))
    graph = model("s>A", "A>lt", "lc>B", "ld>B", "B>e", extra=(throw, *catches))
    suite = generate_suite(graph, process_key="p", process_version=1)
    assert [" ".join(s.path) for s in suite.scenarios] == ["s s-A A A-lt lt"]
