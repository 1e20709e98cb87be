"""Validation of imported process graphs: what makes a model untestable, and what is merely odd.

Errors are what no test suite can be generated from: a flow pointing at a missing node, a
process with nothing to start from, a gateway leading nowhere, a boundary event attached to
nothing. Everything real modelling tools legitimately write (descriptive processes without
a start event, lane-only pools, splits without conditions, no diagram) is a warning.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from orchestra.bpmn.findings import Findings
from orchestra.domain.process import Node, NodeCategory, ProcessGraph


def validate(graph: ProcessGraph, findings: Findings) -> None:
    """Add the problems of one process to `findings`."""
    _check_flows(graph, findings)
    _check_boundary_events(graph, findings)
    _check_structure(graph, findings)
    reached = _check_start_and_reachability(graph, findings)
    _check_gateways(graph, reached, findings)
    _check_call_activities(graph, findings)
    if graph.is_executable is not True:
        findings.warning(
            "not-executable",
            f"process {graph.id!r} is not marked executable (a descriptive model); it is "
            "imported for testing all the same",
            element_id=graph.id,
            process_id=graph.id,
        )
    if graph.diagram is None and graph.nodes:
        findings.warning(
            "no-diagram",
            f"process {graph.id!r} has no BPMNDI diagram; reports will show no drawing",
            element_id=graph.id,
            process_id=graph.id,
        )


def _check_flows(graph: ProcessGraph, findings: Findings) -> None:
    for flow in graph.flows:
        for end, role in ((flow.source, "source"), (flow.target, "target")):
            if end not in graph.node_by_id:
                findings.error(
                    "dangling-flow",
                    f"sequence flow {flow.id!r} has {role} {end!r}, which is not a flow node "
                    f"of process {graph.id!r}",
                    element_id=flow.id,
                    process_id=graph.id,
                    line=flow.line,
                )


def _check_gateways(graph: ProcessGraph, reached: set[str], findings: Findings) -> None:
    for node in graph.nodes:
        outgoing = graph.outgoing.get(node.id, ())
        if node.default_flow is not None and node.default_flow not in {f.id for f in outgoing}:
            findings.warning(
                "unknown-default-flow",
                f"{node.type} {node.id!r} names default flow {node.default_flow!r}, which is "
                "not one of its outgoing flows; it is treated as having no default",
                element_id=node.id,
                process_id=graph.id,
                line=node.line,
            )
        if not node.category.is_gateway:
            continue
        if not outgoing:
            _report_gateway_without_outgoing(node, graph, node.id in reached, findings)
        elif _is_unconditioned_split(node, graph):
            findings.warning(
                "split-without-conditions",
                f"{node.type} {node.id!r} splits into {len(outgoing)} flows and some have no "
                "condition expression; bind the data that selects each branch",
                element_id=node.id,
                process_id=graph.id,
                line=node.line,
            )


def _report_gateway_without_outgoing(
    gateway: Node, graph: ProcessGraph, is_reached: bool, findings: Findings
) -> None:
    """A decision a token reaches but cannot leave is untestable; other dead ends are not.

    Real exports hold joins drawn last (BPMN ends the path at a node without outgoing flows)
    and gateways whose flows the tool lost (unreachable, so no test passes them).
    """
    if is_reached and len(graph.incoming.get(gateway.id, ())) <= 1:
        findings.error(
            "gateway-without-outgoing",
            f"{gateway.type} {gateway.id!r} is reached but has no outgoing sequence flow: "
            "there is no branch to take",
            element_id=gateway.id,
            process_id=graph.id,
            line=gateway.line,
        )
        return
    findings.warning(
        "dead-end-gateway",
        f"{gateway.type} {gateway.id!r} has no outgoing sequence flow: every path into it "
        "ends there",
        element_id=gateway.id,
        process_id=graph.id,
        line=gateway.line,
    )


def _is_unconditioned_split(gateway: Node, graph: ProcessGraph) -> bool:
    if gateway.category not in (NodeCategory.EXCLUSIVE_GATEWAY, NodeCategory.INCLUSIVE_GATEWAY):
        return False
    outgoing = graph.outgoing.get(gateway.id, ())
    if len(outgoing) < 2:
        return False
    return any(f.condition is None and f.id != gateway.default_flow for f in outgoing)


def _check_boundary_events(graph: ProcessGraph, findings: Findings) -> None:
    for node in graph.nodes:
        if node.category is not NodeCategory.BOUNDARY_EVENT:
            continue
        host = graph.node_by_id.get(node.attached_to or "")
        if host is None or not host.category.is_activity:
            what = "nothing" if node.attached_to is None else repr(node.attached_to)
            findings.error(
                "unattached-boundary-event",
                f"boundary event {node.id!r} is attached to {what}, which is not an activity "
                f"of process {graph.id!r}",
                element_id=node.id,
                process_id=graph.id,
                line=node.line,
            )


def _check_structure(graph: ProcessGraph, findings: Findings) -> None:
    """What BPMN forbids but tools write: generation reads such a model in one way of many."""
    for node in graph.nodes:
        host = graph.node_by_id.get(node.attached_to or "")
        if node.category is not NodeCategory.BOUNDARY_EVENT or host is None:
            continue
        for code, message in _boundary_faults(graph, node, host):
            findings.warning(code, message, element_id=node.id, process_id=graph.id, line=node.line)
    for flow in graph.flows:
        source, target = graph.node_by_id.get(flow.source), graph.node_by_id.get(flow.target)
        if source is None or target is None or source.parent == target.parent:
            continue
        findings.warning(
            "flow-crosses-subprocess",
            f"sequence flow {flow.id!r} goes from {source.id!r} ({_scope(source)}) to "
            f"{target.id!r} ({_scope(target)}): a sequence flow cannot cross a subprocess's "
            "border",
            element_id=flow.id,
            process_id=graph.id,
            line=flow.line,
        )


def _boundary_faults(graph: ProcessGraph, event: Node, host: Node) -> Iterator[tuple[str, str]]:
    if _within(graph, event, host.id):
        yield (
            "boundary-event-inside-host",
            f"boundary event {event.id!r} lies inside {host.id!r}, the activity it is attached "
            "to; it belongs on its border, in the scope around it",
        )
    if graph.incoming.get(event.id):
        yield (
            "boundary-event-with-incoming-flow",
            f"boundary event {event.id!r} has incoming sequence flows; only the activity it "
            "is attached to starts it, so they are ignored",
        )
    if "cancel" in event.event_definitions and host.type != "transaction":
        yield (
            "cancel-boundary-not-on-transaction",
            f"cancel boundary event {event.id!r} is attached to {host.type} {host.id!r}, not "
            "a transaction: no cancel end event can reach it",
        )
    handler = graph.node_by_id.get(event.compensation_handler or "")
    compensates = "compensate" in event.event_definitions
    if compensates and (handler is None or not handler.category.is_activity):
        yield (
            "compensation-without-handler",
            f"compensation boundary event {event.id!r} on {host.id!r} has no association to a "
            f"handler activity: compensating {host.id!r} runs nothing",
        )


def _within(graph: ProcessGraph, node: Node, scope: str) -> bool:
    parent, seen = node.parent, set()
    while parent is not None and parent not in seen:
        if parent == scope:
            return True
        seen.add(parent)
        enclosing = graph.node_by_id.get(parent)
        parent = enclosing.parent if enclosing is not None else None
    return False


def _scope(node: Node) -> str:
    return "at process level" if node.parent is None else f"in {node.parent!r}"


def _check_call_activities(graph: ProcessGraph, findings: Findings) -> None:
    for node in graph.nodes:
        if node.category is NodeCategory.CALL_ACTIVITY and node.called_element is None:
            findings.warning(
                "call-without-called-element",
                f"call activity {node.id!r} names no calledElement; it is tested as a task",
                element_id=node.id,
                process_id=graph.id,
                line=node.line,
            )


def _check_start_and_reachability(graph: ProcessGraph, findings: Findings) -> set[str]:
    """Report start and reachability problems; return the ids of the nodes a token can reach."""
    top_level = [n for n in graph.children(None) if not _started_by_event(n)]
    if not top_level:
        if not graph.nodes:
            findings.warning(
                "empty-process",
                f"process {graph.id!r} has no flow nodes (a pool with lanes only?); nothing "
                "to test in it",
                element_id=graph.id,
                process_id=graph.id,
            )
        return _reachable(graph, [])
    starts = _starts(graph, None)
    if not starts:
        findings.error(
            "nothing-to-start",
            f"process {graph.id!r} has no start event and every node has an incoming flow: "
            "there is nothing to start it from",
            element_id=graph.id,
            process_id=graph.id,
        )
        return set()
    if not any(n.category is NodeCategory.START_EVENT for n in starts):
        findings.warning(
            "no-start-event",
            f"process {graph.id!r} has no start event; it starts at "
            + ", ".join(repr(n.id) for n in starts),
            element_id=graph.id,
            process_id=graph.id,
        )
    reached = _reachable(graph, starts)
    for node in graph.nodes:
        if node.id not in reached and (node.parent is None or node.parent in reached):
            findings.warning(
                "unreachable-node",
                f"{node.type} {node.id!r} cannot be reached from any start of process {graph.id!r}",
                element_id=node.id,
                process_id=graph.id,
                line=node.line,
            )
    return reached


def _started_by_event(node: Node) -> bool:
    return node.is_started_by_event


def _starts(graph: ProcessGraph, container: str | None) -> list[Node]:
    """Where a token starts inside `container`, as generation starts it (`ProcessGraph.starts`)."""
    return list(graph.starts(container)[0])


def _reachable(graph: ProcessGraph, starts: list[Node]) -> set[str]:
    link_catches = _link_catches(graph)
    roots = [
        n
        for n in graph.nodes
        if _started_by_event(n)
        and n.attached_to is None
        and not _is_link(n, NodeCategory.INTERMEDIATE_CATCH_EVENT)
    ]
    queue = deque(node.id for node in [*starts, *roots])
    reached: set[str] = set()
    while queue:
        node_id = queue.popleft()
        if node_id in reached or node_id not in graph.node_by_id:
            continue
        reached.add(node_id)
        queue.extend(_successors(graph, graph.node_by_id[node_id], link_catches))
    return reached


def _successors(
    graph: ProcessGraph, node: Node, link_catches: dict[str | None, list[str]]
) -> Iterator[str]:
    """Where a token goes next: flows, boundary events, a subprocess's starts, a link's catch."""
    yield from (flow.target for flow in graph.outgoing.get(node.id, ()))
    yield from (event.id for event in graph.boundary_events.get(node.id, ()))
    if node.category is NodeCategory.SUB_PROCESS:
        yield from (n.id for n in _starts(graph, node.id))
        yield from (n.id for n in graph.children(node.id) if _started_by_event(n))
    if _is_link(node, NodeCategory.INTERMEDIATE_THROW_EVENT):
        key = node.link_name or node.name
        yield from link_catches.get(key, link_catches.get(_UNPAIRED, ()))


_UNPAIRED = "\0unpaired"


def _link_catches(graph: ProcessGraph) -> dict[str | None, list[str]]:
    """Link catch events by link name (or event name, which tools often use instead).

    Real exports leave link names empty and name the two events differently; a throw whose
    name no catch carries continues at the catches no throw names (`_UNPAIRED`).
    """
    catches: dict[str | None, list[str]] = {}
    throws: set[str | None] = set()
    for node in graph.nodes:
        if _is_link(node, NodeCategory.INTERMEDIATE_CATCH_EVENT):
            catches.setdefault(node.link_name or node.name, []).append(node.id)
        elif _is_link(node, NodeCategory.INTERMEDIATE_THROW_EVENT):
            throws.add(node.link_name or node.name)
    unpaired = [node_id for key, ids in catches.items() if key not in throws for node_id in ids]
    return catches | {_UNPAIRED: unpaired}


def _is_link(node: Node, category: NodeCategory) -> bool:
    return node.category is category and "link" in node.event_definitions
