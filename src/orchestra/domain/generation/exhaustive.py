"""The exhaustive token game: every order of every firing, for what the greedy game missed.

The guided game of `fallback` plays one order of concurrent tokens and one choice at each
split, so it can miss an element that another order reaches (a branch reaching a terminate end
or a boundary event first, a join waiting for the other branch). Before an element is called
uncoverable, this search explores the whole state space of the token game, with the same firing
rules: states are markings (the multiset of edges holding a token), a step fires one enabled
node and sends tokens down one choice of its outgoing edges (each flow of an exclusive split,
every non-empty subset of an inclusive one's, with or without each optional attachment). An
element is coverable when some step covering it leads from the start to a marking from which
every token can still end; the search then gives the plan of one such game.

The search stops after `bound` markings, and does not follow a marking with more than two
tokens on one edge (a loop around a parallel split piles them up without end): what it has not
found then is *not found within the bound*, never proven uncoverable (`Search.complete` says
which).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Protocol

from orchestra.domain.generation.flat import SINK, SOURCE, EdgeKind, FlatGraph, Gate
from orchestra.domain.generation.plans import Hop, Plan, Race

DEFAULT_BOUND = 5_000
_PILE = 2  # tokens one edge may hold before the search stops following that marking
_SUBSETS = 6  # an inclusive split of more flows tries each alone and all together only

Marking = tuple[int, ...]


class Rules(Protocol):
    """The firing rules of the guided game (`fallback._Game`), shared so both agree."""

    flat: FlatGraph
    out: dict[str, list[int]]
    lenient: bool  # a default flow may be taken with other flows

    def _enabled(self, node: str, token: int, tokens: list[int]) -> list[int] | None: ...

    def _after_visit(self, node: str, tokens: list[int]) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class _Step:
    before: Marking | None  # None: the start, before any token
    after: Marking
    hops: tuple[Hop, ...]
    covers: frozenset[str]  # "e:<edge>" and "n:<node>" targets


class Search:
    def __init__(self, rules: Rules, bound: int = DEFAULT_BOUND) -> None:
        self.rules = rules
        self.flat = rules.flat
        self.bound = bound
        self.complete = True
        self.parent: dict[Marking, _Step] = {}
        self.steps: list[_Step] = []
        self._explore()
        self.by_source: dict[Marking, list[_Step]] = {}
        for step in self.steps:
            if step.before is not None:
                self.by_source.setdefault(step.before, []).append(step)
        self.to_end = self._distances_to_end()

    def plans(self, targets: set[str]) -> tuple[list[Plan], set[str]]:
        """Plans covering what of `targets` can be covered, and the targets covered."""
        plans: list[tuple[Plan, set[str]]] = []
        found: set[str] = set()
        for step in self.steps:
            new = (step.covers & targets) - found
            if not new or step.after not in self.to_end:
                continue
            path = [*self._path_to(step.before), step, *self._path_to_end(step.after)]
            covers = {target for s in path for target in s.covers} & targets
            plans.append((tuple(hop for s in path for hop in s.hops), covers))
            found |= covers
        return _without_spares(plans), found

    def _explore(self) -> None:
        queue: deque[Marking] = deque()
        for after in self._emits(SOURCE, []):
            self._record(_Step(None, after, (), frozenset()), queue)
        while queue:
            marking = queue.popleft()
            for step in self._successors(marking):
                self._record(step, queue)

    def _record(self, step: _Step, queue: deque[Marking]) -> None:
        if step.after in self.parent or step.after == step.before:
            self.steps.append(step)
            return
        if len(self.parent) >= self.bound or _piled(step.after):
            self.complete = False  # a loop piling tokens up has no bound of its own
            return
        self.steps.append(step)
        self.parent[step.after] = step
        queue.append(step.after)

    def _successors(self, marking: Marking) -> Iterator[_Step]:
        for token in sorted(set(marking)):
            node = self.flat.edges[token].target
            tokens = list(marking)
            consumed = self.rules._enabled(node, token, tokens)
            if consumed is None:
                continue
            for e in consumed:
                tokens.remove(e)
            cut = self.rules._after_visit(node, tokens)
            hops = [Hop(e, visit=i == len(consumed) - 1) for i, e in enumerate(consumed)]
            if cut:
                hops[-1] = replace(hops[-1], race=Race(winner=node, cut=cut))
            fired = frozenset({f"n:{node}", *(f"e:{e}" for e in consumed)})
            for after in self._emits(node, tokens):
                yield _Step(marking, after, tuple(hops), fired)

    def _emits(self, node: str, tokens: list[int]) -> Iterator[Marking]:
        if node == SINK:
            yield tuple(sorted(tokens))
            return
        for chosen in self._choices(node):
            yield tuple(sorted([*tokens, *chosen]))

    def _choices(self, node: str) -> Iterator[tuple[int, ...]]:
        flat = self.flat
        out = self.rules.out.get(node, [])
        normal = [e for e in out if flat.edges[e].kind is not EdgeKind.ATTACH]
        attach = [e for e in out if flat.edges[e].kind is EdgeKind.ATTACH]
        always = tuple(e for e in attach if flat.fires_always(e))
        optional = [e for e in attach if not flat.fires_always(e)]
        gate = flat.nodes[node].split
        if gate is Gate.AND or not normal:
            mains: list[tuple[int, ...]] = [tuple(normal)]
        elif gate is Gate.OR:
            default = _default_edge(flat, node, normal)
            mains = [
                chosen
                for chosen in _subsets(normal, empty=False)
                if default not in chosen or len(chosen) == 1 or self.rules.lenient
            ]
        else:
            mains = [(e,) for e in normal]
        for main, extra in itertools.product(mains, _subsets(optional, empty=True)):
            yield (*main, *always, *extra)

    def _distances_to_end(self) -> dict[Marking, int]:
        """Markings from which every token can still end -> the fewest steps to that end."""
        into: dict[Marking, list[_Step]] = {}
        for step in self.steps:
            if step.before is not None:
                into.setdefault(step.after, []).append(step)
        done: Marking = ()
        if done not in into and done not in self.parent:
            return {}
        dist = {done: 0}
        queue = deque([done])
        while queue:
            marking = queue.popleft()
            for step in into.get(marking, []):
                assert step.before is not None
                if step.before not in dist:
                    dist[step.before] = dist[marking] + 1
                    queue.append(step.before)
        return dist

    def _path_to(self, marking: Marking | None) -> list[_Step]:
        path: list[_Step] = []
        while marking is not None:
            step = self.parent[marking]
            path.append(step)
            marking = step.before
        path.reverse()
        return path

    def _path_to_end(self, marking: Marking) -> list[_Step]:
        path: list[_Step] = []
        while marking:
            step = min(
                (s for s in self.by_source[marking] if s.after in self.to_end),
                key=lambda s: self.to_end[s.after],
            )
            path.append(step)
            marking = step.after
        return path


def _default_edge(flat: FlatGraph, node: str, edges: list[int]) -> int | None:
    element = flat.graph.node_by_id.get(flat.nodes[node].element or "")
    if element is None or element.default_flow is None:
        return None
    return next((e for e in edges if flat.edges[e].flow_id == element.default_flow), None)


def _without_spares(plans: list[tuple[Plan, set[str]]]) -> list[Plan]:
    """Plans less those whose targets the others cover too, earliest dropped first."""
    kept = list(plans)
    for pair in plans:
        others: set[str] = set().union(*(other[1] for other in kept if other is not pair))
        if pair[1] <= others:
            kept.remove(pair)
    return [plan for plan, _ in kept]


def _piled(marking: Marking) -> bool:
    """More than `_PILE` tokens on one edge."""
    return any(a == b for a, b in zip(marking, marking[_PILE:], strict=False))


def _subsets(edges: list[int], *, empty: bool) -> list[tuple[int, ...]]:
    if len(edges) > _SUBSETS:
        found = [(e,) for e in edges] + [tuple(edges)]
        return [(), *found] if empty else found
    sizes = range(0 if empty else 1, len(edges) + 1)
    return [combo for size in sizes for combo in itertools.combinations(edges, size)]
