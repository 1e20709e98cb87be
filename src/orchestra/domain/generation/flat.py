"""The flat token-game graph: a ProcessGraph with its subprocesses and events wired in.

Generation never walks the BPMN graph directly. It walks this graph, where:

* a virtual SOURCE leads to every process-level start event, and every process-level end event
  (or activity without outgoing flow) leads to a virtual SINK;
* an embedded subprocess `S` leads to its start events, and its end events lead to a synthetic
  `S::exit` node that carries the subprocess's outgoing flows (the subprocess is inlined);
* an interrupting boundary event `B` on activity `T` is an exclusive alternative `T -> B`;
* a non-interrupting boundary event is an ATTACH edge `T -> B`: a concurrent branch that may fire;
* a thrown error, escalation or cancel (see `throws`) leads from its thrower to the boundary
  event or event subprocess catching it: interrupting, a BOUNDARY edge replacing the thrower's
  own way on (its outgoing flows, or its scope's exit); non-interrupting, an ATTACH edge beside
  it, which always fires. An error nothing catches leads to SINK: the process ends there. A
  catcher reached from a thrower is not also wired to its activity or scope, and a cancel
  boundary event is reached from its transaction's cancel end events only;
* an event subprocess is entered from its scope (the subprocess node, or the process-level start
  events): interrupting ones as an exclusive alternative, non-interrupting ones as ATTACH edges;
* a gateway that both joins and splits is cut in two (`G` joins, `G::split` splits).

Each edge keeps the id of the sequence flow it comes from, so coverage is counted on flows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from orchestra.domain.generation.compensation import compensation_event_subprocess
from orchestra.domain.generation.throws import Catch, catches
from orchestra.domain.process import Flow, Node, NodeCategory, ProcessGraph

SOURCE = "::source"
# boundary events the activity's running never fires: a cancel fires from a cancel of its
# transaction (see `throws`), a compensation event when its activity is compensated
_OWN_TRIGGER = frozenset({"cancel", "compensate"})
SINK = "::sink"


class Role(StrEnum):
    ELEMENT = "element"  # a BPMN flow node
    SOURCE = "source"
    SINK = "sink"
    SCOPE_EXIT = "scope-exit"  # where a subprocess's tokens meet before its outgoing flows
    SPLIT_HALF = "split-half"  # the splitting half of a gateway that also joins
    SCOPE_START = "scope-start"  # gives a token to each implicit start of a scope at once


class Gate(StrEnum):
    """How a node takes its outgoing flows (split) or waits on its incoming ones (join)."""

    XOR = "xor"
    AND = "and"
    OR = "or"


class EdgeKind(StrEnum):
    FLOW = "flow"  # a sequence flow of the model
    START = "start"  # SOURCE -> start event
    END = "end"  # end event -> SINK
    ENTER = "enter"  # subprocess -> its start event
    EXIT = "exit"  # end event inside a subprocess -> the subprocess's exit
    BOUNDARY = "boundary"  # activity -> interrupting boundary event or event subprocess
    ATTACH = "attach"  # activity -> non-interrupting boundary event or event subprocess
    HALF = "half"  # joining half -> splitting half of a gateway
    LINK = "link"  # link throw event -> the link catch event of the same name
    DONE = "done"  # synthetic: a block whose branches end -> where they end (not in `out`)
    LOOP = "loop"  # synthetic: take back edge `via`, then the shortest way out (not in `out`)


@dataclass(frozen=True)
class FlatNode:
    id: str
    element: str | None  # the BPMN node id it stands for
    role: Role
    split: Gate = Gate.XOR
    join: Gate = Gate.XOR


@dataclass(frozen=True)
class FlatEdge:
    index: int
    source: str
    target: str
    kind: EdgeKind
    flow: Flow | None = None
    via: int | None = None  # LOOP edges: the back edge taken

    @property
    def flow_id(self) -> str | None:
        return self.flow.id if self.flow is not None else None


@dataclass
class FlatGraph:
    graph: ProcessGraph
    nodes: dict[str, FlatNode] = field(default_factory=dict)
    edges: list[FlatEdge] = field(default_factory=list)
    out: dict[str, list[int]] = field(default_factory=dict)
    into: dict[str, list[int]] = field(default_factory=dict)
    catches: dict[str, Catch] = field(default_factory=dict)  # thrower -> where its throw goes
    cut: dict[str, str] = field(default_factory=dict)  # flow id -> the thrower it is cut after

    def add_node(self, node: FlatNode) -> None:
        self.nodes[node.id] = node
        self.out.setdefault(node.id, [])
        self.into.setdefault(node.id, [])

    def add_edge(self, source: str, target: str, kind: EdgeKind, flow: Flow | None = None) -> int:
        edge = FlatEdge(len(self.edges), source, target, kind, flow)
        self.edges.append(edge)
        self.out[source].append(edge.index)
        self.into[target].append(edge.index)
        return edge.index

    def add_synthetic(
        self, source: str, target: str, kind: EdgeKind, via: int | None = None
    ) -> int:
        """An edge generation walks but the graph does not show (kept out of `out`/`into`)."""
        edge = FlatEdge(len(self.edges), source, target, kind, None, via)
        self.edges.append(edge)
        return edge.index

    def normal_out(self, node: str) -> list[int]:
        """Outgoing edges without the non-interrupting attachments."""
        return [e for e in self.out[node] if self.edges[e].kind is not EdgeKind.ATTACH]

    def attach_out(self, node: str) -> list[int]:
        return [e for e in self.out[node] if self.edges[e].kind is EdgeKind.ATTACH]

    def fires_always(self, edge: int) -> bool:
        """True for an ATTACH edge from a thrower: the catcher's path is taken whenever the
        throw is, not just possibly as for a boundary timer or message."""
        found = self.edges[edge]
        return found.kind is EdgeKind.ATTACH and found.source in self.catches

    def flowless(self, node: str) -> bool:
        """A BPMN element no sequence flow enters or leaves (a boundary event without outgoing
        flow, say): all-flows must visit it for itself, no flow brings it along."""
        if self.nodes[node].role is not Role.ELEMENT:
            return False
        edges = (self.edges[e] for e in (*self.into[node], *self.out[node]))
        return not any(edge.kind is EdgeKind.FLOW for edge in edges)

    def is_split(self, node: str) -> bool:
        """True when the node sends tokens down several outgoing edges at once."""
        return self.nodes[node].split is not Gate.XOR and len(self.normal_out(node)) > 1


def exit_id(scope: str) -> str:
    return f"{scope}::exit"


def flatten(graph: ProcessGraph, cancels: Collection[str] = ()) -> FlatGraph:
    """`cancels`: the tasks whose action cancels their transaction (a binding says so)."""
    flat = FlatGraph(graph, catches=catches(graph, cancels))
    flat.add_node(FlatNode(SOURCE, None, Role.SOURCE))
    flat.add_node(FlatNode(SINK, None, Role.SINK))
    halves = _split_halves(graph)
    for node in graph.nodes:
        split, join = _gates(graph, node)
        if node.category is NodeCategory.SUB_PROCESS:
            flat.add_node(FlatNode(node.id, node.id, Role.ELEMENT, Gate.XOR, join))
            flat.add_node(FlatNode(exit_id(node.id), node.id, Role.SCOPE_EXIT, split))
        elif node.id in halves:
            flat.add_node(FlatNode(node.id, node.id, Role.ELEMENT, Gate.XOR, join))
            flat.add_node(FlatNode(halves[node.id], node.id, Role.SPLIT_HALF, split, Gate.XOR))
        else:
            flat.add_node(FlatNode(node.id, node.id, Role.ELEMENT, split, join))
    for half_of, half in halves.items():
        flat.add_edge(half_of, half, EdgeKind.HALF)
    _wire_flows(flat, halves)
    _wire_scopes(flat)
    _wire_throws(flat)
    _wire_boundaries(flat)
    for source, target in links(graph).items():
        flat.add_edge(source, target, EdgeKind.LINK)
    return flat


def _gates(graph: ProcessGraph, node: Node) -> tuple[Gate, Gate]:
    category = node.category
    if category is NodeCategory.PARALLEL_GATEWAY:
        return Gate.AND, Gate.AND
    if category in (NodeCategory.INCLUSIVE_GATEWAY, NodeCategory.COMPLEX_GATEWAY):
        return Gate.OR, Gate.OR
    if category.is_gateway:
        return Gate.XOR, Gate.XOR
    outgoing = graph.outgoing.get(node.id, ())
    if len(outgoing) < 2:
        return Gate.XOR, Gate.XOR
    # several outgoing flows on an activity or event: unconditioned ones all fire (BPMN 13.2)
    if any(flow.condition is not None for flow in outgoing):
        return Gate.OR, Gate.XOR
    return Gate.AND, Gate.XOR


def _split_halves(graph: ProcessGraph) -> dict[str, str]:
    """Gateways (and multi-flow activities) that both join and split: node id -> split half id."""
    halves: dict[str, str] = {}
    for node in graph.nodes:
        if node.category is NodeCategory.SUB_PROCESS:
            continue  # its exit node splits
        many_in = len(graph.incoming.get(node.id, ())) > 1
        many_out = len(graph.outgoing.get(node.id, ())) > 1
        split, join = _gates(graph, node)
        splits = many_out and split is not Gate.XOR
        if (splits and (many_in or graph.boundary_events.get(node.id))) or (
            many_in and many_out and join is not Gate.XOR
        ):
            halves[node.id] = f"{node.id}::split"
    return halves


def _wire_flows(flat: FlatGraph, halves: dict[str, str]) -> None:
    nodes = flat.graph.node_by_id
    for flow in flat.graph.flows:
        if flow.source not in nodes or flow.target not in nodes:
            continue  # dangling: the importer reports it
        if not _goes_on(flat, flow.source):
            flat.cut[flow.id] = flow.source
            continue
        source = halves.get(flow.source, flow.source)
        if nodes[flow.source].category is NodeCategory.SUB_PROCESS:
            source = exit_id(flow.source)
        flat.add_edge(source, flow.target, EdgeKind.FLOW, flow)


def links(graph: ProcessGraph) -> dict[str, str]:
    """Link throw event -> the catch event it jumps to (same link name, same scope).

    Real exports leave link names empty and name the two events differently (as the importer's
    validation also assumes): in a scope with one catch whose name no throw carries, the throws
    whose name no catch carries jump to it.
    """
    throws = [n for n in graph.nodes if _is_link(n, NodeCategory.INTERMEDIATE_THROW_EVENT)]
    catches: dict[tuple[str | None, str | None], str] = {}
    for node in graph.nodes:
        if _is_link(node, NodeCategory.INTERMEDIATE_CATCH_EVENT):
            catches.setdefault((node.parent, _link_name(node)), node.id)
    named = {(n.parent, _link_name(n)) for n in throws}
    unpaired: dict[str | None, list[str]] = {}
    for (scope, name), catch in catches.items():
        if (scope, name) not in named:
            unpaired.setdefault(scope, []).append(catch)
    found: dict[str, str] = {}
    for node in throws:
        key = (node.parent, _link_name(node))
        alone = unpaired.get(node.parent, [])
        if key in catches:
            found[node.id] = catches[key]
        elif len(alone) == 1:
            found[node.id] = alone[0]
    return found


def _is_link(node: Node, category: NodeCategory) -> bool:
    return node.category is category and "link" in node.event_definitions


def _link_name(node: Node) -> str | None:
    """Spacing and line breaks in a drawn label are layout, not part of the link's name."""
    name = node.link_name or node.name
    return " ".join(name.split()) if name is not None else None


