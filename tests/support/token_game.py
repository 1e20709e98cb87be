"""A reference BPMN token game that replays generated scenarios, written from the rules of
docs/semantics.md and not from the generator's code.

`replay(graph, scenario)` says why the scenario is not a valid token game, or None when it is.
The scenario's branch paths are walks; each node on a walk fires once, in the walk's order,
and walks run concurrently: the replay searches for one interleaving in which every firing is
enabled, and after which no token is left. Tokens sit on sequence flows, or wait for a start
event of a scope just entered. The rules:

* the process starts with one token for its start events (one of them fires), or one token for
  each implicit start (every flow node no sequence flow enters, without start events);
* a node fires when its incoming tokens are there: a parallel join one on each incoming flow,
  another join one at least (an inclusive join takes those there), anything else one;
* a firing node sends tokens down the flows it takes: all outgoing flows of a parallel split
  (and of an activity whose outgoing flows carry no condition), else the flows the scenario's
  walks take next from it;
* entering a subprocess gives it one start token (one per implicit start); it completes, and
  sends tokens down its outgoing flows, when no token is left inside it;
* a terminate end event removes every token of its scope (the process, or its subprocess);
  nothing of that scope fires after it.

* a boundary event on a task fires when the task does, instead of its outgoing flows when it
  interrupts, beside them when it does not; on a subprocess it fires while the subprocess
  runs, and an interrupting one ends the subprocess's tokens.

* a thrown error, escalation or cancel goes to its catcher (`catching`); a link throw event
  sends its token to its link catch event (`linking`);
* a cancel leaving its transaction by the cancel boundary event, and a compensation throw
  event, compensate (`compensating`): the compensation boundary event and the handler of each
  compensable activity completed in the scope fire, last completed first, before the game goes
  on (the cancel boundary event, or the throw's outgoing flows).

`skip_reason(graph)` names what keeps the replay from reading a model (a flow crossing a
subprocess's border, a boundary event attached to nothing...), `known_gap(graph)` the models
where the generator's reading is a known gap; None when there is none.
"""

from __future__ import annotations

import itertools
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from orchestra.domain.process import Node, NodeCategory, ProcessGraph
from orchestra.domain.scenario import TestScenario
from tests.support.catching import catchers, caught, thrown_kind
from tests.support.compensating import (
    Compensation,
    compensated,
    handlers,
    is_compensation_boundary,
    started_by_compensation,
    thrown,
)
from tests.support.linking import link_targets

Token = tuple[str, str | None]  # ("flow", id) | ("start", scope-or-node) ...
_SEP = "\x1f"  # between the elements of a history or a compensation's sequence
_THEN = "\x1e"  # between a compensation's sequence and what goes on after it


def skip_reason(graph: ProcessGraph) -> str | None:
    """Why the replay cannot read `graph`, or None when it can."""
    nodes = graph.node_by_id
    for node in graph.nodes:
        if node.category is NodeCategory.BOUNDARY_EVENT and node.attached_to not in nodes:
            return "a boundary event attached to no activity"
        if node.triggered_by_event and not any(
            c.category is NodeCategory.START_EVENT for c in graph.children(node.id)
        ):
            return "an event subprocess without a start event"
    if any(
        nodes[f.source].parent != nodes[f.target].parent
        for f in graph.flows
        if f.source in nodes and f.target in nodes
    ):
        return "a flow crosses a subprocess's border (no BPMN reading; the import warns)"
    return None


def supported(graph: ProcessGraph) -> bool:
    return skip_reason(graph) is None


@dataclass(frozen=True)
class _Firing:
    kind: str  # "node": a node fires; "complete": a subprocess completes
    node: str
    takes: frozenset[str]  # flows the walks take next from it


def replay(
    graph: ProcessGraph,
    scenario: TestScenario,
    *,
    default_alone: bool = True,
    cancels: frozenset[str] = frozenset(),
) -> str | None:
    """Why `scenario` is no valid token game of `graph`, or None. `default_alone=False`
    lets a default flow be taken with others (a suite saying so in `search.defaults`);
    `cancels` are the tasks whose bound action cancels their transaction as they complete."""
    game = _Replay(graph, scenario, cancels)
    game.default_alone = default_alone
    return game.run()


