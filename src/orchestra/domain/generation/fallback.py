"""The heuristic for graphs that are not block-structured: a greedy, guided token game.

Each scenario plays the BPMN token game from SOURCE: parallel splits send a token down every
flow, a parallel join waits for one on each incoming flow, an inclusive join waits until no
other token can still reach it, a terminate end event removes every token, and an interrupting
throw (see `throws`) the tokens of the scope it leaves (an uncaught error: every token). At each
exclusive choice the token goes toward the nearest element still uncovered (then toward the
end), each back edge at most once per scenario. A game that deadlocks is played again with the
guide steering clear of the flows where its tokens waited (an inclusive split leaves out the
branches that cannot end without them); once that finds nothing new it is
dropped and what only it covered is reported uncovered. Games are played until nothing uncovered
is reachable, so the coverage is complete up to deadlocks, but the count is not guaranteed
minimal, and the steps of concurrent tokens are serialized on the main line (a valid
interleaving) instead of branch labels.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from orchestra.domain.generation.criteria import Criterion
from orchestra.domain.generation.exhaustive import DEFAULT_BOUND, Search
from orchestra.domain.generation.flat import SINK, SOURCE, EdgeKind, FlatGraph, Gate, Role
from orchestra.domain.generation.plans import Hop, Plan, Race
from orchestra.domain.generation.structure import Analysis
from orchestra.domain.generation.terminate import terminate_scope
from orchestra.domain.generation.throws import inside
from orchestra.errors import BpmnRefused

_FAR = 1 << 30
_SYNTHETIC = (EdgeKind.DONE, EdgeKind.LOOP)


def token_game_plans(
    analysis: Analysis, criterion: Criterion, bound: int = DEFAULT_BOUND
) -> tuple[list[Plan], dict[str, Any]]:
    """The plans, and what the exhaustive search for what they miss did (`search`: its
    bound, the token-game states it explored, whether it explored them all).
    Raises BpmnRefused when every token game deadlocks.

    A default flow is taken alone. When every game doing so deadlocks (a model whose join
    waits for the default flow beside the others), the games are played again taking it with
    the others, and `search["defaults"]` says so."""
    try:
        return _play_all(analysis, criterion, bound, lenient=False)
    except BpmnRefused:
        plans, search = _play_all(analysis, criterion, bound, lenient=True)
        search["defaults"] = (
            "taken together with other flows: every token game taking a default flow alone "
            "deadlocks at a join waiting for it"
        )
        return plans, search


def _play_all(
    analysis: Analysis, criterion: Criterion, bound: int, *, lenient: bool
) -> tuple[list[Plan], dict[str, Any]]:
    game = _Game(analysis, criterion)
    game.lenient = lenient
    wanted = set(game.targets)
    plans: list[Plan] = []
    while len(plans) <= len(game.edges) + 1:
        plan = game.play()
        if plan is None:
            break
        plans.append(plan)
    missed = wanted - _covered(analysis.flat, plans)
    search: dict[str, Any] = {"bound": bound, "states": 0, "complete": True}
    if missed:
        exhaustive = Search(game, bound)
        found, _ = exhaustive.plans(missed)
        plans += found
        search.update(states=len(exhaustive.parent), complete=exhaustive.complete)
    if not plans:
        graph = analysis.flat.graph
        waiting = ", ".join(sorted(game.stuck)) or "no end event"
        raise BpmnRefused(
            f"process {graph.id}: every token game deadlocks (tokens wait at {waiting}): "
            "no scenario can reach an end event",
            details={"process": graph.id, "waiting_at": sorted(game.stuck)},
        )
    return plans, search


def _covered(flat: FlatGraph, plans: list[Plan]) -> set[str]:
    covered: set[str] = set()
    for plan in plans:
        for hop in plan:
            if isinstance(hop, Hop):
                covered.add(f"e:{hop.edge}")
                if hop.visit:
                    covered.add(f"n:{flat.edges[hop.edge].target}")
    return covered


class _Game:
    def __init__(self, analysis: Analysis, criterion: Criterion) -> None:
        flat = analysis.flat
        self.flat = flat
        kept = analysis.kept
        self.edges = [
            e.index
            for e in flat.edges
            if e.kind not in _SYNTHETIC and e.source in kept and e.target in kept
        ]
        self.out: dict[str, list[int]] = {n: [] for n in kept}
        self.into: dict[str, list[int]] = {n: [] for n in kept}
        for e in self.edges:
            self.out[flat.edges[e].source].append(e)
            self.into[flat.edges[e].target].append(e)
        if criterion is Criterion.ALL_NODES:
            self.targets = {f"n:{n}" for n in kept if flat.nodes[n].role is Role.ELEMENT}
        else:  # every flow, and the nodes no flow brings along
            self.targets = {f"e:{e}" for e in self.edges if flat.edges[e].kind is EdgeKind.FLOW}
            self.targets |= {f"n:{n}" for n in kept if flat.flowless(n)}
        self.back = _back_edges(self.out, flat)
        self.generous = False  # take every inclusive branch and fire every attachment
        self.lenient = False  # take a default flow together with other flows
        self.stuck: set[str] = set()  # elements where the last deadlocked game's tokens wait
        self.blocked: set[int] = set()  # the edges they wait on
        self.avoid: set[int] = set()  # edges the guide takes only when there is no other
        self.to_sink = self._distances(lambda e: flat.edges[e].target == SINK)
        self.clear = self.to_sink  # the same, not through `avoid`

    def _distances(
        self, goal: Callable[[int], bool], skip: frozenset[int] = frozenset()
    ) -> dict[str, int]:
        """Fewest edges from each node to an edge satisfying `goal`, not through `skip`."""
        dist: dict[str, int] = {}
        queue: deque[str] = deque()
        for e in self.edges:
            source = self.flat.edges[e].source
            if goal(e) and e not in skip and source not in dist:
                dist[source] = 0
                queue.append(source)
        while queue:
            node = queue.popleft()
            for e in self.into[node]:
                source = self.flat.edges[e].source
                if source not in dist and e not in skip:
                    dist[source] = dist[node] + 1
                    queue.append(source)
        return dist

    def _is_target(self, e: int) -> bool:
        return f"e:{e}" in self.targets or f"n:{self.flat.edges[e].target}" in self.targets

    def play(self) -> Plan | None:
        """The next scenario that covers something new, or None when nothing more can be."""
        while True:
            self.to_target = self._distances(self._is_target)
            if SOURCE not in self.to_target:
                return None
            self.clear = self._distances(
                lambda e: self.flat.edges[e].target == SINK, frozenset(self.avoid)
            )
            plan, covered, finished = self._one_game(generous=False)
            if not finished:  # perhaps a join waits for a branch the guide left out
                plan, covered, finished = self._one_game(generous=True)
            new = covered & self.targets
            if finished and new:
                self.targets -= covered
                self.avoid.clear()
                return plan
            if not new:
                return None
            fresh = self.blocked - self.avoid
            if fresh:  # play again, steering clear of the flows where tokens waited
                self.avoid |= fresh
                continue
            self.targets -= covered  # a deadlocking game gives up on what it reached

    def _one_game(self, *, generous: bool) -> tuple[Plan, set[str], bool]:
        self.generous = generous
        covered: set[str] = set()
        plan: list[Hop] = []
        tokens: list[int] = []
        taken_back: set[int] = set()
        self._emit(SOURCE, tokens, taken_back, covered)
        for _ in range(20 * len(self.edges) + 20):
            if not self._fire_one(tokens, plan, taken_back, covered):
                break
        if tokens:
            nodes = [self.flat.edges[e].target for e in tokens]
            self.stuck = {self.flat.nodes[n].element or n for n in nodes}
            self.blocked = set(tokens)
        return tuple(plan), covered, not tokens

    def _fire_one(
        self, tokens: list[int], plan: list[Hop], taken_back: set[int], covered: set[str]
    ) -> bool:
        for token in tokens:
            node = self.flat.edges[token].target
            consumed = self._enabled(node, token, tokens)
            if consumed is None:
                continue
            for position, e in enumerate(consumed):
                tokens.remove(e)
                plan.append(Hop(e, visit=position == len(consumed) - 1))
                covered.add(f"e:{e}")
            covered.add(f"n:{node}")
            cut = self._after_visit(node, tokens)
            if cut:
                plan[-1] = replace(plan[-1], race=Race(winner=node, cut=cut))
            self._emit(node, tokens, taken_back, covered)
            return True
        return False

    def _enabled(self, node: str, token: int, tokens: list[int]) -> list[int] | None:
        if self.flat.nodes[node].role is Role.SCOPE_EXIT:
            return self._completed(node, tokens)
        gate = self.flat.nodes[node].join
        if gate is Gate.AND and len(self.into[node]) > 1:
            needed = self.into[node]
            return list(needed) if all(e in tokens for e in needed) else None
        if gate is Gate.OR and len(self.into[node]) > 1:
            waiting = [e for e in self.into[node] if e in tokens]
            others = [e for e in tokens if e not in waiting]
            if any(self._reaches(self.flat.edges[e].target, node) for e in others):
                return None
            return sorted(set(waiting), key=self.into[node].index)
        return [token]

    def _completed(self, exit_node: str, tokens: list[int]) -> list[int] | None:
        """A subprocess completes once, when no token is left inside it but those at its
        exit: it takes them all."""
        scope = self.flat.nodes[exit_node].element
        here = [e for e in tokens if self.flat.edges[e].target == exit_node]
        if any(self._inside(e, scope) for e in tokens if e not in here):
            return None
        return sorted(here, key=self.into[exit_node].index)

    def _reaches(self, start: str, goal: str) -> bool:
        seen = {start}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node == goal:
                return True
            for e in self.out[node]:
                target = self.flat.edges[e].target
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
        return False

    def _after_visit(self, node: str, tokens: list[int]) -> tuple[str, ...]:
        """Ends the tokens a terminate end or an interrupting throw ends; returns where those
        a terminate end ends were waiting (a race: the SUT decides how far they got)."""
        is_terminate, scope = terminate_scope(self.flat, node)
        if is_terminate:
            ended = [e for e in tokens if self._inside(e, scope)]
            tokens[:] = [e for e in tokens if e not in ended]
            waiting = (self.flat.nodes[self.flat.edges[e].target] for e in ended)
            # a token on its way to the end has ended already: nothing of it is cut
            return tuple(sorted({n.element or n.id for n in waiting if n.id != SINK}))
        catch = self.flat.catches.get(node)
        if catch is not None and catch.interrupting:
            tokens[:] = [e for e in tokens if not self._inside(e, catch.scope)]
        return ()

    def _inside(self, token: int, scope: str | None) -> bool:
        """True when the token waits at a node of `scope` (its exit included)."""
        target = self.flat.nodes[self.flat.edges[token].target]
        if target.element is None:
            return scope is None
        if target.role is Role.SCOPE_EXIT and target.element == scope:
            return True
        return inside(self.flat.graph, target.element, scope)

    def _emit(self, node: str, tokens: list[int], taken_back: set[int], covered: set[str]) -> None:
        if node == SINK:
            return
        ways = [e for e in self.out[node] if self.flat.edges[e].kind is not EdgeKind.ATTACH]
        # a back edge is taken once a game, unless it is the only way on: a token never vanishes
        normal = [e for e in ways if self._allowed(e, taken_back)] or ways
        gate = self.flat.nodes[node].split
        if gate is Gate.AND:
            chosen = list(normal)
        elif gate is Gate.OR:
            chosen = self._clear(self._useful(normal)) or self._best(normal)
            default = default_edge(self.flat, node, normal)
            if default in chosen and len(chosen) > 1 and not self.lenient:  # only alone
                chosen.remove(default)
        else:
            chosen = self._best(normal)
        attach = [e for e in self.out[node] if self.flat.edges[e].kind is EdgeKind.ATTACH]
        fired = [e for e in attach if self.flat.fires_always(e)]
        fired += self._useful([e for e in attach if not self.flat.fires_always(e)])
        # what runs beside the node fires while it runs: before it completes or is interrupted
        chosen = fired + chosen
        for e in chosen:
            if e in self.back:
                taken_back.add(e)
            tokens.append(e)

    def _useful(self, edges: list[int]) -> list[int]:
        """Optional edges worth taking: all when generous, else those toward something new."""
        if self.generous:
            return list(edges)
        return [
            e
            for e in edges
            if self._is_target(e) or self.to_target.get(self.flat.edges[e].target, _FAR) < _FAR
        ]

    def _clear(self, edges: list[int]) -> list[int]:
        """Replaying a deadlocked game, an inclusive split leaves out the branches that cannot
        end without the flows its tokens waited on (if it keeps any)."""
        if not self.avoid:
            return edges
        clear = [
            e
            for e in edges
            if e not in self.avoid
            and (self.flat.edges[e].target == SINK or self.flat.edges[e].target in self.clear)
        ]
        return clear or edges

    def _allowed(self, e: int, taken_back: set[int]) -> bool:
        return e not in self.back or e not in taken_back

    def _best(self, edges: Iterable[int]) -> list[int]:
        def cost(e: int) -> tuple[bool, int, int, int]:
            target = self.flat.edges[e].target
            near = 0 if self._is_target(e) else 1 + self.to_target.get(target, _FAR)
            sink = self.to_sink.get(target, 0 if target == SINK else _FAR)
            return (e in self.avoid, min(near, _FAR), sink, e)

        ranked = sorted(edges, key=cost)
        return ranked[:1]


def default_edge(flat: FlatGraph, node: str, edges: list[int]) -> int | None:
    """The edge of `edges` that is the default flow of the element `node` stands for."""
    element = flat.graph.node_by_id.get(flat.nodes[node].element or "")
    if element is None or element.default_flow is None:
        return None
    return next((e for e in edges if flat.edges[e].flow_id == element.default_flow), None)


def _back_edges(out: dict[str, list[int]], flat: FlatGraph) -> set[int]:
    back: set[int] = set()
    state = {SOURCE: 1}
    stack = [(SOURCE, iter(out.get(SOURCE, [])))]
    while stack:
        node, edges = stack[-1]
        e = next(edges, None)
        if e is None:
            state[node] = 2
            stack.pop()
            continue
        target = flat.edges[e].target
        if state.get(target) == 1:
            back.add(e)
        elif target not in state:
            state[target] = 1
            stack.append((target, iter(out.get(target, []))))
    return back
