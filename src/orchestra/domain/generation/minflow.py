"""Minimum flow with lower bounds on a DAG, and its decomposition into paths.

The fewest source-to-sink paths that pass every edge `e` at least `lower[e]` times and every
node `x` at least `node_lower[x]` times is the value of a minimum flow with those lower bounds
(no upper bounds). It is solved exactly as a minimum-cost circulation: substitute
`f = lower + g`, move the lower bounds into node demands, and give only the sink-to-source
return edge a cost, so networkx's network simplex minimizes the number of paths. An integral
optimal flow then splits into exactly that many paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx

_SINK = ("\x00", "sink")
_RETURN = "return"


@dataclass(frozen=True)
class Arc:
    key: int  # caller's edge id
    source: str
    target: str
    lower: int = 0


def min_flow_paths(
    source: str,
    sinks: frozenset[str],
    arcs: Sequence[Arc],
    node_lower: Mapping[str, int],
) -> list[list[int]]:
    """The fewest paths from `source` to any of `sinks` meeting every lower bound.

    Paths are lists of arc keys, chosen deterministically (arcs are tried in the given order).
    Every arc must lie on some source-to-sink path of the DAG the arcs form.
    """
    import networkx as nx  # imported to generate: listing suites needs no graph library

    network = _network(source, sinks, arcs, node_lower)
    _, flow = nx.network_simplex(network)
    amount = {
        arc.key: arc.lower + flow[_out(arc.source, node_lower)][arc.target][arc.key] for arc in arcs
    }
    return _decompose(source, sinks, arcs, amount)


def _out(node: str, node_lower: Mapping[str, int]) -> str | tuple[str, str]:
    return (node, "out") if node_lower.get(node, 0) > 0 else node


def _network(
    source: str, sinks: frozenset[str], arcs: Sequence[Arc], node_lower: Mapping[str, int]
) -> nx.MultiDiGraph[object]:
    import networkx as nx

    network: nx.MultiDiGraph[object] = nx.MultiDiGraph()
    demand: dict[object, int] = {}

    def bound(tail: object, head: object, key: object, lower: int) -> None:
        network.add_edge(tail, head, key=key, weight=0)
        demand[tail] = demand.get(tail, 0) + lower
        demand[head] = demand.get(head, 0) - lower

    for name, lower in node_lower.items():
        if lower > 0:
            bound(name, (name, "out"), "node", lower)
    for arc in arcs:
        bound(_out(arc.source, node_lower), arc.target, arc.key, arc.lower)
    for sink in sorted(sinks):
        bound(_out(sink, node_lower), _SINK, "sink", 0)
    network.add_edge(_SINK, source, key=_RETURN, weight=1)
    for node in network.nodes:
        network.nodes[node]["demand"] = demand.get(node, 0)
    return network


def _decompose(
    source: str, sinks: frozenset[str], arcs: Sequence[Arc], amount: dict[int, int]
) -> list[list[int]]:
    out: dict[str, list[Arc]] = {}
    for arc in arcs:
        out.setdefault(arc.source, []).append(arc)
    cursor: dict[str, int] = {}
    paths: list[list[int]] = []
    while True:
        path: list[int] = []
        node = source
        while node not in sinks:
            step = _next_arc(node, out, cursor, amount)
            if step is None:
                break
            amount[step.key] -= 1
            path.append(step.key)
            node = step.target
        if not path:
            return paths
        paths.append(path)


def _next_arc(
    node: str, out: dict[str, list[Arc]], cursor: dict[str, int], amount: dict[int, int]
) -> Arc | None:
    arcs = out.get(node, [])
    position = cursor.get(node, 0)
    while position < len(arcs) and amount[arcs[position].key] <= 0:
        position += 1
    cursor[node] = position
    return arcs[position] if position < len(arcs) else None
