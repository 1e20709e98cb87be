"""Why an element is left uncovered: the reason names what really keeps scenarios off it."""

from __future__ import annotations

from orchestra.domain.generation import Criterion, generate_suite
from orchestra.domain.scenario import GeneratedSuite
from tests.unit.generation.models import model

DO_WHILE = model("s>x1", "x1>A", "A>x2", "x2>B", "B>x1", "x2>e")


def all_paths(loop_bound: int) -> GeneratedSuite:
    return generate_suite(
        DO_WHILE,
        process_key="p",
        process_version=1,
        criterion=Criterion.ALL_PATHS,
        loop_bound=loop_bound,
    )


def test_all_paths_with_loop_bound_zero_says_the_loop_is_what_it_leaves_out() -> None:
    reasons = {item["element"]: item["reason"] for item in all_paths(0).coverage.uncovered}
    assert set(reasons) == {"x2-B", "B", "B-x1"}
    assert all("--loop-bound 0" in reason for reason in reasons.values()), reasons


def test_all_paths_going_around_the_loop_leaves_nothing_out() -> None:
    assert all_paths(1).coverage.uncovered == ()
