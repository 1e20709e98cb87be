"""all-flows and all-nodes: the fewest plans, from a minimum flow in each region.

Inner regions are solved first: a parallel block's demand is the largest of its branches' (an
inclusive block with a default flow: the default branch's plus the largest other), an
attachment's is its branch's (one that always fires, a caught throw, rides along every walk). In
the enclosing region the block's split node must then be walked at least that many times (a node
lower bound), every flow once (all-flows) or every node once (all-nodes). Each back edge gets a
LOOP arc (take it, then the shortest way out) so while-loop bodies can be left; in all-flows a
back edge no path takes is then inserted into the first path through its tail, going around the
loop once. `Expander` spreads the walks of each block over its branches' paths, so every branch
path is used.
"""

from __future__ import annotations

from collections import Counter, deque

from orchestra.domain.generation.criteria import Criterion
from orchestra.domain.generation.flat import EdgeKind, FlatGraph, Gate, Role
from orchestra.domain.generation.minflow import Arc, min_flow_paths
from orchestra.domain.generation.plans import Fork, Hop, Plan
from orchestra.domain.generation.structure import Block, Region


def solve(flat: FlatGraph, region: Region, criterion: Criterion) -> int:
    """Fill `region.paths` (and those of every nested region); returns the region's demand."""
    node_lower: dict[str, int] = {}
    for node in region.members:
        node_lower[node] = max(
            _inner_demand(flat, region, node, criterion), _own(flat, node, criterion)
        )
    hops = _exit_hops(flat, region)
    forced: set[int] = set()  # back edges whose tail no path visits: a path must leave by them
    while True:
        arcs = _arcs(flat, region, criterion, hops, forced)
        raw = min_flow_paths(region.entry, region.exits, arcs, node_lower)
        region.paths = [_unloop(flat, region, path, hops) for path in raw]
        missed = _cover_back_edges(flat, region) if criterion is Criterion.ALL_FLOWS else set()
        if missed <= forced:
            break
        forced |= missed
    if region.back_edges:
        needed = {arc.key for arc in arcs if arc.lower > 0}
        if criterion is Criterion.ALL_FLOWS:
            needed.update(region.back_edges)
        region.paths = _without_redundant(flat, region.paths, needed, node_lower)
    return max(1, len(region.paths))


def _without_redundant(
    flat: FlatGraph, paths: list[list[int]], needed: set[int], node_lower: dict[str, int]
) -> list[list[int]]:
    """Drop paths whose demands the others already meet (a loop's way out may cover them)."""
    edge_uses: Counter[int] = Counter(e for path in paths for e in path)
    node_uses: Counter[str] = Counter(flat.edges[e].target for path in paths for e in path)
    kept: list[list[int]] = []
    for path in reversed(paths):
        mine_e = Counter(e for e in path if e in needed)
        mine_n = Counter(t for t in (flat.edges[e].target for e in path) if node_lower.get(t, 0))
        spare = all(edge_uses[e] - n >= 1 for e, n in mine_e.items()) and all(
            node_uses[t] - n >= node_lower[t] for t, n in mine_n.items()
        )
        if spare:
            edge_uses.subtract(path)
            node_uses.subtract(flat.edges[e].target for e in path)
        else:
            kept.append(path)
    kept.reverse()
    return kept


def _own(flat: FlatGraph, node: str, criterion: Criterion) -> int:
    if criterion is Criterion.ALL_FLOWS:
        return int(flat.flowless(node))
    return int(criterion is Criterion.ALL_NODES and flat.nodes[node].role is Role.ELEMENT)


def _inner_demand(flat: FlatGraph, region: Region, node: str, criterion: Criterion) -> int:
    demand = 0
    block = region.blocks.get(node)
    if block is not None:
        needs = [solve(flat, branch, criterion) for branch in block.branches]
        if block.default is not None:
            rest = [n for i, n in enumerate(needs) if i != block.default]
            demand = needs[block.default] + max(rest, default=0)
        else:
            demand = max(needs)
    for attached in region.attachments.get(node, []):
        demand = max(demand, solve(flat, attached, criterion))
    return demand


def _arcs(
    flat: FlatGraph, region: Region, criterion: Criterion, hops: dict[str, int], forced: set[int]
) -> list[Arc]:
    back = set(region.back_edges)
    first = set(region.first_edges) if flat.nodes[region.entry].role is not Role.SOURCE else set()
    arcs: list[Arc] = []
    for node in [region.entry, *region.members]:
        for e in region.out[node]:
            if e in back:
                continue
            edge = flat.edges[e]
            needed = criterion is Criterion.ALL_FLOWS and edge.kind is EdgeKind.FLOW
            arcs.append(Arc(e, node, edge.target, int(needed or e in first)))
    for e in region.back_edges:
        tail = region.source_of[e]
        way_out = _continuation(flat, region, flat.edges[e].target, hops)
        if way_out is None:
            continue  # a loop with no way out: no finite scenario takes it (left uncovered)
        end = flat.edges[way_out[-1]].target
        loop = flat.add_synthetic(tail, end, EdgeKind.LOOP, e)
        arcs.append(Arc(loop, tail, end, int(e in forced)))
    return arcs


