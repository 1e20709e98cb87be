"""Which event catches a thrown error, escalation or cancel, from the rules of
docs/semantics.md, written for the reference token game independently of the generator's
`throws` module."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from orchestra.domain.process import EventDetail, Node, NodeCategory, ProcessGraph


@dataclass(frozen=True)
class Caught:
    catcher: str | None  # a boundary event, or an event subprocess; None: nothing catches it
    scope: str | None  # the subprocess whose boundary (or event subprocess) catches it
    interrupting: bool


def thrown_kind(node: Node, cancels: Collection[str] = ()) -> str | None:
    """`cancels`: the tasks whose bound action cancels their transaction as they complete."""
    if node.id in cancels:
        return "cancel"
    if node.category is NodeCategory.END_EVENT:
        kinds = ("error", "escalation", "cancel")
        return next((k for k in kinds if k in node.event_definitions), None)
    if node.category is NodeCategory.INTERMEDIATE_THROW_EVENT:
        return "escalation" if "escalation" in node.event_definitions else None
    return None


def caught(graph: ProcessGraph, thrower: Node, cancels: Collection[str] = ()) -> Caught:
    kind = thrown_kind(thrower, cancels)
    assert kind is not None
    if kind == "cancel":
        return _cancelled(graph, thrower)
    thrown = thrower.event_detail(kind)
    enclosing = _enclosing(graph, thrower)
    scope = thrower.parent
    while True:
        handlers = [
            (sub, start)
            for sub in graph.children(scope)
            if sub.triggered_by_event and sub.id not in enclosing
            for start in graph.children(sub.id)
            if start.category is NodeCategory.START_EVENT and kind in start.event_definitions
        ]
        chosen = _pick([start for _, start in handlers], kind, thrown)
        if chosen is not None:
            sub = next(s for s, start in handlers if start is chosen)
            return Caught(sub.id, scope, kind == "error" or chosen.is_interrupting)
        if scope is None:
            return Caught(None, None, kind == "error")
        boundaries = [
            b for b in graph.boundary_events.get(scope, ()) if kind in b.event_definitions
        ]
        boundary = _pick(boundaries, kind, thrown)
        if boundary is not None:
            return Caught(boundary.id, scope, kind == "error" or boundary.cancel_activity)
        scope = graph.node_by_id[scope].parent


def _cancelled(graph: ProcessGraph, thrower: Node) -> Caught:
    """The innermost transaction around a cancel end event is left by its cancel boundary
    event; without one, or outside any transaction, the process ends there."""
    scope = thrower.parent
    while scope is not None:
        holder = graph.node_by_id[scope]
        if holder.type == "transaction":
            events = graph.boundary_events.get(scope, ())
            catcher = next((b.id for b in events if "cancel" in b.event_definitions), None)
            return Caught(catcher, scope if catcher else None, True)
        scope = holder.parent
    return Caught(None, None, True)


def catchers(graph: ProcessGraph, cancels: Collection[str] = ()) -> set[str]:
    return {
        found
        for node in graph.nodes
        if thrown_kind(node, cancels) is not None
        for found in [caught(graph, node, cancels).catcher]
        if found is not None
    }


def _enclosing(graph: ProcessGraph, node: Node) -> set[str]:
    found: set[str] = set()
    parent = node.parent
    while parent is not None:
        found.add(parent)
        parent = graph.node_by_id[parent].parent
    return found


def _pick(candidates: list[Node], kind: str, thrown: EventDetail | None) -> Node | None:
    """The same ref, else the same code, else a catch-all; a throw without a ref: catch-all."""
    details = [(c, c.event_detail(kind)) for c in candidates]
    catch_all = [c for c, d in details if d is None or d.ref is None]
    if thrown is None or thrown.ref is None:
        return catch_all[0] if catch_all else None
    same_ref = [c for c, d in details if d is not None and d.ref and d.ref == thrown.ref]
    same_code = [
        c
        for c, d in details
        if d is not None and d.ref and thrown.code is not None and d.code == thrown.code
    ]
    found = same_ref + same_code + catch_all
    return found[0] if found else None
