"""Each scenario's data from the conditions of the gateway choices it makes.

A scenario's goals: every flow it takes whose condition Orchestra reads must hold; at an
exclusive gateway, the conditioned siblings must not (those before the taken flow in document
order are required, as an engine evaluates them first; the later ones are a preference); at an
inclusive gateway, the conditioned flows it does not take must not hold; a default flow needs
all its siblings false. A gateway a scenario passes more than once with different choices sits
on a loop whose tasks may change the variables: its conditions are left out and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestra.domain.conditions.errors import NotUnderstood
from orchestra.domain.conditions.language import parse_condition
from orchestra.domain.conditions.solver import ConditionSolver, Goal, Infeasible
from orchestra.domain.conditions.tree import Expr, variables
from orchestra.domain.process import Flow, NodeCategory, ProcessGraph
from orchestra.domain.scenario import Decision, PathCondition, TestScenario

_CHOOSING = (
    NodeCategory.EXCLUSIVE_GATEWAY,
    NodeCategory.INCLUSIVE_GATEWAY,
    NodeCategory.COMPLEX_GATEWAY,
)


@dataclass(frozen=True)
class Conflict:
    """A scenario whose path needs conditions that cannot all hold."""

    scenario: str
    conditions: tuple[tuple[str, str], ...]  # (flow id, condition as written, "not ..." negated)

    def describe(self) -> str:
        return " and ".join(f"{text} ({flow})" for flow, text in self.conditions)


@dataclass
class DataReport:
    """What deriving data found: conditions outside the subset, infeasible scenarios (dropped
    under all-paths), gateways left out because they sit on a loop."""

    not_understood: dict[str, str] = field(default_factory=dict)  # flow id -> reason
    infeasible: list[Conflict] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # scenario names
    loops: dict[str, list[str]] = field(default_factory=dict)  # gateway -> its variables

    def to_json(self) -> dict[str, Any]:
        return {
            "not_understood": [
                {"flow": flow, "reason": reason} for flow, reason in self.not_understood.items()
            ],
            "infeasible": [
                {
                    "scenario": c.scenario,
                    "conflicts": [{"flow": f, "condition": t} for f, t in c.conditions],
                    "dropped": c.scenario in self.dropped,
                }
                for c in self.infeasible
            ],
            "loops": [{"gateway": g, "unknown": v} for g, v in self.loops.items()],
        }


class ConditionReader:
    """Parses each flow's condition once."""

    def __init__(self, graph: ProcessGraph, report: DataReport) -> None:
        self.graph = graph
        self.report = report
        self._parsed: dict[str, Expr | None] = {}

    def solver(self) -> ConditionSolver | None:
        """One solver over every condition of the graph Orchestra reads; None without any
        (and then z3 is not imported)."""
        exprs = [self.expr(flow) for flow in self.graph.flows]
        read = [expr for expr in exprs if expr is not None]
        return ConditionSolver(read) if read else None

    def expr(self, flow: Flow) -> Expr | None:
        if flow.id not in self._parsed:
            self._parsed[flow.id] = self._parse(flow)
        return self._parsed[flow.id]

    def _parse(self, flow: Flow) -> Expr | None:
        if flow.condition is None:
            return None
        try:
            return parse_condition(flow.condition.text, flow.condition.language)
        except NotUnderstood as exc:
            self.report.not_understood[flow.id] = str(exc)
            return None


def scenario_goals(scenario: TestScenario, reader: ConditionReader) -> list[Goal]:
    """The goals of the choices a scenario makes at gateways (module docstring); those of a
    gateway it passes with different choices are reported as a loop instead."""
    goals: list[Goal] = []
    choices: dict[str, set[tuple[str, ...]]] = {}
    for decision in scenario.decisions:
        choices.setdefault(decision.gateway, set()).add(decision.flows)
    for gateway, taken in choices.items():
        node = reader.graph.node_by_id.get(gateway)
        if node is None or node.category not in _CHOOSING:
            continue
        if len(taken) > 1:
            _report_loop(gateway, reader)
            continue
        goals += _gateway_goals(gateway, next(iter(taken)), reader)
    return goals


def _gateway_goals(gateway: str, taken: tuple[str, ...], reader: ConditionReader) -> list[Goal]:
    graph = reader.graph
    node = graph.node_by_id[gateway]
    exclusive = node.category is not NodeCategory.INCLUSIVE_GATEWAY
    outgoing = graph.outgoing.get(gateway, ())
    first_taken = min((i for i, f in enumerate(outgoing) if f.id in taken), default=len(outgoing))
    goals = []
    for index, flow in enumerate(outgoing):
        expr = reader.expr(flow)
        if expr is None or flow.condition is None:
            continue
        text, language = flow.condition.text.strip(), flow.condition.language
        if flow.id in taken:
            goals.append(Goal(flow.id, text, expr, gateway=gateway, source=text, language=language))
        else:
            required = not exclusive or node.default_flow in taken or index < first_taken
            negated = f"not {text}"
            goals.append(Goal(flow.id, negated, expr, False, required, gateway, text, language))
    return goals


def _report_loop(gateway: str, reader: ConditionReader) -> None:
    names: dict[str, None] = {}
    for flow in reader.graph.outgoing.get(gateway, ()):
        expr = reader.expr(flow)
        if expr is not None:
            names.update(dict.fromkeys(var.name for var in variables(expr)))
    reader.report.loops[gateway] = list(names)


def with_data(
    scenario: TestScenario, goals: list[Goal], solver: ConditionSolver
) -> TestScenario | Conflict:
    """The scenario with each decision's data, or the conflict that makes its path infeasible."""
    if not goals:
        return scenario
    solved = solver.solve(goals)
    if isinstance(solved, Infeasible):
        return Conflict(scenario.name, tuple((g.flow, g.text) for g in solved.conflicts))
    decisions = tuple(_decision_data(d, goals, solved) for d in scenario.decisions)
    return scenario.model_copy(update={"decisions": decisions})


def _decision_data(decision: Decision, goals: list[Goal], solved: dict[str, Any]) -> Decision:
    """The solved values of the variables its gateway's goals read, and the conditions its
    choice requires."""
    data: dict[str, Any] = {}
    requires = []
    for goal in goals:
        if goal.gateway == decision.gateway:
            for var in variables(goal.expr):
                _copy_path(solved, data, var.path)
            if goal.required:
                requires.append(PathCondition(
                    flow=goal.flow, condition=goal.source, language=goal.language, holds=goal.holds
                ))  # fmt: skip
    if not data and not requires:
        return decision
    return decision.model_copy(update={"data": data, "requires": tuple(requires)})


def _copy_path(source: dict[str, Any], target: dict[str, Any], path: tuple[str, ...]) -> None:
    here: Any = source
    for part in path:
        if not isinstance(here, dict) or part not in here:
            return
        here = here[part]
    into = target
    for part in path[:-1]:
        into = into.setdefault(part, {})
    into[path[-1]] = here
