"""In what order a process runs its nodes, and which nodes every path to a node has been
through: what a binding scaffold lists first, and where a value saved earlier is there for sure.
Pure graph walks over a ProcessGraph."""

from __future__ import annotations

from orchestra.domain.process import Node, NodeCategory, ProcessGraph


def run_order(graph: ProcessGraph) -> dict[str, int]:
    """Nodes in the order a process runs them (a reverse postorder of a depth-first walk from
    the starts: a node before those it leads to, a subprocess's inside before what follows
    it, a gateway's first flow first); the nodes no walk reaches after, as drawn."""
    entries = _entries(graph, None)
    entries.sort(key=lambda i: graph.node_by_id[i].category is not NodeCategory.START_EVENT)
    done: set[str] = set()
    finished: list[str] = []
    for root in reversed(entries):
        _walk(graph, root, done, finished)
    order = {node_id: i for i, node_id in enumerate(reversed(finished))}
    for node in graph.nodes:
        order.setdefault(node.id, len(order))
    return order


def _entries(graph: ProcessGraph, parent: str | None) -> list[str]:
    return [
        n.id
        for n in graph.nodes
        if n.parent == parent and not graph.incoming.get(n.id) and n.attached_to is None
    ]


def _walk(graph: ProcessGraph, root: str, done: set[str], finished: list[str]) -> None:
    """Depth first without recursion; successors pushed last-first so the first comes first."""
    if root in done:
        return
    done.add(root)
    stack = [(root, iter(reversed(_successors(graph, root))))]
    while stack:
        node, successors = stack[-1]
        following = next((s for s in successors if s not in done), None)
        if following is None:
            stack.pop()
            finished.append(node)
        else:
            done.add(following)
            stack.append((following, iter(reversed(_successors(graph, following)))))


def _successors(graph: ProcessGraph, node_id: str) -> list[str]:
    inside = _entries(graph, node_id)
    flows = [f.target for f in graph.outgoing.get(node_id, ())]
    return inside + flows + [b.id for b in graph.boundary_events.get(node_id, ())]


def must_precede(graph: ProcessGraph) -> dict[str, frozenset[str]]:
    """For each node, the nodes every path from a start to it has gone through (after a
    parallel join: those of every branch). Inner starts inherit their subprocess's; a boundary
    event its activity's (the activity may not have completed)."""
    everything = frozenset(graph.node_by_id)
    before: dict[str, frozenset[str]] = {n.id: everything for n in graph.nodes}
    for _ in range(len(graph.nodes) + 2):
        changed = False
        for node in graph.nodes:
            found = _before(graph, node, before)
            if found != before[node.id]:
                before[node.id], changed = found, True
        if not changed:
            break
    return before


def _before(graph: ProcessGraph, node: Node, before: dict[str, frozenset[str]]) -> frozenset[str]:
    if node.attached_to is not None:
        return before.get(node.attached_to, frozenset())
    sources = [f.source for f in graph.incoming.get(node.id, ())]
    if not sources:
        return before.get(node.parent or "", frozenset())
    sets = [before[s] | {s} for s in sources if s in before]
    if not sets:
        return frozenset()
    if node.category is NodeCategory.PARALLEL_GATEWAY:
        return frozenset().union(*sets)
    return frozenset.intersection(*sets)
