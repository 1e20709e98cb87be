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
    """One test run of a suite run: a scenario for one data row (None: no data set), in one
    of the suite run's repeats (0 unless it repeats every run)."""

    scenario: str
    row: int | None
    repeat: int = 0


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
    scenarios: Sequence[TestScenario], rows: Sequence[int | None], repeats: int = 1
) -> list[RunDependency]:
    """Run-level edges: a scenario's run for row i (in repeat r) waits for its dependency's
    run for row i in the same repeat."""
    if any(scenario.depends_on for scenario in scenarios):  # else nothing to refuse
        validate_dependencies(scenarios)
    edges: list[RunDependency] = []
    for scenario in scenarios:
        for dep in scenario.depends_on:
            for row in rows:
                for repeat in range(repeats):
                    edges.append(
                        RunDependency(
                            run=RunKey(scenario.name, row, repeat),
                            depends_on=RunKey(dep.scenario, row, repeat),
                            outcome=TestRunStatus(dep.outcome),
                        )
                    )
    return edges


def with_dependencies(scenarios: Sequence[TestScenario], wanted: Sequence[str]) -> list[str]:
    """The scenarios named in `wanted` and every scenario they depend on, directly or not, in
    the suite's order; refuses a name that is no scenario of the suite, listing them."""
    by_name = {s.name: s for s in scenarios}
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        raise InputRefused(
            f"no scenario {', '.join(map(repr, unknown))} in the suite; its scenarios: "
            + ", ".join(by_name),
            details={"unknown": unknown, "scenarios": list(by_name)},
        )
    kept: set[str] = set()
    todo = list(wanted)
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        kept.add(name)
        todo.extend(dep.scenario for dep in by_name[name].depends_on if dep.scenario in by_name)
    return [s.name for s in scenarios if s.name in kept]
