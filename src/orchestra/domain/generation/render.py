"""Plans into TestScenarios: steps with branch labels and BARRIERs, paths, decisions, names.

The encoding is the one documented in `orchestra.domain.scenario`. Which elements become steps:

* tasks and call activities: an ACTION step marked `meta["unbound"]` until bindings attach a
  spec (its element id says which binding);
* events that wait for or send something (message, signal, timer, conditional, escalation), and
  any node a message flow touches: an ACTION step too, with `meta["messages"]` naming the flows;
* end events: an ASSERTION step with an empty spec, where end-event checks go;
* the join of a parallel or inclusive block: a BARRIER step on the enclosing branch.
"""

from __future__ import annotations

from typing import Any

from orchestra.domain.generation.calls import SEPARATOR
from orchestra.domain.generation.compensation import (
    Request,
    compensable,
    thrown_compensation,
    to_compensate,
)
from orchestra.domain.generation.flat import EdgeKind, FlatGraph, Gate, Role
from orchestra.domain.generation.plans import Fork, Hop, Plan, Race
from orchestra.domain.generation.throws import CANCEL
from orchestra.domain.process import Node, NodeCategory
from orchestra.domain.scenario import Decision, ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind

_NAME_LIMIT = 80


def render(flat: FlatGraph, plans: list[Plan]) -> tuple[TestScenario, ...]:
    width = max(2, len(str(len(plans))))
    return tuple(
        _Writer(flat).scenario(plan, position, width) for position, plan in enumerate(plans, 1)
    )