def _wire_scopes(flat: FlatGraph) -> None:
    """Entries and exits of the process and of every subprocess, event subprocesses included."""
    graph = flat.graph
    scopes: list[str | None] = [None]
    scopes += [n.id for n in graph.nodes if n.category is NodeCategory.SUB_PROCESS]
    for scope in scopes:
        children = graph.children(scope)
        starts = _entries(graph, scope)
        if scope is None or not graph.node_by_id[scope].triggered_by_event:
            _wire_entries(flat, scope, starts)
            if scope is not None and not children:
                flat.add_edge(scope, exit_id(scope), EdgeKind.EXIT)
        exit_node = SINK if scope is None else exit_id(scope)
        for child in _ends(flat, children):
            if _goes_on(flat, child.id):
                kind = EdgeKind.END if scope is None else EdgeKind.EXIT
                flat.add_edge(child.id, exit_node, kind)
            if child.category is NodeCategory.END_EVENT:
                _wire_throw(flat, child.id)
        for child in children:
            if child.triggered_by_event and not compensation_event_subprocess(graph, child):
                _wire_event_subprocess(flat, scope, child, starts)


def start_id(scope: str | None) -> str:
    return f"{scope}::start" if scope is not None else "::start"


def _entries(graph: ProcessGraph, scope: str | None) -> list[Node]:
    """Start events no flow enters; without start events, the implicit starts."""
    starts, implicit = graph.starts(scope)
    return list(starts) if implicit else [s for s in starts if not graph.incoming.get(s.id)]


