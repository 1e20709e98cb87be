"""A generated suite with each scenario's data from its gateway conditions.

Under all-paths an infeasible scenario is dropped. Under all-flows and all-nodes the suite is
planned around infeasible combinations: each infeasible scenario is replaced by feasible paths
(taken from the all-paths enumeration, in its order) that cover what only it covered; an
element that no feasible path reaches is a dead branch of the model, reported uncovered with
the reason `infeasible: ... cannot all hold`. Without the enumeration (too many paths, a model
that is not block-structured) the infeasible scenario is kept without data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from orchestra.domain.conditions.boundaries import boundary_variants
from orchestra.domain.conditions.scenarios import (
    ConditionReader,
    Conflict,
    DataReport,
    scenario_goals,
    with_data,
)
from orchestra.domain.conditions.solver import ConditionSolver
from orchestra.domain.process import ProcessGraph
from orchestra.domain.scenario import Coverage, GeneratedSuite, TestScenario

# the all-paths scenarios of the same graph, or None when they cannot be enumerated
Alternatives = Callable[[], Sequence[TestScenario] | None]


def derive_data(
    suite: GeneratedSuite,
    graph: ProcessGraph,
    working: ProcessGraph,
    alternatives: Alternatives | None = None,
    *,
    boundary: bool = False,
) -> tuple[GeneratedSuite, DataReport]:
    """`working` is the graph the suite was generated from (its calls inlined), `graph` the
    process itself, whose elements coverage counts; `alternatives` gives the candidate paths
    that all-flows and all-nodes plan around infeasible scenarios with (module docstring).
    With `boundary`, each scenario is followed by its boundary variants (`boundaries`)."""
    report = DataReport()
    reader = ConditionReader(working, report)
    solver = reader.solver()
    if solver is None:
        return suite, report
    solved, report = _derive(suite, graph, reader, solver, alternatives)
    if not boundary:
        return solved, report
    return _with_boundaries(solved, reader, solver), report


def _with_boundaries(
    suite: GeneratedSuite, reader: ConditionReader, solver: ConditionSolver
) -> GeneratedSuite:
    scenarios: list[TestScenario] = []
    for scenario in suite.scenarios:
        scenarios.append(scenario)
        if scenario.data:  # solved: an infeasible one kept without data has no sides
            scenarios += boundary_variants(scenario, scenario_goals(scenario, reader), solver)
    if len(scenarios) == len(suite.scenarios):
        return suite
    first = suite.scenarios[0].position
    renumbered = tuple(_renumbered(s, first + i) for i, s in enumerate(scenarios))
    return suite.model_copy(update={"scenarios": renumbered})


def _derive(
    suite: GeneratedSuite,
    graph: ProcessGraph,
    reader: ConditionReader,
    solver: ConditionSolver,
    alternatives: Alternatives | None,
) -> tuple[GeneratedSuite, DataReport]:
    report = reader.report
    kept: list[TestScenario] = []
    dead: list[tuple[TestScenario, Conflict]] = []
    for scenario in suite.scenarios:
        result = with_data(scenario, scenario_goals(scenario, reader), solver)
        if isinstance(result, TestScenario):
            kept.append(result)
        else:
            report.infeasible.append(result)
            dead.append((scenario, result))
    if not dead:
        return suite.model_copy(update={"scenarios": tuple(kept)}), report
    if suite.criterion == "all-paths":
        if not kept:  # nothing at all can run: keep the first, to be reported
            kept.append(dead.pop(0)[0])
        return _without(suite, graph, kept, dead, report)
    found = alternatives() if alternatives is not None else None
    if found is None:  # kept as generated, the infeasible ones without data
        solved = {scenario.name: scenario for scenario in kept}
        every = tuple(solved.get(s.name, s) for s in suite.scenarios)
        return suite.model_copy(update={"scenarios": every}), report
    added, more_dead = _plan_around(suite, graph, kept, dead, found, reader, solver)
    wanted = _wanted(suite, graph)
    return _without(suite, graph, _needed(kept + added, wanted), dead + more_dead, report)


def _wanted(suite: GeneratedSuite, graph: ProcessGraph) -> set[str]:
    """The elements the criterion asks to cover."""
    if suite.criterion == "all-flows":
        return set(graph.flow_by_id)
    return set(graph.node_by_id)


def _needed(scenarios: list[TestScenario], wanted: set[str]) -> list[TestScenario]:
    """The scenarios less those whose wanted elements the others all cover (a replacement
    may cover what a scenario kept was planned for)."""
    counts: dict[str, int] = {}
    for scenario in scenarios:
        for element in wanted.intersection(scenario.path):
            counts[element] = counts.get(element, 0) + 1
    kept = []
    for scenario in scenarios:
        mine = wanted.intersection(scenario.path)
        if mine and all(counts[element] > 1 for element in mine):
            for element in mine:
                counts[element] -= 1
        else:
            kept.append(scenario)
    return kept


def _plan_around(
    suite: GeneratedSuite,
    graph: ProcessGraph,
    kept: list[TestScenario],
    dead: list[tuple[TestScenario, Conflict]],
    candidates: Sequence[TestScenario],
    reader: ConditionReader,
    solver: ConditionSolver,
) -> tuple[list[TestScenario], list[tuple[TestScenario, Conflict]]]:
    """Feasible candidates covering what the dead scenarios alone covered, and the candidates
    found infeasible on the way (their conflicts explain the dead branches)."""
    wanted = _wanted(suite, graph)
    seen = {element for scenario in kept for element in scenario.path}
    needed = {e for scenario, _ in dead for e in scenario.path if e in wanted and e not in seen}
    added: list[TestScenario] = []
    more_dead: list[tuple[TestScenario, Conflict]] = []
    scratch = DataReport()  # a candidate's loops and conflicts are not the suite's
    quiet = ConditionReader(reader.graph, scratch)
    for candidate in candidates:
        if not needed:
            break
        if not needed.intersection(candidate.path):
            continue
        result = with_data(candidate, scenario_goals(candidate, quiet), solver)
        if isinstance(result, TestScenario):
            added.append(result)
            needed -= set(candidate.path)
        else:
            more_dead.append((candidate, result))
    return added, more_dead


def _without(
    suite: GeneratedSuite,
    graph: ProcessGraph,
    kept: list[TestScenario],
    dead: list[tuple[TestScenario, Conflict]],
    report: DataReport,
) -> tuple[GeneratedSuite, DataReport]:
    """The suite of the `kept` scenarios; what only the `dead` ones reached is uncovered."""
    names = {scenario.name for scenario in kept}
    report.dropped.extend(c.scenario for c in report.infeasible if c.scenario not in names)
    coverage = _coverage(suite, graph, kept, dead)
    first = suite.scenarios[0].position
    renumbered = tuple(_renumbered(s, first + i) for i, s in enumerate(kept))
    return suite.model_copy(update={"scenarios": renumbered, "coverage": coverage}), report


def _coverage(
    suite: GeneratedSuite,
    graph: ProcessGraph,
    kept: list[TestScenario],
    dead: list[tuple[TestScenario, Conflict]],
) -> Coverage:
    seen = {element for scenario in kept for element in scenario.path}
    uncovered = list(suite.coverage.uncovered)
    known = {entry["element"] for entry in uncovered}
    for scenario, conflict in dead:
        reason = f"infeasible: {conflict.describe()} cannot all hold"
        for element in scenario.path:
            if element in seen or element in known:
                continue
            if element in graph.node_by_id or element in graph.flow_by_id:
                kind = "node" if element in graph.node_by_id else "flow"
                uncovered.append({"element": element, "kind": kind, "reason": reason})
                known.add(element)
    return suite.coverage.model_copy(
        update={
            "flows_covered": sum(1 for flow in graph.flows if flow.id in seen),
            "nodes_covered": sum(1 for node in graph.nodes if node.id in seen),
            "uncovered": tuple(uncovered),
        }
    )


def _renumbered(scenario: TestScenario, position: int) -> TestScenario:
    """Positions stay consecutive; a generated name's `S<n>` prefix follows its position."""
    match = re.match(r"S(\d+) ", scenario.name)
    name = scenario.name
    if match is not None:
        name = f"S{position:0{len(match.group(1))}d} {scenario.name[match.end() :]}"
    return scenario.model_copy(update={"position": position, "name": name})