def _exit_hops(flat: FlatGraph, region: Region) -> dict[str, int]:
    """For each node of the region, the first edge of a shortest way to an exit."""
    into: dict[str, list[int]] = {}
    for node in [region.entry, *region.members]:
        for e in region.out[node]:
            into.setdefault(flat.edges[e].target, []).append(e)
    hops: dict[str, int] = {}
    queue = deque(sorted(region.exits))
    while queue:
        node = queue.popleft()
        for e in into.get(node, []):
            source = region.source_of[e]
            if source not in hops and source not in region.exits:
                hops[source] = e
                queue.append(source)
    return hops


def _continuation(
    flat: FlatGraph, region: Region, start: str, hops: dict[str, int]
) -> list[int] | None:
    """The shortest way from `start` out of the region; None when there is none."""
    path: list[int] = []
    node = start
    while node not in region.exits:
        if node not in hops:
            return None
        e = hops[node]
        path.append(e)
        node = flat.edges[e].target
    return path


def _unloop(flat: FlatGraph, region: Region, path: list[int], hops: dict[str, int]) -> list[int]:
    """Replace each LOOP edge by its back edge and the shortest way out after it."""
    result: list[int] = []
    for e in path:
        edge = flat.edges[e]
        if edge.kind is EdgeKind.LOOP and edge.via is not None:
            result.append(edge.via)
            way_out = _continuation(flat, region, flat.edges[edge.via].target, hops)
            assert way_out is not None, "LOOP arcs are only made for loops with a way out"
            result += way_out
        else:
            result.append(e)
    return result


def _cover_back_edges(flat: FlatGraph, region: Region) -> set[int]:
    """Each back edge not yet walked goes around its loop once in the first path through its
    tail; returns the back edges whose tail no path visits."""
    walked = {e for path in region.paths for e in path}
    missed: set[int] = set()
    for back in region.back_edges:
        if back in walked:
            continue
        tail, head = region.source_of[back], flat.edges[back].target
        for path in region.paths:
            at = _position_after(flat, region, path, tail)
            if at is not None:
                around = [back, *_forward_path(flat, region, head, tail)]
                path[at:at] = around
                walked.update(around)
                break
        else:
            missed.add(back)
    return missed


def _position_after(flat: FlatGraph, region: Region, path: list[int], node: str) -> int | None:
    if region.entry == node:
        return 0
    for position, e in enumerate(path):
        if flat.edges[e].target == node:
            return position + 1
    return None


def _forward_path(flat: FlatGraph, region: Region, start: str, goal: str) -> list[int]:
    """A shortest loop-free way from `start` to `goal` inside the region."""
    back = set(region.back_edges)
    parent: dict[str, int] = {}
    queue = deque([start])
    while queue and goal not in parent:
        node = queue.popleft()
        for e in region.out.get(node, []):
            target = flat.edges[e].target
            if e not in back and target not in parent and target != start:
                parent[target] = e
                queue.append(target)
    path: list[int] = []
    node = goal
    while node != start:
        path.append(parent[node])
        node = region.source_of[parent[node]]
    path.reverse()
    return path


class Expander:
    """Turns region paths into plans, spreading the uses of each block over its branch paths."""

    def __init__(self, flat: FlatGraph) -> None:
        self.flat = flat
        self.uses: dict[tuple[int, str], int] = {}

    def plans(self, region: Region) -> list[Plan]:
        return [self.expand(region, path) for path in region.paths]

    def expand(self, region: Region, path: list[int]) -> Plan:
        items: list[Hop | Fork] = []
        for e in path:
            items.append(Hop(e))
            target = self.flat.edges[e].target
            if target in region.attachments:
                fork = self._attach(region, target)
                if fork is not None:
                    items.append(fork)
            block = region.blocks.get(target)
            if block is not None:
                items.append(self._block(block))
        return tuple(items)

    def _use(self, owner: object, node: str) -> int:
        key = (id(owner), node)
        count = self.uses.get(key, 0)
        self.uses[key] = count + 1
        return count

    def _block(self, block: Block) -> Fork:
        use = self._use(block, block.split)
        chosen = list(range(len(block.branches)))
        if block.default is not None:
            alone = len(block.branches[block.default].paths)
            rest = max(
                (len(b.paths) for i, b in enumerate(block.branches) if i != block.default),
                default=0,
            )
            use %= alone + rest
            if use < alone:
                chosen = [block.default]
            else:
                chosen = [i for i in chosen if i != block.default]
                use -= alone
        branches = tuple(
            (block.labels[i], self.expand(block.branches[i], _pick(block.branches[i].paths, use)))
            for i in chosen
        )
        return Fork(
            block.split, branches, block.join, block.barrier, inclusive=block.gate is Gate.OR
        )

    def _attach(self, region: Region, node: str) -> Fork | None:
        """The attachments fired on this walk through `node`: each may-fire one until its
        paths are used up, each always-firing one (a caught throw) every time."""
        use = self._use(region, node)
        branches = tuple(
            (label, self.expand(attached, _pick(attached.paths, use)))
            for label, attached in zip(
                region.attach_labels[node], region.attachments[node], strict=True
            )
            if use < len(attached.paths)
            or (attached.paths and self.flat.fires_always(attached.first_edges[0]))
        )
        return Fork(node, branches, None, None, attached=True) if branches else None


def _pick(paths: list[list[int]], use: int) -> list[int]:
    return paths[use % len(paths)] if paths else []