class _Replay:
    def __init__(
        self, graph: ProcessGraph, scenario: TestScenario, cancels: frozenset[str] = frozenset()
    ) -> None:
        self.graph = graph
        self.cancels = cancels
        self.scenario = scenario
        self.catchers = catchers(graph, cancels)
        self.links = link_targets(graph)
        self.compensable = handlers(graph)
        self.handlers = {handler for _, handler in self.compensable.values()}
        self.walks = [self._firings(label) for label in sorted(scenario.branch_paths)]
        self.seen: set[tuple[tuple[int, ...], tuple[tuple[Token, int], ...]]] = set()
        self.reason = "no interleaving of the walks is a token game"
        self.endless = endless(graph)
        self.default_alone = True

    def run(self) -> str | None:
        tokens: Counter[Token] = Counter()
        self._enter(None, tokens)
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 10_000))
        try:
            return None if self._search((0,) * len(self.walks), tokens) else self.reason
        finally:
            sys.setrecursionlimit(limit)

    # the walks as firings

    def _firings(self, label: str) -> list[_Firing]:
        walk = self.scenario.branch_paths[label]
        taken = self._assigned(walk)
        firings: list[_Firing] = []
        for position, element in enumerate(walk):
            flow = self.graph.flow_by_id.get(element)
            if flow is None:
                takes = taken.get(position, set()) | self._forked(label, element)
                firings.append(_Firing("node", element, frozenset(takes)))
                continue
            source = self.graph.node_by_id[flow.source]
            if source.category is not NodeCategory.SUB_PROCESS:
                continue
            if position == 0 and self._sibling(label, source.id) is not None:
                siblings = self._sibling(label, source.id)
                if siblings:  # the first branch of a split at the exit completes it
                    firings.append(_Firing("complete", source.id, siblings))
            elif self._completes(walk, position):
                firings.append(_Firing("complete", source.id, frozenset({flow.id})))
        return firings

    def _sibling(self, label: str, scope: str) -> frozenset[str] | None:
        """For a branch of a split at subprocess `scope`'s exit: the first flows of all its
        branches when it is the first of them, an empty set for the others; None otherwise."""
        parent, _, last = label.rpartition("/")
        if not last.startswith(f"{scope}#"):
            return None
        prefix = f"{parent}/{scope}#"
        siblings = sorted(
            (int(other[len(prefix) :]), path[0])
            for other, path in self.scenario.branch_paths.items()
            if other.startswith(prefix) and other[len(prefix) :].isdigit() and path
        )
        first = siblings[0][0] if siblings else None
        if f"{prefix}{first}" != label:
            return frozenset()
        return frozenset(flow for _, flow in siblings)

    def _completes(self, walk: tuple[str, ...], position: int) -> bool:
        """A flow out of a subprocess on a walk: the subprocess completes before it (once for
        the flows an inclusive or parallel exit takes together)."""
        flow = self.graph.flow_by_id[walk[position]]
        before = walk[position - 1] if position else None
        other = self.graph.flow_by_id.get(before or "")
        return not (other is not None and other.source == flow.source)

    def _assigned(self, walk: tuple[str, ...]) -> dict[int, set[str]]:
        """Which firing on the walk sent each flow of the walk: the earliest firing of its
        source before it that has not sent that flow yet (and, for a firing that takes one
        flow only, has sent none). A token game serialized on one walk lists a flow where its
        token is taken, after other firings."""
        taken: dict[int, set[str]] = {}
        fired: dict[str, list[int]] = {}
        for position, element in enumerate(walk):
            flow = self.graph.flow_by_id.get(element)
            host = self._task_host(element)
            if flow is None and host is None:
                fired.setdefault(element, []).append(position)
                continue
            if host is not None:  # a boundary event its host's firing fires
                fired.setdefault(element, []).append(position)
                source = host
            else:
                assert flow is not None
                source = flow.source
            for firing in fired.get(source, []):
                sent = taken.setdefault(firing, set())
                if element in sent or (sent and not self._takes_many(source)):
                    continue
                if self._fits(sent, element):
                    sent.add(element)
                    break
        return taken

    def _fits(self, sent: set[str], element: str) -> bool:
        """Whether a task's firing that sent `sent` may send `element` too: an interrupting
        boundary event ends it instead of its flows (a task run again in a loop, completed
        once and interrupted once, is two firings)."""
        if self._interrupts(element):
            return all(self._task_host(other) and not self._interrupts(other) for other in sent)
        if self._task_host(element) is None:  # a flow
            return not any(self._interrupts(other) for other in sent)
        return True

    def _interrupts(self, element: str) -> bool:
        """Whether `element` is an interrupting boundary event its host's firing fires."""
        node = self.graph.node_by_id.get(element)
        return node is not None and node.cancel_activity and self._task_host(element) is not None

    def _task_host(self, element: str) -> str | None:
        """The host of a boundary event on anything but a subprocess (which fires it while it
        runs, not when it fires)."""
        node = self.graph.node_by_id.get(element)
        if node is None or node.category is not NodeCategory.BOUNDARY_EVENT:
            return None
        if element in self.catchers or is_compensation_boundary(node):
            return None
        host = self.graph.node_by_id.get(node.attached_to or "")
        if host is None or host.category is NodeCategory.SUB_PROCESS:
            return None
        return host.id

    def _takes_many(self, node_id: str) -> bool:
        node = self.graph.node_by_id[node_id]
        return node.category not in (
            NodeCategory.EXCLUSIVE_GATEWAY,
            NodeCategory.EVENT_BASED_GATEWAY,
        )

    def _forked(self, label: str, node: str) -> set[str]:
        """The first flows of the branches a split at `node` on `label` forks."""
        taken: set[str] = set()
        prefix = f"{label}/{node}#"
        for other, path in self.scenario.branch_paths.items():
            rest = other[len(prefix) :]
            if other.startswith(prefix) and "/" not in rest and path:
                first = path[0]
                if first in self.graph.flow_by_id or self._task_host(first) == node:
                    taken.add(first)
        return taken

    # the search

    def _search(self, positions: tuple[int, ...], tokens: Counter[Token]) -> bool:
        key = (positions, _state(tokens))
        if key in self.seen:
            return False
        self.seen.add(key)
        if all(p == len(w) for p, w in zip(positions, self.walks, strict=True)):
            left = self._ended_left(tokens)
            if left:
                self.reason = f"tokens left at the end: {sorted(left)}"
            return not left
        for index, walk in enumerate(self.walks):
            if positions[index] == len(walk):
                continue
            after = self._fire(walk[positions[index]], tokens)
            if after is None:
                continue
            moved = (*positions[:index], positions[index] + 1, *positions[index + 1 :])
            if self._search(moved, after):
                return True
        return False

    def _ended_left(self, tokens: Counter[Token]) -> Counter[Token]:
        """The tokens left that keep the process from having ended."""
        left = Counter(
            {t: n for t, n in self._ended(tokens).items() if n > 0 and t[0] != "history"}
        )
        for token in list(left):
            flow = self.graph.flow_by_id.get(token[1] or "") if token[0] == "flow" else None
            if flow is not None and flow.target in self.endless:
                del left[token]  # a token that can never end is no scenario's to wait for
        return left

    def _ended(self, tokens: Counter[Token]) -> Counter[Token]:
        """Subprocesses without outgoing flows complete when nothing is left inside them."""
        left = Counter(tokens)
        for (kind, ident), count in tokens.items():
            if kind != "active" or count <= 0 or ident is None:
                continue
            if not self.graph.outgoing.get(ident) and not self._inside(ident, left):
                left[(kind, ident)] = 0
        return left

    def _fire(self, firing: _Firing, tokens: Counter[Token]) -> Counter[Token] | None:
        node = self.graph.node_by_id.get(firing.node)
        if node is None:
            return None
        after = Counter(tokens)
        if firing.kind == "complete":
            return self._complete(node, firing, after)
        if is_compensation_boundary(node) or node.id in self.handlers:
            return self._settled(self._compensating(node, after))
        if node.category is NodeCategory.BOUNDARY_EVENT:
            return self._settled(self._boundary(node, after))
        if node.triggered_by_event:
            return self._settled(self._event_subprocess(node, after))
        if not self._consume(node, after):
            return None
        if node.category is NodeCategory.SUB_PROCESS:
            after[("active", node.id)] += 1
            self._enter(node.id, after)
            return after
        if node.category is NodeCategory.END_EVENT and "terminate" in node.event_definitions:
            self._terminate(node.parent, after)
        if thrown_kind(node, self.cancels) is not None and not self._throw(node, after):
            return self._settled(after)  # interrupted: the thrower's own way on is cut
        boundaries = [self.graph.node_by_id[b] for b in firing.takes if self._task_host(b)]
        for event in boundaries:
            after[("boundary", event.id)] += 1
        if any(event.cancel_activity for event in boundaries):
            return after  # interrupted: none of its own flows is taken
        if node.id in self.links:
            after[("start", self.links[node.id])] += 1
            return self._settled(after)
        produced = self._produced(node, firing)
        if produced is None:
            self.reason = f"{node.id} takes its default flow {node.default_flow} with another"
            return None
        self._completed(node.id, after)
        request = thrown(self.graph, node)
        then = [f"flow:{flow}" for flow in produced]
        if request is None or not self._compensate(request, then, after):
            for flow in produced:
                after[("flow", flow)] += 1
        return self._settled(after)

    # compensation

    def _completed(self, activity: str, tokens: Counter[Token]) -> None:
        """A compensable activity completing joins the history."""
        if activity in self.compensable:
            history = self._history(tokens)
            tokens[("history", _SEP.join(history))] = 0
            tokens[("history", _SEP.join((*history, activity)))] = 1

    def _history(self, tokens: Counter[Token]) -> tuple[str, ...]:
        found = next((k[1] for k, n in tokens.items() if k[0] == "history" and n > 0), None)
        return tuple(found.split(_SEP)) if found else ()

    def _compensate(self, request: Compensation, then: list[str], tokens: Counter[Token]) -> bool:
        """Takes what `request` compensates out of the history; True when something is, and
        what goes on after it (`then`: tokens "flow:ID" or "caught:ID") waits for it."""
        history = self._history(tokens)
        left, fire = compensated(self.graph, history, request)
        if not fire:
            return False
        tokens[("history", _SEP.join(history))] = 0
        tokens[("history", _SEP.join(left))] = 1
        tokens[("compensate", _SEP.join(fire) + _THEN + _SEP.join(then))] += 1
        return True

    def _compensating(self, node: Node, tokens: Counter[Token]) -> Counter[Token] | None:
        """A compensation boundary event or a handler fires when it is the next of a
        compensation under way; the last one lets the game go on."""
        for (kind, ident), count in list(tokens.items()):
            if kind != "compensate" or count <= 0 or ident is None:
                continue
            sequence, _, then = ident.partition(_THEN)
            head, *rest = sequence.split(_SEP)
            if head != node.id:
                continue
            tokens[(kind, ident)] -= 1
            if rest:
                tokens[(kind, _SEP.join(rest) + _THEN + then)] += 1
                return tokens
            for item in filter(None, then.split(_SEP)):
                what, _, element = item.partition(":")
                tokens[(what, element)] += 1
            return tokens
        return None

    def _throw(self, thrower: Node, tokens: Counter[Token]) -> bool:
        """Sends the throw to its catcher; True when the thrower goes on."""
        found = caught(self.graph, thrower, self.cancels)
        if found.catcher is None:
            if found.interrupting:  # an error nothing catches ends the process
                tokens.clear()
            return not found.interrupting
        tokens[("caught", found.catcher)] += 1
        if found.interrupting:
            catcher = self.graph.node_by_id[found.catcher]
            self._terminate(found.scope, tokens)
            if catcher.category is NodeCategory.BOUNDARY_EVENT and found.scope is not None:
                tokens[("active", found.scope)] = max(0, tokens[("active", found.scope)] - 1)
            tokens[("caught", found.catcher)] = 1
            if thrown_kind(thrower, self.cancels) == "cancel":  # its completions first
                then = [f"caught:{found.catcher}"]
                if self._compensate(Compensation(found.scope, None), then, tokens):
                    tokens[("caught", found.catcher)] = 0
        return not found.interrupting

    def _event_subprocess(self, sub: Node, tokens: Counter[Token]) -> Counter[Token] | None:
        """Started by a throw it catches, or by its own event while its scope runs (never
        by compensation: the generator does not play that)."""
        if started_by_compensation(self.graph, sub):
            return None
        if tokens[("caught", sub.id)] > 0:
            tokens[("caught", sub.id)] -= 1
        elif sub.id in self.catchers:
            return None
        else:
            running = +tokens if sub.parent is None else tokens[("active", sub.parent)]
            if not running:
                return None
            starts = [
                c for c in self.graph.children(sub.id) if c.category is NodeCategory.START_EVENT
            ]
            if all(start.is_interrupting for start in starts):
                self._terminate(sub.parent, tokens)
        tokens[("active", sub.id)] += 1
        tokens[("enter", sub.id)] += 1
        return tokens

    def _settled(self, tokens: Counter[Token] | None) -> Counter[Token] | None:
        """Subprocesses without outgoing flows (event subprocesses) complete as soon as
        nothing is left inside them."""
        if tokens is None:
            return None
        for (kind, ident), count in list(tokens.items()):
            if kind != "active" or count <= 0 or ident is None:
                continue
            if not self.graph.outgoing.get(ident) and not self._inside(ident, tokens):
                tokens[(kind, ident)] = 0
        return tokens

    def _boundary(self, event: Node, tokens: Counter[Token]) -> Counter[Token] | None:
        """A boundary event fires when its host does (a task), or while it runs (a
        subprocess: interrupting, the subprocess's tokens end with it)."""
        host = event.attached_to or ""
        if is_compensation_boundary(event):
            return None  # only a compensation fires it
        if "cancel" in event.event_definitions and event.id not in self.catchers:
            return None  # only a cancel of its transaction fires it, and none is thrown
        if event.id in self.catchers:
            if tokens[("caught", event.id)] <= 0:
                return None
            tokens[("caught", event.id)] -= 1
        elif self._task_host(event.id) is not None:
            if tokens[("boundary", event.id)] <= 0:
                return None
            tokens[("boundary", event.id)] -= 1
        else:
            if tokens[("active", host)] <= 0:
                return None
            if event.cancel_activity:
                self._terminate(host, tokens)
                tokens[("active", host)] -= 1
        for flow in self.graph.outgoing.get(event.id, ()):
            tokens[("flow", flow.id)] += 1
        return tokens

    def _consume(self, node: Node, tokens: Counter[Token]) -> bool:
        if node.category is NodeCategory.START_EVENT or self._implicit_start(node, tokens):
            key = ("start", node.id) if tokens[("start", node.id)] else ("enter", node.parent)
            if tokens[key] <= 0:
                return False
            tokens[key] -= 1
            return True
        incoming = [f.id for f in self.graph.incoming.get(node.id, ())]
        present = [f for f in incoming if tokens[("flow", f)] > 0]
        if node.category is NodeCategory.PARALLEL_GATEWAY and len(incoming) > 1:
            needed = incoming
        elif node.category in (NodeCategory.INCLUSIVE_GATEWAY, NodeCategory.COMPLEX_GATEWAY):
            needed = present
        else:
            needed = present[:1]
        if not needed or any(tokens[("flow", f)] <= 0 for f in needed):
            return False
        for flow in needed:
            tokens[("flow", flow)] -= 1
        return True

    def _implicit_start(self, node: Node, tokens: Counter[Token]) -> bool:
        return tokens[("start", node.id)] > 0

    def _produced(self, node: Node, firing: _Firing) -> list[str] | None:
        """The flows a firing node takes; None for a choice BPMN forbids (the default flow
        together with another)."""
        outgoing = self.graph.outgoing.get(node.id, ())
        if node.category is NodeCategory.PARALLEL_GATEWAY:
            return [f.id for f in outgoing]
        if not node.category.is_gateway and all(f.condition is None for f in outgoing):
            return [f.id for f in outgoing]
        flows = firing.takes & {f.id for f in outgoing}
        firing = _Firing(firing.kind, firing.node, frozenset(flows))
        if node.default_flow in firing.takes and len(firing.takes) > 1 and self.default_alone:
            return None
        return sorted(firing.takes)

    def _enter(self, scope: str | None, tokens: Counter[Token]) -> None:
        starts, implicit = self.graph.starts(scope)
        if implicit:
            for start in starts:
                tokens[("start", start.id)] += 1
        elif starts:
            tokens[("enter", scope)] += 1

    def _complete(
        self, node: Node, firing: _Firing, tokens: Counter[Token]
    ) -> Counter[Token] | None:
        if tokens[("active", node.id)] <= 0 or self._inside(node.id, tokens):
            return None
        tokens[("active", node.id)] -= 1
        self._completed(node.id, tokens)
        outgoing = self.graph.outgoing.get(node.id, ())
        unconditioned = all(f.condition is None for f in outgoing)
        for flow in [f.id for f in outgoing] if unconditioned else sorted(firing.takes):
            tokens[("flow", flow)] += 1
        return tokens

    def _inside(self, scope: str, tokens: Counter[Token]) -> bool:
        return any(n > 0 and self._within(token, scope) for token, n in tokens.items())

    def _within(self, token: Token, scope: str | None) -> bool:
        kind, ident = token
        if kind == "flow":
            flow = self.graph.flow_by_id[ident or ""]
            where = self.graph.node_by_id[flow.source].parent
        elif kind in ("start", "boundary", "caught"):
            where = self.graph.node_by_id[ident or ""].parent
        elif kind in ("history", "compensate"):
            where = None  # the process's, whatever the elements they name
        else:  # "enter", "active": the scope itself lies in its parent
            node = self.graph.node_by_id.get(ident or "")
            where = ident if kind == "enter" else (node.parent if node else None)
        while where is not None:
            if where == scope:
                return True
            where = self.graph.node_by_id[where].parent
        return scope is None

    def _terminate(self, scope: str | None, tokens: Counter[Token]) -> None:
        for token in list(tokens):
            if tokens[token] > 0 and self._within(token, scope) and token != ("active", scope):
                tokens[token] = 0