def _wire_entries(flat: FlatGraph, scope: str | None, starts: list[Node]) -> None:
    """Start events are alternatives; implicit starts all get a token at once, from a
    parallel split of the scope's own (`S::start`)."""
    anchor, kind = (SOURCE, EdgeKind.START) if scope is None else (scope, EdgeKind.ENTER)
    implicit = flat.graph.starts(scope)[1]
    if implicit and len(starts) > 1:
        split = start_id(scope)
        flat.add_node(FlatNode(split, scope, Role.SCOPE_START, Gate.AND))
        flat.add_edge(anchor, split, kind)
        anchor = split
    for start in starts:
        flat.add_edge(anchor, start.id, kind)


def _ends(flat: FlatGraph, children: Iterable[Node]) -> list[Node]:
    """End events, and flow nodes that have no way out (implicit ends)."""
    graph = flat.graph
    linked = links(graph)
    ends: list[Node] = []
    for child in children:
        if child.id in linked:
            continue
        if child.category is NodeCategory.END_EVENT or (
            not graph.outgoing.get(child.id) and _may_end(child)
        ):
            ends.append(child)
    return ends


def _may_end(node: Node) -> bool:
    """A node without outgoing flow ends its scope, unless it is a start, an event subprocess or
    a compensation boundary event (an association, not a flow, leads to its handler)."""
    if node.category is NodeCategory.START_EVENT:
        return False
    if node.attached_to is not None and "compensate" in node.event_definitions:
        return False
    return not (node.category is NodeCategory.SUB_PROCESS and node.triggered_by_event)


