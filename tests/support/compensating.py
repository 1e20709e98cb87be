"""Compensation for the reference token game, from the rules of docs/semantics.md ("Compensation"),
written independently of the generator's `compensation` module.

The game keeps the compensable activities completed so far, in order (its history). A request
(a cancel leaving its transaction by a cancel boundary event, or a compensation throw event)
takes from the history those it compensates, last completed first, and the game then expects,
for each, the compensation boundary event and its handler to fire in that order before going on.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestra.domain.process import Node, NodeCategory, ProcessGraph


@dataclass(frozen=True)
class Compensation:
    scope: str | None  # completions inside it are compensated (None: the whole process)
    activity: str | None  # only this activity's, when the throw names one


def handlers(graph: ProcessGraph) -> dict[str, tuple[str, str]]:
    """Compensable activity -> (its compensation boundary event, the handler)."""
    found: dict[str, tuple[str, str]] = {}
    for event in graph.nodes:
        handler, activity = event.compensation_handler or "", event.attached_to or ""
        bound = activity and handler in graph.node_by_id
        if bound and "compensate" in event.event_definitions and activity not in found:
            found[activity] = (event.id, handler)
    return found


def is_compensation_boundary(node: Node) -> bool:
    return node.category is NodeCategory.BOUNDARY_EVENT and "compensate" in node.event_definitions


def started_by_compensation(graph: ProcessGraph, node: Node) -> bool:
    """An event subprocess whose start events are compensation events: it never starts while
    its scope runs (and the generator does not play it)."""
    starts = [c for c in graph.children(node.id) if c.category is NodeCategory.START_EVENT]
    return (
        node.triggered_by_event
        and bool(starts)
        and all("compensate" in s.event_definitions for s in starts)
    )


def thrown(graph: ProcessGraph, node: Node) -> Compensation | None:
    """What a compensation throw event compensates."""
    kinds = (NodeCategory.END_EVENT, NodeCategory.INTERMEDIATE_THROW_EVENT)
    if node.category not in kinds or "compensate" not in node.event_definitions:
        return None
    scope = node.parent
    if scope is not None and graph.node_by_id[scope].triggered_by_event:
        scope = graph.node_by_id[scope].parent
    detail = node.event_detail("compensate")
    return Compensation(scope, detail.ref if detail is not None else None)


def compensated(
    graph: ProcessGraph, history: tuple[str, ...], request: Compensation
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(The history left, the elements to fire: event, handler, event, handler...)."""
    table = handlers(graph)
    left: list[str] = []
    fire: list[str] = []
    for activity in reversed(history):
        wanted = request.activity in (None, activity) and _encloses(graph, request.scope, activity)
        if wanted:
            fire += table[activity]
        else:
            left.append(activity)
    return tuple(reversed(left)), tuple(fire)


def _encloses(graph: ProcessGraph, scope: str | None, element: str) -> bool:
    parent = graph.node_by_id[element].parent
    while parent is not None:
        if parent == scope:
            return True
        parent = graph.node_by_id[parent].parent
    return scope is None