def endless(graph: ProcessGraph) -> set[str]:
    """Nodes from which no sequence flow leads to a node without outgoing flows."""
    ends = {n.id for n in graph.nodes if not graph.outgoing.get(n.id)}
    reach = set(ends)
    changed = True
    while changed:
        changed = False
        for flow in graph.flows:
            if flow.target in reach and flow.source not in reach:
                reach.add(flow.source)
                changed = True
    return {n.id for n in graph.nodes} - reach


def coverable(graph: ProcessGraph, bound: int = 20_000) -> set[str] | None:
    """Every node and flow some complete token game of `graph` goes through, by exhaustive
    search with the same rules as `replay`; None when more than `bound` states exist."""
    return _Explorer(graph, bound).coverable()


State = tuple[tuple[Token, int], ...]


class _Explorer:
    def __init__(self, graph: ProcessGraph, bound: int) -> None:
        self.graph = graph
        self.bound = bound
        empty = TestScenario(name="", position=1, path=(), branch_paths={"": ()})
        self.rules = _Replay(graph, empty)

    def coverable(self) -> set[str] | None:
        start: Counter[Token] = Counter()
        self.rules._enter(None, start)
        initial = _state(start)
        edges: dict[State, list[tuple[State, frozenset[str]]]] = {}
        queue, seen = [initial], {initial}
        while queue:
            state = queue.pop()
            edges[state] = list(self._moves(Counter(dict(state))))
            for after, _ in edges[state]:
                if after not in seen:
                    if len(seen) >= self.bound:
                        return None
                    seen.add(after)
                    queue.append(after)
        ending = self._ending(edges)
        return {
            element
            for state, moves in edges.items()
            for after, covers in moves
            if after in ending
            for element in covers
        }

    def _ending(self, edges: dict[State, list[tuple[State, frozenset[str]]]]) -> set[State]:
        """States from which every token can end."""
        ending = {s for s in edges if not self.rules._ended_left(Counter(dict(s)))}
        changed = True
        while changed:
            changed = False
            for state, moves in edges.items():
                if state not in ending and any(after in ending for after, _ in moves):
                    ending.add(state)
                    changed = True
        return ending

    def _moves(self, tokens: Counter[Token]) -> Iterator[tuple[State, frozenset[str]]]:
        for node in self.graph.nodes:
            for takes in self._choices(node):
                after = self.rules._fire(_Firing("node", node.id, takes), tokens)
                if after is not None:
                    yield (
                        _state(after),
                        frozenset(
                            {node.id, *self._consumed(tokens, after)}
                            | set(takes if node.category is not NodeCategory.SUB_PROCESS else ())
                        ),
                    )
            if node.category is NodeCategory.SUB_PROCESS:
                for takes in self._choices(node):
                    after = self.rules._complete(
                        node, _Firing("complete", node.id, takes), Counter(tokens)
                    )
                    if after is not None:
                        yield _state(after), frozenset(self._sent(node, takes))

    def _sent(self, node: Node, takes: frozenset[str]) -> set[str]:
        outgoing = self.graph.outgoing.get(node.id, ())
        if all(f.condition is None for f in outgoing):
            return {f.id for f in outgoing}
        return set(takes)

    def _consumed(self, before: Counter[Token], after: Counter[Token]) -> set[str]:
        return {
            ident or ""
            for (kind, ident), count in before.items()
            if kind == "flow" and after[(kind, ident)] < count
        }

    def _choices(self, node: Node) -> list[frozenset[str]]:
        normal = self._normal_choices(node)
        events = [
            b for b in self.graph.boundary_events.get(node.id, ()) if self.rules._task_host(b.id)
        ]
        found = list(normal)
        for event in events:
            if event.cancel_activity:
                found.append(frozenset({event.id}))
            else:
                found += [choice | {event.id} for choice in normal]
        return found

    def _normal_choices(self, node: Node) -> list[frozenset[str]]:
        outgoing = [f.id for f in self.graph.outgoing.get(node.id, ())]
        if len(outgoing) < 2:
            return [frozenset(outgoing)]
        if node.category in (NodeCategory.EXCLUSIVE_GATEWAY, NodeCategory.EVENT_BASED_GATEWAY):
            return [frozenset({f}) for f in outgoing]
        return [
            frozenset(combo)
            for size in range(1, len(outgoing) + 1)
            for combo in itertools.combinations(outgoing, size)
        ]


