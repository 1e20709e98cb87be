"""Call activities: inline the called process when it is imported, down to a depth limit.

An inlined call activity `C` becomes a container like an embedded subprocess: the called
process's nodes and flows are copied inside it with ids `C/<id>` (a `/` cannot occur in a BPMN
id), so element ids stay unique and say where they come from. Calls that are not imported, or
deeper than the limit, or recursive, stay one ACTION step.
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestra.domain.process import Flow, Node, NodeCategory, ProcessGraph

DEFAULT_CALL_DEPTH = 3
SEPARATOR = "/"


def called_keys(graph: ProcessGraph) -> list[str]:
    """The process keys the graph's call activities name, in document order."""
    keys = [
        node.called_element
        for node in graph.nodes
        if node.category is NodeCategory.CALL_ACTIVITY and node.called_element
    ]
    return list(dict.fromkeys(keys))


def inline_calls(
    graph: ProcessGraph, called: Mapping[str, ProcessGraph], depth: int = DEFAULT_CALL_DEPTH
) -> tuple[ProcessGraph, list[str]]:
    """The graph with its imported calls inlined, and the keys inlined (sorted)."""
    inlined: set[str] = set()
    result = _inline(graph, called, depth, (graph.id,), inlined)
    return result, sorted(inlined)


def _inline(
    graph: ProcessGraph,
    called: Mapping[str, ProcessGraph],
    depth: int,
    chain: tuple[str, ...],
    inlined: set[str],
) -> ProcessGraph:
    if depth <= 0:
        return graph
    nodes: list[Node] = []
    flows: list[Flow] = list(graph.flows)
    for node in graph.nodes:
        key = node.called_element
        target = called.get(key) if key is not None else None
        if node.category is not NodeCategory.CALL_ACTIVITY or target is None or key in chain:
            nodes.append(node)
            continue
        assert key is not None
        inlined.add(key)
        inner = _inline(target, called, depth - 1, (*chain, key), inlined)
        nodes.append(node.model_copy(update={"category": NodeCategory.SUB_PROCESS}))
        nodes += [_moved_node(n, node.id) for n in inner.nodes]
        flows += [_moved_flow(f, node.id) for f in inner.flows]
    return graph.model_copy(update={"nodes": tuple(nodes), "flows": tuple(flows)})


def _prefixed(prefix: str, element: str) -> str:
    return f"{prefix}{SEPARATOR}{element}"


def _moved_node(node: Node, call: str) -> Node:
    return node.model_copy(
        update={
            "id": _prefixed(call, node.id),
            "parent": call if node.parent is None else _prefixed(call, node.parent),
            "attached_to": None if node.attached_to is None else _prefixed(call, node.attached_to),
            "default_flow": None
            if node.default_flow is None
            else _prefixed(call, node.default_flow),
            "compensation_handler": None
            if node.compensation_handler is None
            else _prefixed(call, node.compensation_handler),
        }
    )


def _moved_flow(flow: Flow, call: str) -> Flow:
    return flow.model_copy(
        update={
            "id": _prefixed(call, flow.id),
            "source": _prefixed(call, flow.source),
            "target": _prefixed(call, flow.target),
        }
    )
