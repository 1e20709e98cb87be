"""Block structure of a flat graph: regions, parallel blocks and attachments.

A *region* is a single-entry part of the graph walked by one token: the whole process (entry
SOURCE, exit SINK), one branch of a parallel or inclusive block (entry: the split, exit: its
join), or the branch of a non-interrupting attachment. Inside a region every block is collapsed
into its split node, whose outgoing edges are the join's, so a region is a graph of exclusive
choices only; its back edges (found by a depth-first search from the entry) are its loops.

A split's join is its immediate post-dominator. When the branches of a split end instead of
joining (at the process end, or at a subprocess's exit) the block ends there. Anything else — a
join fed from outside its block, a branch that jumps out, a loop around a split — makes the
graph *unstructured*: `Unstructured` says where, and generation falls back to a heuristic.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from orchestra.domain.generation.flat import (
    SINK,
    SOURCE,
    EdgeKind,
    FlatGraph,
    Gate,
    Role,
    exit_id,
)


class Unstructured(Exception):
    """The graph is not made of nested single-entry single-exit blocks."""

    def __init__(self, element: str | None, reason: str) -> None:
        super().__init__(reason)
        self.element = element
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.element, self.reason))  # `Exception` would give the reason alone


@dataclass
class Block:
    split: str
    gate: Gate
    join: str | None  # flat node where the branches meet; None when they end
    barrier: str | None  # element id of the BARRIER step closing the block
    branches: list[Region]
    labels: list[int]  # branch numbers (position of the split's outgoing flow, from 1)
    default: int | None = None  # index in branches of an inclusive split's default flow
    done_edge: int | None = None  # the synthetic DONE edge of a block whose branches end


@dataclass
class Region:
    entry: str
    first_edges: list[int]
    exits: frozenset[str]
    members: list[str] = field(default_factory=list)
    out: dict[str, list[int]] = field(default_factory=dict)  # collapsed outgoing edges
    source_of: dict[int, str] = field(default_factory=dict)  # edge -> the region node it leaves
    blocks: dict[str, Block] = field(default_factory=dict)
    attachments: dict[str, list[Region]] = field(default_factory=dict)
    attach_labels: dict[str, list[int]] = field(default_factory=dict)
    back_edges: list[int] = field(default_factory=list)
    paths: list[list[int]] = field(default_factory=list)  # filled by the coverage solvers


@dataclass
class Analysis:
    flat: FlatGraph
    kept: set[str]  # flat nodes on some way from SOURCE to SINK
    unreachable: set[str]  # flat nodes no start event reaches
    dead_ends: set[str]  # flat nodes reached, but from which no end event can be reached


def prune(flat: FlatGraph) -> Analysis:
    forward = _reach_forward(flat)
    backward = _reach(flat, SINK, reverse=True, within=forward)
    kept = forward & backward
    unreachable = set(flat.nodes) - forward
    return Analysis(flat, kept, unreachable, forward - backward)


def _reach_forward(flat: FlatGraph) -> set[str]:
    """The nodes a token can reach from SOURCE. A parallel join fires only once a token can
    come down each of its incoming edges: one fed by a node no start reaches, or by its own
    way on (a loop's way back), never fires, and nothing is reached through it."""
    seen = {SOURCE}
    queue = deque([SOURCE])
    arrived: dict[str, set[int]] = {}
    while queue:
        node = queue.popleft()
        for index in flat.out[node]:
            target = flat.edges[index].target
            if target in seen:
                continue
            if waits_for_all(flat, target):
                arrived.setdefault(target, set()).add(index)
                if len(arrived[target]) < len(flat.into[target]):
                    continue
            seen.add(target)
            queue.append(target)
    return seen


def waits_for_all(flat: FlatGraph, node: str) -> bool:
    """A parallel join: it waits for a token on each incoming edge."""
    return flat.nodes[node].join is Gate.AND and len(flat.into[node]) > 1


def _reach(
    flat: FlatGraph, start: str, *, reverse: bool, within: set[str] | None = None
) -> set[str]:
    """What `start` reaches (reaches it, `reverse`), through the nodes of `within` only."""
    seen = {start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for index in flat.into[node] if reverse else flat.out[node]:
            edge = flat.edges[index]
            other = edge.source if reverse else edge.target
            if other not in seen and (within is None or other in within):
                seen.add(other)
                queue.append(other)
    return seen


def analyse(analysis: Analysis) -> Region:
    """The region tree of the kept graph; raises Unstructured."""
    return _Builder(analysis).region(SOURCE, _kept_out(analysis, SOURCE), frozenset({SINK}))


def _kept_out(analysis: Analysis, node: str) -> list[int]:
    flat = analysis.flat
    return [e for e in flat.normal_out(node) if flat.edges[e].target in analysis.kept]


class _Builder:
    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.flat = analysis.flat
        self.ipdom = _post_dominators(analysis)
        self.owner: dict[str, int] = {}
        self.terminals = frozenset(
            {SINK} | {n for n, v in self.flat.nodes.items() if v.role is Role.SCOPE_EXIT}
        )

    def region(self, entry: str, first_edges: list[int], exits: frozenset[str]) -> Region:
        region = Region(entry, first_edges, exits)
        claimed: set[str] = set()
        members = self._members(first_edges, exits)
        for node in members:
            if node in claimed:
                continue
            if self.flat.is_split(node):
                block = self._block(node, exits)
                region.blocks[node] = block
                claimed |= self._interior(block)
        region.members = [m for m in members if m not in claimed]
        for node in region.members:
            self._claim(node, id(region))
            self._check_lone_join(node)
            self._attach(region, node)
        self._collapse(region)
        self._find_back_edges(region)
        return region

    def _members(self, first_edges: list[int], exits: frozenset[str]) -> list[str]:
        flat, kept = self.flat, self.analysis.kept
        order: list[str] = []
        seen: set[str] = set(exits)
        queue = deque(flat.edges[e].target for e in first_edges)
        while queue:
            node = queue.popleft()
            if node in seen:
                continue
            seen.add(node)
            order.append(node)
            for e in flat.normal_out(node):
                target = flat.edges[e].target
                if target in kept and target not in seen:
                    queue.append(target)
        return order

    def _block(self, split: str, exits: frozenset[str]) -> Block:
        flat = self.flat
        join = self.ipdom.get(split)
        gate = flat.nodes[split].split
        element = flat.nodes[split].element
        if join is None:
            raise Unstructured(element, f"split {element} has no way to an end")
        ends = join in self.terminals
        if join in exits and not ends:
            raise Unstructured(element, f"the branches of {element} meet at an enclosing join")
        if not ends and flat.nodes[join].join is not gate:
            joined = flat.nodes[join].element
            raise Unstructured(
                element, f"the branches of {element} meet at {joined}, not a {gate} join"
            )
        outgoing = _kept_out(self.analysis, split)
        branches = [self.region(split, [e], frozenset({join})) for e in outgoing]
        labels = [flat.normal_out(split).index(e) + 1 for e in outgoing]
        barrier = None if join == SINK else flat.nodes[join].element
        block = Block(split, gate, None if ends else join, barrier, branches, labels)
        block.default = self._default_branch(split, outgoing)
        self._check_block(block, join)
        if ends:
            block.join = None
            block.done_edge = flat.add_synthetic(split, join, EdgeKind.DONE)
        return block

    def _default_branch(self, split: str, outgoing: list[int]) -> int | None:
        element = self.flat.nodes[split].element
        node = self.flat.graph.node_by_id.get(element or "")
        if node is None or node.default_flow is None:
            return None
        for position, e in enumerate(outgoing):
            if self.flat.edges[e].flow_id == node.default_flow:
                return position
        return None

    def _interior(self, block: Block) -> set[str]:
        inside: set[str] = set()
        for branch in block.branches:
            inside |= _all_members(branch)
        if block.join is not None:
            inside.add(block.join)
        return inside

    def _check_block(self, block: Block, join: str) -> None:
        inside = self._check_branches(block)
        if join not in self.terminals:
            self._check_join(block, join, inside)

    def _check_branches(self, block: Block) -> set[str]:
        """Branches share no element and are entered only from the split; returns them all."""
        flat, kept = self.flat, self.analysis.kept
        element = flat.nodes[block.split].element
        seen: set[str] = set()
        for branch in block.branches:
            mine = _all_members(branch)
            if mine & seen or block.split in mine:
                raise Unstructured(element, f"the branches of {element} share elements")
            seen |= mine
            for node in branch.members:
                sources = (flat.edges[e].source for e in flat.into[node])
                if any(s not in mine and s != block.split and s in kept for s in sources):
                    inner = flat.nodes[node].element
                    message = f"{inner} is entered from outside the block of {element}"
                    raise Unstructured(inner, message)
        return seen

    def _check_join(self, block: Block, join: str, inside: set[str]) -> None:
        """Only the branches feed the join; a parallel join gets one flow from each branch."""
        flat = self.flat
        element, joined = flat.nodes[block.split].element, flat.nodes[join].element
        sources = [flat.edges[e].source for e in flat.into[join]]
        sources = [s for s in sources if s in self.analysis.kept]
        if any(s not in inside and s != block.split for s in sources):
            message = f"join {joined} is also fed from outside the block of {element}"
            raise Unstructured(element, message)
        if block.gate is Gate.AND and len(sources) != len(block.branches):
            count = len(block.branches)
            message = (
                f"parallel join {joined} has {len(sources)} incoming flows for {count} branches"
            )
            raise Unstructured(element, f"{message} of {element}")

    def _attach(self, region: Region, node: str) -> None:
        flat = self.flat
        attach = [e for e in flat.attach_out(node) if flat.edges[e].target in self.analysis.kept]
        if not attach:
            return
        offset = len(flat.normal_out(node))
        region.attachments[node] = [self.region(node, [e], self._ends(e)) for e in attach]
        region.attach_labels[node] = [offset + flat.attach_out(node).index(e) + 1 for e in attach]

    def _ends(self, attach: int) -> frozenset[str]:
        """Where an attached branch ends: at the exit of a scope enclosing the event it starts
        at, or the process's end; a subprocess (or inlined call) on the way is gone through."""
        flat = self.flat
        target = flat.graph.node_by_id.get(flat.nodes[flat.edges[attach].target].element or "")
        ends = {SINK}
        parent = target.parent if target is not None else None
        while parent is not None and exit_id(parent) not in ends:
            ends.add(exit_id(parent))
            enclosing = flat.graph.node_by_id.get(parent)
            parent = enclosing.parent if enclosing is not None else None
        return frozenset(ends)

    def _check_lone_join(self, node: str) -> None:
        """A parallel join that closes no parallel block waits for tokens exclusive choices
        never send together: only a token game can tell whether it ever fires."""
        flat = self.flat
        if flat.nodes[node].join is not Gate.AND:
            return
        sources = {flat.edges[e].source for e in flat.into[node]}
        if len(sources & self.analysis.kept) > 1:
            element = flat.nodes[node].element
            raise Unstructured(element, f"parallel join {element} closes no parallel split")

    def _claim(self, node: str, owner: int) -> None:
        if self.owner.setdefault(node, owner) != owner:
            element = self.flat.nodes[node].element
            raise Unstructured(element, f"{element} is reached from two different branches")

    def _collapse(self, region: Region) -> None:
        flat = self.flat
        region.out[region.entry] = list(region.first_edges)
        region.source_of.update((e, region.entry) for e in region.first_edges)
        allowed = set(region.members) | region.exits
        for node in region.members:
            block = region.blocks.get(node)
            if block is None:
                edges = _kept_out(self.analysis, node)
            elif block.done_edge is not None:
                edges = [block.done_edge]
            else:
                edges = _kept_out(self.analysis, block.join or node)
            for e in edges:
                if flat.edges[e].target not in allowed:
                    target = flat.nodes[flat.edges[e].target].element
                    raise Unstructured(target, f"{target} is entered from outside its block")
            region.out[node] = edges
            region.source_of.update((e, node) for e in edges)

    def _find_back_edges(self, region: Region) -> None:
        flat = self.flat
        state: dict[str, int] = {region.entry: 1}  # 1 on the stack, 2 done
        stack = [(region.entry, iter(region.out[region.entry]))]
        while stack:
            node, edges = stack[-1]
            e = next(edges, None)
            if e is None:
                state[node] = 2
                stack.pop()
                continue
            target = flat.edges[e].target
            if target in region.exits:
                continue
            if state.get(target) == 1:
                if target == region.entry:
                    element = flat.nodes[target].element
                    raise Unstructured(element, f"a loop goes back to split {element}")
                region.back_edges.append(e)
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(region.out[target])))


def _all_members(region: Region) -> set[str]:
    nodes = set(region.members)
    for block in region.blocks.values():
        for branch in block.branches:
            nodes |= _all_members(branch)
        if block.join is not None:
            nodes.add(block.join)
    for attached in region.attachments.values():
        for branch in attached:
            nodes |= _all_members(branch)
    return nodes


def _post_dominators(analysis: Analysis) -> dict[str, str]:
    import networkx as nx  # imported to generate: listing suites needs no graph library

    flat = analysis.flat
    reverse: nx.DiGraph[str] = nx.DiGraph()
    reverse.add_nodes_from(sorted(analysis.kept))
    for edge in flat.edges:
        if edge.kind in (EdgeKind.ATTACH, EdgeKind.DONE, EdgeKind.LOOP):
            continue
        if edge.source in analysis.kept and edge.target in analysis.kept:
            reverse.add_edge(edge.target, edge.source)
    dominators: dict[str, str] = nx.immediate_dominators(reverse, SINK)
    return dominators