def _state(tokens: Counter[Token]) -> State:
    return tuple(
        sorted(((t, n) for t, n in tokens.items() if n > 0), key=lambda i: (i[0][0], i[0][1] or ""))
    )


def known_gap(graph: ProcessGraph) -> str | None:
    """The known gap between the generator's reading of `graph` and BPMN's, if it has one."""
    if endless(graph):
        return (
            "a token loops forever beside the others: no game ends (the generator drops that "
            "branch)"
        )
    if _multiplies_tokens_in_a_loop(graph):
        return "a split on a loop adds tokens every round: no game ends"
    if _dead_join(graph):
        return (
            "a parallel join waits for a flow no start reaches, or for a loop's way back: it "
            "never fires, and the generator leaves out a parallel branch toward it"
        )
    return None


def unread(graph: ProcessGraph) -> str | None:
    """Why generated scenarios of `graph` are not replayed: what the replay cannot read, or a
    known gap; None when they are."""
    return skip_reason(graph) or known_gap(graph)


def known(graph: ProcessGraph) -> bool:
    """Models both the replay and the generator read the same way."""
    return unread(graph) is None


def _multiplies_tokens_in_a_loop(graph: ProcessGraph) -> bool:
    """A node sending tokens down several flows at once on a cycle: such a model never ends
    (every round adds a token), so no scenario of it is a complete token game."""
    for each in graph.nodes:
        outgoing = graph.outgoing.get(each.id, ())
        splits = each.category is NodeCategory.PARALLEL_GATEWAY or (
            not each.category.is_gateway and len(outgoing) > 1
        )
        if splits and len(outgoing) > 1 and _on_cycle(graph, each.id):
            return True
    return False


