"""Data from gateway conditions on a synthetic model of about 1,000 nodes whose exclusive
splits (up to 100) carry FEEL conditions: generation alone, then generation plus solving each
scenario's conditions (and planning around the infeasible ones, as `generate` does), side by
side. Target: synthesis under 2 s.
Run: `python -m bench bench_conditions`.
"""

from __future__ import annotations

import random
import time

from tests.unit.generation.blocks import random_tree, to_graph

from orchestra.domain.conditions.suites import derive_data
from orchestra.domain.generation import Criterion, generate_suite
from orchestra.domain.process import Condition, NodeCategory, ProcessGraph
from orchestra.domain.scenario import TestScenario
from orchestra.errors import OrchestraError
from orchestra.services.generating import ALTERNATIVE_PATHS

GATEWAYS = 100


def conditioned(graph: ProcessGraph, limit: int) -> tuple[ProcessGraph, int]:
    """Each exclusive split's i-th flow gets `= x<g> in [10*i..10*i+10)` (its last `>=`),
    on a variable of its own gateway, or shared with the one before it for every third."""
    conditions: dict[str, Condition] = {}
    splits = [
        node
        for node in graph.nodes
        if node.category is NodeCategory.EXCLUSIVE_GATEWAY and len(graph.outgoing[node.id]) > 1
    ][:limit]
    for number, node in enumerate(splits):
        name = f"x{number - 1 if number % 3 == 2 else number}"
        outgoing = graph.outgoing[node.id]
        for index, flow in enumerate(outgoing):
            low = 10 * index
            text = (
                f"= {name} in [{low}..{low + 10})"
                if index < len(outgoing) - 1
                else (f"= {name} >= {low}")
            )
            conditions[flow.id] = Condition(text=text)
    flows = tuple(
        flow.model_copy(update={"condition": conditions[flow.id]})
        if flow.id in conditions
        else flow
        for flow in graph.flows
    )
    return graph.model_copy(update={"flows": flows}), len(splits)


def every_path(graph: ProcessGraph) -> tuple[TestScenario, ...] | None:
    """The paths generate plans around infeasible scenarios with, as `generate` asks them."""
    try:
        suite = generate_suite(
            graph,
            process_key="synthetic",
            process_version=1,
            criterion=Criterion.ALL_PATHS,
            max_scenarios=ALTERNATIVE_PATHS,
        )
    except OrchestraError:
        return None
    return suite.scenarios


def main() -> None:
    graph, gateways = conditioned(to_graph(random_tree(random.Random(1_000), 1_000)), GATEWAYS)
    started = time.perf_counter()
    suite = generate_suite(graph, process_key="synthetic", process_version=1)
    generation = time.perf_counter() - started
    started = time.perf_counter()
    derived, report = derive_data(suite, graph, graph, lambda: every_path(graph))
    synthesis = time.perf_counter() - started
    with_data = sum(1 for scenario in derived.scenarios if scenario.data)
    print(
        f"{len(graph.nodes)} nodes, {gateways} conditioned gateways, "
        f"{len(suite.scenarios)} scenarios ({with_data} with data, "
        f"{len(report.infeasible)} infeasible)"
    )
    print(f"generation        {generation:8.2f} s")
    print(f"synthesis         {synthesis:8.2f} s   (target < 2 s)")
    print(f"ratio             {synthesis / generation:8.2f} x generation")


if __name__ == "__main__":
    main()
