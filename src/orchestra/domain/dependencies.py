"""`dependsOn` between the scenarios of a suite: validated as a DAG, resolved to runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestra.domain.scenario import TestScenario
from orchestra.domain.statuses import TestRunStatus
from orchestra.errors import DependencyCycle, InputRefused

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True, slots=True)
class RunKey:
    """One test run of a suite run: a scenario for one data row (None: no data set)."""

    scenario: str
    row: int | None


@dataclass(frozen=True, slots=True)
class RunDependency:
    run: RunKey
    depends_on: RunKey
    outcome: TestRunStatus


def validate_dependencies(scenarios: Sequence[TestScenario]) -> nx.DiGraph[str]:
    """The scenario dependency graph; refuses unknown scenarios, bad outcomes and cycles."""
    import networkx as nx  # here: the store imports this module, and starting a run needs no graph

    names = {s.name for s in scenarios}
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(sorted(names))
    for scenario in scenarios:
        for dep in scenario.depends_on:
            if dep.scenario not in names:
                raise InputRefused(
                    f"scenario {scenario.name!r} depends on {dep.scenario!r}, "
                    "which is not a scenario of this suite"
                )
            if (
                dep.outcome not in TestRunStatus.__members__
                or not TestRunStatus(dep.outcome).is_terminal
            ):
                raise InputRefused(
                    f"scenario {scenario.name!r} requires {dep.scenario!r} to end "
                    f"{dep.outcome!r}, which is not a terminal test run status"
                )
            graph.add_edge(dep.scenario, scenario.name)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return graph
    names_in_cycle = [edge[0] for edge in cycle] + [cycle[0][0]]
    raise DependencyCycle(
        "dependsOn forms a cycle: " + " -> ".join(names_in_cycle),
        details={"cycle": names_in_cycle},
    )


def resolve_run_dependencies(
    scenarios: Sequence[TestScenario], rows: Sequence[int | None]
) -> list[RunDependency]:
    """Run-level edges: a scenario's run for row i waits for its dependency's run for row i."""
    validate_dependencies(scenarios)
    edges: list[RunDependency] = []
    for scenario in scenarios:
        for dep in scenario.depends_on:
            for row in rows:
                edges.append(
                    RunDependency(
                        run=RunKey(scenario.name, row),
                        depends_on=RunKey(dep.scenario, row),
                        outcome=TestRunStatus(dep.outcome),
                    )
                )
    return edges