def _dead_join(graph: ProcessGraph) -> bool:
    """A parallel join fed by a node no start reaches, or joining a loop's way back: BPMN's
    join waits forever for a token that cannot come first. The generator agrees it never
    fires, but a parallel branch sending a token toward it is left out (a known gap) instead
    of making the whole split deadlock."""
    starts = [n.id for n in graph.starts(None)[0]]
    reached = set(starts)
    stack = list(starts)
    while stack:
        node = stack.pop()
        after = [f.target for f in graph.outgoing.get(node, ())]
        after += [b.id for b in graph.boundary_events.get(node, ())]  # fired while it runs
        for target in after:
            if target not in reached:
                reached.add(target)
                stack.append(target)
    return any(
        node.category is NodeCategory.PARALLEL_GATEWAY
        and (
            any(f.source not in reached for f in graph.incoming.get(node.id, ()))
            or (len(graph.incoming.get(node.id, ())) > 1 and _on_cycle(graph, node.id))
        )
        for node in graph.nodes
        if node.id in reached
    )


def _on_cycle(graph: ProcessGraph, start: str) -> bool:
    """Whether `start` lies on a cycle of flows (and of hosts to their boundary events)."""

    def after(node: str) -> list[str]:
        found = [f.target for f in graph.outgoing.get(node, ())]
        return found + [b.id for b in graph.boundary_events.get(node, ())]

    seen: set[str] = set()
    stack = after(start)
    while stack:
        current = stack.pop()
        if current == start:
            return True
        if current not in seen:
            seen.add(current)
            stack += after(current)
    return False
