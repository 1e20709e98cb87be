"""The coverage criteria generation takes, and the bounds of all-paths: what commands that
generate nothing (a suite reused, listed or named) read, apart from the plans' classes."""

from __future__ import annotations

from enum import StrEnum


class Criterion(StrEnum):
    ALL_FLOWS = "all-flows"
    ALL_NODES = "all-nodes"
    ALL_PATHS = "all-paths"


# all-paths: how many times a path may go round a loop, and how many scenarios it may make
DEFAULT_LOOP_BOUND = 1
DEFAULT_MAX_SCENARIOS = 1000
MAX_LOOP_BOUND = 50
MAX_SCENARIOS = 100_000
