"""Coverage-driven scenario generation: pure functions from a ProcessGraph to a GeneratedSuite.

criteria.py   the coverage criteria and the bounds of all-paths
throws.py     where each thrown error or escalation goes: its catcher, what it interrupts
flat.py       the token-game graph (subprocesses inlined, boundary events and throws wired)
structure.py  regions and parallel/inclusive blocks; `Unstructured` when there are none
minflow.py    minimum flow with lower bounds (networkx network simplex) and its paths
plans.py      all-flows / all-nodes plans from minimum flows, all-paths enumeration
fallback.py   the guided token game for graphs that are not block-structured
compensation.py  which handlers a cancel or a compensation throw runs, in which order
render.py     plans into scenarios: steps, branch labels, BARRIERs, paths, decisions
generator.py  `generate_suite` and the coverage report
"""

from typing import TYPE_CHECKING, Any

from orchestra.domain.generation.calls import DEFAULT_CALL_DEPTH, called_keys, inline_calls
from orchestra.domain.generation.criteria import (
    DEFAULT_LOOP_BOUND,
    DEFAULT_MAX_SCENARIOS,
    MAX_LOOP_BOUND,
    MAX_SCENARIOS,
    Criterion,
)

if TYPE_CHECKING:
    from orchestra.domain.generation.generator import coverage, generate_suite

_GENERATOR = frozenset({"coverage", "generate_suite"})


def __getattr__(name: str) -> Any:
    """The generator's functions, imported when first used: the criteria and their bounds
    are read by commands that generate nothing (a suite reused, listed or named)."""
    if name in _GENERATOR:
        from orchestra.domain.generation import generator

        return getattr(generator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_CALL_DEPTH",
    "DEFAULT_LOOP_BOUND",
    "DEFAULT_MAX_SCENARIOS",
    "MAX_LOOP_BOUND",
    "MAX_SCENARIOS",
    "Criterion",
    "called_keys",
    "coverage",
    "generate_suite",
    "inline_calls",
]
