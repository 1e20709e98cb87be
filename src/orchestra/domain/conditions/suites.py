"""A generated suite with each scenario's data from its gateway conditions."""

from __future__ import annotations

import re

from orchestra.domain.conditions.scenarios import (
    ConditionReader,
    Conflict,
    DataReport,
    scenario_goals,
    with_data,
)
from orchestra.domain.process import ProcessGraph
from orchestra.domain.scenario import Coverage, GeneratedSuite, TestScenario


def derive_data(
    suite: GeneratedSuite, graph: ProcessGraph, working: ProcessGraph
) -> tuple[GeneratedSuite, DataReport]:
    """`working` is the graph the suite was generated from (its calls inlined), `graph` the
    process itself, whose elements coverage counts. Under all-paths an infeasible scenario is
    dropped, and what only it covered is uncovered with the reason; under the other criteria
    it is kept, without data, and reported."""
    report = DataReport()
    reader = ConditionReader(working, report)
    solver = reader.solver()
    if solver is None:
        return suite, report
    kept: list[TestScenario] = []
    dropped: list[Conflict] = []
    for scenario in suite.scenarios:
        result = with_data(scenario, scenario_goals(scenario, reader), solver)
        if isinstance(result, TestScenario):
            kept.append(result)
            continue
        report.infeasible.append(result)
        if suite.criterion == "all-paths" and len(suite.scenarios) > len(dropped) + 1:
            dropped.append(result)
            report.dropped.append(scenario.name)
        else:
            kept.append(scenario)
    if not dropped:
        return suite.model_copy(update={"scenarios": tuple(kept)}), report
    gone = {conflict.scenario: conflict for conflict in dropped}
    coverage = _coverage(suite, graph, kept, [s for s in suite.scenarios if s.name in gone], gone)
    renumbered = tuple(_renumbered(s, suite.scenarios[0].position + i) for i, s in enumerate(kept))
    return suite.model_copy(update={"scenarios": renumbered, "coverage": coverage}), report


def _coverage(
    suite: GeneratedSuite,
    graph: ProcessGraph,
    kept: list[TestScenario],
    removed: list[TestScenario],
    conflicts: dict[str, Conflict],
) -> Coverage:
    seen = {element for scenario in kept for element in scenario.path}
    uncovered = list(suite.coverage.uncovered)
    for scenario in removed:
        reason = f"infeasible: {conflicts[scenario.name].describe()} cannot all hold"
        for element in scenario.path:
            known = {entry["element"] for entry in uncovered}
            if element in seen or element in known:
                continue
            if element in graph.node_by_id or element in graph.flow_by_id:
                kind = "node" if element in graph.node_by_id else "flow"
                uncovered.append({"element": element, "kind": kind, "reason": reason})
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
