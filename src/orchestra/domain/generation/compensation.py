"""Compensation: which handlers run, and in which order, when a scenario compensates.

An activity is *compensable* when a compensation boundary event sits on it and an association
ties that event to a handler (`Node.compensation_handler`). Compensating undoes what has
completed: the handlers of the compensable activities the scenario completed in the scope run
in reverse order of completion, each completion compensated once.

* A cancel (a cancel end event, or a task whose action is bound to cancel) that leaves its
  transaction through a cancel boundary event compensates every activity completed inside the
  transaction, before the cancel boundary event's path.
* A compensation throw event (intermediate or end, with a compensateEventDefinition)
  compensates the activity its `activityRef` names, or without one every activity completed in
  its scope: the subprocess it lies in, or, thrown from an event subprocess, the scope holding
  that event subprocess. An intermediate throw goes on once the handlers are done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orchestra.domain.generation.calls import SEPARATOR
from orchestra.domain.generation.throws import inside
from orchestra.domain.process import Node, NodeCategory, ProcessGraph

COMPENSATE = "compensate"


@dataclass(frozen=True)
class Undo:
    """How one compensable activity is compensated."""

    activity: str
    event: str  # the compensation boundary event on it
    handler: str  # the activity the event's association names


@dataclass(frozen=True)
class Request:
    """What a throw compensates: the completions inside `scope` (None: the whole process),
    only those of `activity` when it names one."""

    scope: str | None
    activity: str | None = None


def compensable(graph: ProcessGraph) -> dict[str, Undo]:
    """Compensable activity -> how it is compensated (its first bound compensation event)."""
    found: dict[str, Undo] = {}
    for node in graph.nodes:
        handler, activity = node.compensation_handler, node.attached_to
        if handler is not None and activity is not None and handler in graph.node_by_id:
            found.setdefault(activity, Undo(activity, node.id, handler))
    return found


def compensation_event_subprocess(graph: ProcessGraph, node: Node) -> bool:
    """An event subprocess started by compensating the subprocess holding it: never while that
    subprocess runs. Generation does not play it: compensating that subprocess runs the
    handlers of the activities completed inside it instead."""
    if not node.triggered_by_event:
        return False
    starts = [c for c in graph.children(node.id) if c.category is NodeCategory.START_EVENT]
    return bool(starts) and all(COMPENSATE in s.event_definitions for s in starts)


def thrown_compensation(graph: ProcessGraph, node: Node) -> Request | None:
    """What a compensation throw event compensates; None for any other node."""
    throws = node.category in (NodeCategory.END_EVENT, NodeCategory.INTERMEDIATE_THROW_EVENT)
    if not throws or COMPENSATE not in node.event_definitions:
        return None
    scope = node.parent
    holder = graph.node_by_id.get(scope or "")
    if holder is not None and holder.triggered_by_event:
        scope = holder.parent
    detail = node.event_detail(COMPENSATE)
    activity = detail.ref if detail is not None else None
    if activity is not None and SEPARATOR in node.id:  # inlined: refs name the callee's ids
        activity = f"{node.id.rsplit(SEPARATOR, 1)[0]}{SEPARATOR}{activity}"
    return Request(scope, activity)


def to_compensate(
    graph: ProcessGraph,
    undos: dict[str, Undo],
    completed: Sequence[str],
    request: Request,
    done: set[int],
) -> list[tuple[int, Undo]]:
    """The completions (positions in `completed`) the request compensates, last completed
    first, leaving out those in `done` (already compensated)."""
    found: list[tuple[int, Undo]] = []
    for position in reversed(range(len(completed))):
        element = completed[position]
        undo = undos.get(element)
        if undo is None or position in done:
            continue
        if request.activity is not None and element != request.activity:
            continue
        if inside(graph, element, request.scope):
            found.append((position, undo))
    return found
