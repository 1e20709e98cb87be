"""Where a thrown error or escalation goes: which event catches it, and what it interrupts.

Throwers are error, escalation and cancel end events, intermediate escalation throw events,
and the tasks whose action is bound to cancel their transaction (`cancels`): those throw a
cancel as they complete. A cancel goes to the cancel boundary event of the innermost transaction
enclosing it (`_cancelled`). For the others, from
the thrower's own scope outward, each scope `S` (a subprocess, an inlined call, or the process)
is asked in turn, as BPMN propagates a throw:

1. an event subprocess inside `S` whose start event catches it (not one the thrower is in);
2. a boundary event on `S` that catches it.

Within a scope, the event subprocesses inside it are asked before the boundary events on it,
and of each: the catcher with the thrown ref, else one with the thrown error (escalation) code,
else a catch-all (a catcher without a ref). A throw without a ref is caught by a catch-all
only. The first scope with a catcher catches it (docs/semantics.md).

What happens then (`Catch`):

* caught by an interrupting catcher: the scope `S` is left at the throw (its other tokens die)
  and the catcher's path is taken;
* caught by a non-interrupting one (escalations only): the thrower goes on as if nothing was
  thrown, and the catcher's path is taken as well;
* an error nothing catches ends the process there, abnormally;
* an escalation nothing catches is ignored: the thrower goes on.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from orchestra.domain.process import EventDetail, Node, NodeCategory, ProcessGraph

ERROR = "error"
ESCALATION = "escalation"
CANCEL = "cancel"


@dataclass(frozen=True)
class Catch:
    thrower: str
    kind: str  # ERROR, ESCALATION or CANCEL
    catcher: str | None  # the boundary event or event subprocess catching it; None: nothing does
    scope: str | None  # the subprocess whose boundary (or event subprocess) catches; None: process
    interrupting: bool  # the thrower's own way on is cut (an uncaught error: the process ends)

    @property
    def continues(self) -> bool:
        """True when the thrower's own outgoing flows (or its scope's end) are still taken."""
        return not self.interrupting


def catches(graph: ProcessGraph, cancels: Collection[str] = ()) -> dict[str, Catch]:
    """Every thrower of the graph -> where its throw goes, in document order. `cancels`: the
    tasks whose action cancels their transaction."""
    found: dict[str, Catch] = {}
    handlers = _handlers(graph)
    for node in graph.nodes:
        kind = CANCEL if node.id in cancels else _thrown_kind(node)
        if kind is not None:
            found[node.id] = _resolve(graph, handlers, node, kind)
    return found


Handlers = dict[str | None, list[tuple[str, Node]]]  # scope -> (event subprocess, its start)


def _handlers(graph: ProcessGraph) -> Handlers:
    """The start events of the event subprocesses of each scope, in document order."""
    subprocesses = {n.id: n.parent for n in graph.nodes if n.triggered_by_event}
    found: Handlers = {}
    for node in graph.nodes:
        if node.category is NodeCategory.START_EVENT and node.parent in subprocesses:
            found.setdefault(subprocesses[node.parent], []).append((node.parent, node))
    return found


def _thrown_kind(node: Node) -> str | None:
    kinds: tuple[str, ...]
    if node.category is NodeCategory.END_EVENT:
        kinds = (ERROR, ESCALATION, CANCEL)
    elif node.category is NodeCategory.INTERMEDIATE_THROW_EVENT:
        kinds = (ESCALATION,)  # BPMN throws errors only from end events
    else:
        return None
    return next((kind for kind in kinds if kind in node.event_definitions), None)


def _resolve(graph: ProcessGraph, handlers: Handlers, thrower: Node, kind: str) -> Catch:
    ancestors = _ancestors(graph, thrower)
    if kind == CANCEL:
        return _cancelled(graph, thrower, ancestors)
    for scope in [*ancestors, None]:
        catcher = _event_subprocess_catcher(handlers, scope, thrower, kind, ancestors)
        if catcher is None and scope is not None:
            catcher = _boundary_catcher(graph, scope, thrower, kind)
        if catcher is not None:
            caught, interrupting = catcher
            return Catch(thrower.id, kind, caught, scope, interrupting)
    # nothing catches it: an error ends the process, an escalation is ignored
    return Catch(thrower.id, kind, None, None, interrupting=kind == ERROR)


def _cancelled(graph: ProcessGraph, thrower: Node, ancestors: list[str]) -> Catch:
    """A cancel end event cancels the innermost transaction enclosing it, which is left through
    its cancel boundary event; without one (or outside any transaction) nothing goes on."""
    for scope in ancestors:
        if graph.node_by_id[scope].type != "transaction":
            continue
        boundaries = graph.boundary_events.get(scope, ())
        catcher = next((b for b in boundaries if CANCEL in b.event_definitions), None)
        return Catch(thrower.id, CANCEL, catcher.id if catcher else None, scope, True)
    return Catch(thrower.id, CANCEL, None, None, interrupting=True)


def _ancestors(graph: ProcessGraph, node: Node) -> list[str]:
    """The scopes enclosing `node`, innermost first (the process itself not included)."""
    found: list[str] = []
    parent = node.parent
    while parent is not None and parent not in found:
        found.append(parent)
        parent = graph.node_by_id[parent].parent if parent in graph.node_by_id else None
    return found


def _event_subprocess_catcher(
    handlers: Handlers, scope: str | None, thrower: Node, kind: str, ancestors: list[str]
) -> tuple[str, bool] | None:
    """Not an event subprocess the thrower is itself inside: it does not catch its own throw."""
    starts: list[Node] = []
    owner: dict[str, str] = {}
    for handler, start in handlers.get(scope, []):
        if handler not in ancestors and kind in start.event_definitions:
            starts.append(start)
            owner[start.id] = handler
    caught = _catcher(starts, thrower, kind)
    if caught is None:
        return None
    return owner[caught.id], kind == ERROR or caught.is_interrupting


def _boundary_catcher(
    graph: ProcessGraph, scope: str, thrower: Node, kind: str
) -> tuple[str, bool] | None:
    boundaries = [b for b in graph.boundary_events.get(scope, ()) if kind in b.event_definitions]
    boundary = _catcher(boundaries, thrower, kind)
    if boundary is None:
        return None
    return boundary.id, kind == ERROR or boundary.cancel_activity


def _catcher(candidates: list[Node], thrower: Node, kind: str) -> Node | None:
    """The first candidate with the thrown ref, else with the thrown code, else one without a
    ref (a catch-all); a throw without a ref is caught by a catch-all only."""
    thrown = thrower.event_detail(kind)
    catch_all = [c for c in candidates if _catches_all(c.event_detail(kind))]
    if thrown is None or thrown.ref is None:
        return next(iter(catch_all), None)
    same_ref = [c for c in candidates if _same_ref(thrown, c.event_detail(kind))]
    same_code = [c for c in candidates if _same_code(thrown, c.event_detail(kind))]
    return next(iter(same_ref + same_code + catch_all), None)


def _same_ref(thrown: EventDetail, caught: EventDetail | None) -> bool:
    return caught is not None and caught.ref is not None and caught.ref == thrown.ref


def _same_code(thrown: EventDetail, caught: EventDetail | None) -> bool:
    if caught is None or caught.ref is None or thrown.code is None:
        return False
    return caught.code == thrown.code


def _catches_all(caught: EventDetail | None) -> bool:
    return caught is None or caught.ref is None


def inside(graph: ProcessGraph, element: str, scope: str | None) -> bool:
    """True when `element` lies in `scope` (at any depth), or `scope` is the process (None)."""
    if scope is None:
        return True
    node = graph.node_by_id.get(element)
    return node is not None and scope in _ancestors(graph, node)
