"""Link events for the reference token game, from docs/semantics.md ("Link events"), written
independently of the generator's `flat.links`."""

from __future__ import annotations

from orchestra.domain.process import Node, NodeCategory, ProcessGraph


def link_targets(graph: ProcessGraph) -> dict[str, str]:
    """Link throw event -> the link catch event its token continues at."""
    throws = [n for n in graph.nodes if _link(n, NodeCategory.INTERMEDIATE_THROW_EVENT)]
    catches = [n for n in graph.nodes if _link(n, NodeCategory.INTERMEDIATE_CATCH_EVENT)]
    found: dict[str, str] = {}
    for throw in throws:
        same = [c for c in catches if c.parent == throw.parent and _name(c) == _name(throw)]
        if same:
            found[throw.id] = same[0].id
            continue
        unnamed = [
            c
            for c in catches
            if c.parent == throw.parent
            and not any(t.parent == c.parent and _name(t) == _name(c) for t in throws)
        ]
        # first catch of each name only: a later one of a taken name is never a target
        unnamed = [c for c in unnamed if _first_of_its_name(c, catches)]
        if len(unnamed) == 1:
            found[throw.id] = unnamed[0].id
    return found


def _first_of_its_name(catch: Node, catches: list[Node]) -> bool:
    same = [c for c in catches if c.parent == catch.parent and _name(c) == _name(catch)]
    return same[0].id == catch.id


def _link(node: Node, category: NodeCategory) -> bool:
    return node.category is category and "link" in node.event_definitions


def _name(node: Node) -> str | None:
    name = node.link_name or node.name
    return None if name is None else " ".join(name.split())
