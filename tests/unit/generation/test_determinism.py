"""The same model and options give the same suite, whatever Python's string hash seed."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import hashlib, random
from orchestra.domain.generation import Criterion, generate_suite
from tests.unit.generation.blocks import random_tree, to_graph
digest = hashlib.sha256()
for loops in (False, True):
    graph = to_graph(random_tree(random.Random(300), 300, loops=loops))
    for criterion in (Criterion.ALL_FLOWS, Criterion.ALL_NODES):
        suite = generate_suite(graph, process_key="k", process_version=1, criterion=criterion)
        digest.update(suite.model_dump_json().encode())
print(digest.hexdigest())
"""


def _digest(seed: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip()


def test_suites_do_not_depend_on_the_hash_seed() -> None:
    assert _digest("1") == _digest("2")