class _Writer:
    def __init__(self, flat: FlatGraph) -> None:
        self.flat = flat
        self.messages = _messages(flat)
        self.undos = compensable(flat.graph)

    def scenario(self, plan: Plan, position: int, width: int) -> TestScenario:
        self.steps: list[ScenarioStep] = []
        self.path: list[str] = []
        self.branch_paths: dict[str, list[str]] = {"": []}
        self.decisions: list[Decision] = []
        self.ends: list[str] = []
        self.races: dict[str, Race] = {}  # terminate end -> the race it wins
        self.compensated: set[int] = set()  # positions in `path` already compensated
        self.walk(plan, "", None)
        return TestScenario(
            name=f"S{position:0{width}d} {self._summary()}",
            position=position,
            path=tuple(self.path),
            branch_paths={label: tuple(ids) for label, ids in self.branch_paths.items()},
            decisions=tuple(self.decisions),
            steps=tuple(self.steps),
        )

    def walk(self, plan: Plan, label: str, stop_at: str | None) -> None:
        for item in plan:
            if isinstance(item, Hop):
                self.hop(item, label, stop_at)
            else:
                self.fork(item, label)

    def hop(self, hop: Hop, label: str, stop_at: str | None) -> None:
        edge = self.flat.edges[hop.edge]
        if edge.kind is EdgeKind.LOOP:
            return
        source = self.flat.nodes[edge.source]
        choices = self.flat.normal_out(edge.source)
        if source.split is Gate.XOR and len(choices) > 1 and source.element is not None:
            taken = edge.flow_id or self._element_entered(edge.target) or source.element
            condition = edge.flow.condition.text if edge.flow and edge.flow.condition else None
            self.decisions.append(
                Decision(
                    gateway=source.element, flows=(taken,), conditions=(condition,), branch=label
                )
            )
        if edge.flow_id is not None:
            self.record(edge.flow_id, label)
        if hop.race is not None:
            self.races[hop.race.winner] = hop.race
        if hop.visit and edge.target != stop_at:
            self.visit(edge.target, label)

    def visit(self, node_id: str, label: str) -> None:
        node = self.flat.nodes[node_id]
        if node.role is not Role.ELEMENT or node.element is None:
            return
        before = len(self.path)
        self.record(node.element, label)
        element = self.flat.graph.node_by_id[node.element]
        step = self._step(element, label)
        if step is not None:
            self.steps.append(step)
        request = self._compensation(element)
        if request is not None:
            self.compensate(request, before, label)
        if element.category is NodeCategory.END_EVENT and not label:
            self.ends.append(_tidy(element.name) or element.id)

    def _compensation(self, element: Node) -> Request | None:
        """What reaching `element` compensates: a cancel leaving through a cancel boundary
        event its transaction, a compensation throw event its scope or activity."""
        catch = self.flat.catches.get(element.id)
        if catch is not None and catch.kind == CANCEL:
            return Request(catch.scope) if catch.catcher is not None else None
        return thrown_compensation(self.flat.graph, element)

    def compensate(self, request: Request, before: int, label: str) -> None:
        """The handlers of what `request` compensates among the first `before` elements of
        the path, last completed first: the compensation boundary event, then its handler."""
        graph = self.flat.graph
        completed = self.path[:before]
        for position, undo in to_compensate(
            graph, self.undos, completed, request, self.compensated
        ):
            self.compensated.add(position)
            self.record(undo.event, label)
            self.record(undo.handler, label)
            handler = graph.node_by_id[undo.handler]
            step = self._step(handler, label)
            if step is not None:
                meta = {**step.meta, "compensates": undo.activity}
                self.steps.append(step.model_copy(update={"meta": meta}))

    def fork(self, fork: Fork, label: str) -> None:
        if not fork.branches:
            return  # every branch beside the main line was left out (`terminate.settle`)
        element = self._fork_label(fork.node)
        labels: list[str] = []
        firsts: list[str] = []
        before = len(self.steps)
        if fork.race is not None:
            self.races[fork.race.winner] = fork.race
        for number, plan in fork.branches:
            branch = f"{label}/{element}#{number}"
            labels.append(branch)
            self.branch_paths.setdefault(branch, [])
            first = self.flat.edges[plan[0].edge] if plan and isinstance(plan[0], Hop) else None
            if first is not None:
                firsts.append(
                    first.flow_id or self.flat.nodes[first.target].element or first.target
                )
            self.walk(plan, branch, fork.join)
        if fork.inclusive or fork.attached:
            self.decisions.append(
                Decision(
                    gateway=element,
                    flows=tuple(firsts),
                    conditions=tuple(self._condition(f) for f in firsts),
                    branch=label,
                )
            )
        if fork.barrier is not None and len(self.steps) > before:  # nothing to wait for otherwise
            self.steps.append(
                ScenarioStep(
                    position=len(self.steps) + 1,
                    kind=StepKind.BARRIER,
                    element_id=fork.barrier,
                    name=self._name(fork.barrier),
                    branch=label,
                    spec={"gateway": fork.barrier, "branches": labels},
                )
            )
        if fork.join is not None:
            self.visit(fork.join, label)

    def record(self, element_id: str, label: str) -> None:
        self.path.append(element_id)
        self.branch_paths.setdefault(label, []).append(element_id)

    def _step(self, node: Node, label: str) -> ScenarioStep | None:
        meta: dict[str, Any] = {}
        if node.id in self.messages:
            meta["messages"] = self.messages[node.id]
        if node.category is NodeCategory.END_EVENT:
            kind, meta = StepKind.ASSERTION, {**meta, "endEvent": True}
            if node.id in self.races:
                meta["race"] = self._race(node, self.races[node.id], label)
        elif self.flat.graph.acts(node):
            kind = StepKind.ACTION
        else:
            return None
        if kind is StepKind.ACTION:
            meta = {"unbound": True, "type": node.type, **meta}
            catch = self.flat.catches.get(node.id)
            if catch is not None and catch.kind == CANCEL:  # its bound action cancels
                meta["cancels"] = catch.scope
            if node.event_definitions:
                meta["events"] = list(node.event_definitions)
            if node.called_element is not None:
                meta["calledElement"] = node.called_element
            if node.loop is not None:
                meta["loop"] = node.loop.value
        if SEPARATOR in node.id:  # inlined from a called process
            meta["calledFrom"], meta["calledElementId"] = node.id.rsplit(SEPARATOR, 1)
        return ScenarioStep(
            position=len(self.steps) + 1,
            kind=kind,
            element_id=node.id,
            name=_tidy(node.name) or node.id,
            branch=label,
            meta=meta,
        )

    def _race(self, node: Node, race: Race, label: str) -> dict[str, Any]:
        scope = "the process" if node.parent is None else f"subprocess {node.parent}"
        if race.rivals:
            rivals = ", ".join(race.rivals)
            note = (
                f"a race: {node.id} ends {scope} before {rivals} can; which terminate end is "
                "reached first is the SUT's to decide, the losing branches' steps are not expected"
            )
        elif race.cut:
            note = (
                f"a race: {node.id} ends {scope} while tokens still wait at "
                f"{', '.join(race.cut)}; how far they get first is the SUT's to decide"
            )
        else:
            note = f"a race: {node.id} ends {scope}, here after the other branches have ended"
        if race.waits:
            note += "; the branches that end normally end first (the BARRIER before it)"
        return {
            "winner": node.id,
            "rivals": list(race.rivals),
            "scope": node.parent,
            "afterBranches": race.waits,
            "cut": list(race.cut),
            "note": note,
        }

    def _fork_label(self, node_id: str) -> str:
        """The element a fork's branch labels name; a scope's implicit start is `<scope>:start`
        (a colon never occurs in a BPMN id)."""
        node = self.flat.nodes[node_id]
        if node.role is Role.SCOPE_START:
            return f"{node.element or self.flat.graph.id}:start"
        return node.element or node_id

    def _element_entered(self, node_id: str) -> str | None:
        """The BPMN element a flat node stands for; None for SINK and a scope's exit, where an
        activity without outgoing flow ends (the choice is then that activity completing)."""
        node = self.flat.nodes[node_id]
        return node.element if node.role is Role.ELEMENT else None

    def _name(self, element_id: str) -> str:
        node = self.flat.graph.node_by_id.get(element_id)
        return _tidy(node.name if node is not None else None) or element_id

    def _condition(self, flow_id: str) -> str | None:
        flow = self.flat.graph.flow_by_id.get(flow_id)
        return flow.condition.text if flow is not None and flow.condition is not None else None

    def _summary(self) -> str:
        parts = [" + ".join(self._label(f) for f in d.flows) for d in self.decisions]
        if not parts:
            starts = [self._name(i) for i in self.branch_paths[""][:1]]
            parts = starts
        parts += [end for end in self.ends[-1:] if not parts or parts[-1] != end]
        text = " → ".join(parts) or "path"
        for winner in self.races:
            name = self._name(winner)
            text += " (race)" if parts and parts[-1] == name else f" → race won by {name}"
        return text if len(text) <= _NAME_LIMIT else text[: _NAME_LIMIT - 1] + "…"

    def _label(self, element_id: str) -> str:
        flow = self.flat.graph.flow_by_id.get(element_id)
        if flow is None:
            return self._name(element_id)
        if flow.name:
            return _tidy(flow.name)
        if flow.condition is not None and flow.condition.text.strip():
            return _tidy(flow.condition.text)
        return self._name(flow.target)


def _tidy(text: str | None) -> str:
    """Names drawn on a diagram often hold line breaks: one line, single spaces."""
    return " ".join(text.split()) if text else ""


def _messages(flat: FlatGraph) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for message in flat.graph.message_flows:
        found.setdefault(message.source, []).append(
            {"flow": message.id, "direction": "send", "peer": message.target}
        )
        found.setdefault(message.target, []).append(
            {"flow": message.id, "direction": "receive", "peer": message.source}
        )
    return found