def _goes_on(flat: FlatGraph, node: str) -> bool:
    """False for a thrower whose throw cuts its own way on (an interrupting catch, or an
    uncaught error)."""
    catch = flat.catches.get(node)
    return catch is None or catch.continues


def _wire_throw(flat: FlatGraph, thrower: str) -> None:
    catch = flat.catches.get(thrower)
    if catch is None:
        return
    if catch.catcher is not None:
        kind = EdgeKind.BOUNDARY if catch.interrupting else EdgeKind.ATTACH
        flat.add_edge(thrower, catch.catcher, kind)
    elif catch.interrupting:  # an error nothing catches: the process ends here
        flat.add_edge(thrower, SINK, EdgeKind.END)


def _wire_throws(flat: FlatGraph) -> None:
    """Intermediate throw events (end events are wired with their scope's ends)."""
    nodes = flat.graph.node_by_id
    for thrower in flat.catches:
        if nodes[thrower].category is not NodeCategory.END_EVENT:
            _wire_throw(flat, thrower)


def _caught(flat: FlatGraph) -> set[str]:
    """Boundary events and event subprocesses some thrower leads to."""
    return {c.catcher for c in flat.catches.values() if c.catcher is not None}


def _wire_event_subprocess(
    flat: FlatGraph, scope: str | None, event_sub: Node, scope_starts: list[Node]
) -> None:
    graph = flat.graph
    starts = [c for c in graph.children(event_sub.id) if c.category is NodeCategory.START_EVENT]
    interrupting = all(start.is_interrupting for start in starts)
    kind = EdgeKind.BOUNDARY if interrupting else EdgeKind.ATTACH
    anchors = [scope] if scope is not None else [start.id for start in scope_starts]
    if event_sub.id in _caught(flat):
        anchors = []  # entered from the throws it catches
    for anchor in anchors:
        flat.add_edge(anchor, event_sub.id, kind)
    for start in starts:
        flat.add_edge(event_sub.id, start.id, EdgeKind.ENTER)
    after = SINK if scope is None else exit_id(scope)
    flat.add_edge(exit_id(event_sub.id), after, EdgeKind.END if scope is None else EdgeKind.EXIT)


def _wire_boundaries(flat: FlatGraph) -> None:
    graph = flat.graph
    caught = _caught(flat)
    for activity, events in graph.boundary_events.items():
        if activity not in flat.nodes:
            continue
        for event in events:
            if event.id in caught or _OWN_TRIGGER.intersection(event.event_definitions):
                continue  # entered from the throws it catches, or only by a cancel or compensation
            kind = EdgeKind.BOUNDARY if event.cancel_activity else EdgeKind.ATTACH
            flat.add_edge(activity, event.id, kind)
