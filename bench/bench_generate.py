"""Generation on synthetic models of about 100, 1,000 and 10,000 nodes.

Each model is a random tree of nested sequences, exclusive and parallel blocks (and do-while
loops in the `loops` variant), drawn by `tests.unit.generation.blocks`. For each, all-flows is
timed and its scenario count printed next to the known minimum (by structure: exclusive blocks
add their branches' needs, parallel blocks and sequences take the largest). On acyclic models
the two must be equal; with loops the structural figure is only an upper bound.
Targets: 1,000 nodes under 1 s, 10,000 nodes under 10 s. Run: `python -m bench bench_generate`.
"""

from __future__ import annotations

import random
import time

from tests.unit.generation.blocks import minimum, random_tree, to_graph

from orchestra.domain.generation import generate_suite

SIZES = (100, 1_000, 10_000)


def main() -> None:
    print(
        f"{'nodes':>6} {'flows':>6} {'variant':<8} {'seconds':>8} {'scenarios':>9} "
        f"{'minimum':>8} {'steps':>7}  covered"
    )
    for target in SIZES:
        for loops in (False, True):
            _measure(target, loops=loops)


def _measure(target: int, *, loops: bool) -> None:
    tree = random_tree(random.Random(target), target, loops=loops)
    graph = to_graph(tree)
    started = time.perf_counter()
    suite = generate_suite(graph, process_key="synthetic", process_version=1)
    seconds = time.perf_counter() - started
    known = minimum(tree)
    steps = sum(len(scenario.steps) for scenario in suite.scenarios)
    cov = suite.coverage
    verdict = "" if loops else ("  = minimum" if len(suite.scenarios) == known else "  != MINIMUM")
    print(
        f"{len(graph.nodes):>6} {len(graph.flows):>6} {'loops' if loops else 'acyclic':<8} "
        f"{seconds:>8.2f} {len(suite.scenarios):>9} {known if not loops else f'<={known}':>8} "
        f"{steps:>7}  {cov.flows_covered}/{cov.flows_total} flows{verdict}",
        flush=True,
    )


if __name__ == "__main__":
    main()
