"""A re-run of a suite run's failures: the failed runs, each for its row, with what they need."""

from __future__ import annotations

from orchestra.domain.dependencies import RunKey
from orchestra.domain.reruns import plan_rerun
from orchestra.domain.scenario import DependsOn, TestScenario
from orchestra.domain.statuses import TestRunStatus as S


def scenario(name: str, position: int, *deps: str) -> TestScenario:
    return TestScenario(
        name=name,
        position=position,
        path=(),
        depends_on=tuple(DependsOn(scenario=d) for d in deps),
    )


SCENARIOS = [scenario("create", 0), scenario("pay", 1, "create"), scenario("ship", 2, "pay")]


def test_failed_errored_and_stuck_runs_are_run_again_each_for_its_own_row() -> None:
    ended = [
        (RunKey("create", 0), S.ERROR),
        (RunKey("create", 1), S.FAILED_STUCK),
        (RunKey("pay", 0), S.SKIPPED),
        (RunKey("pay", 1), S.SKIPPED),
        (RunKey("ship", 0), S.CANCELLED),
        (RunKey("ship", 1), S.FAILED),
    ]

    plan = plan_rerun(SCENARIOS, ended)

    assert plan.failed == (RunKey("create", 0), RunKey("create", 1), RunKey("ship", 1))
    assert plan.dependencies == (RunKey("pay", 1),)  # ship#1 needs it; create#1 is in already


def test_a_failed_run_brings_what_it_depends_on_transitively_and_nothing_else() -> None:
    ended = [
        (RunKey("create", None), S.PASSED),
        (RunKey("pay", None), S.PASSED),
        (RunKey("ship", None), S.FAILED),
    ]

    plan = plan_rerun(SCENARIOS, ended)

    assert plan.failed == (RunKey("ship", None),)
    assert plan.dependencies == (RunKey("create", None), RunKey("pay", None))
    assert plan.runs == (RunKey("ship", None), RunKey("create", None), RunKey("pay", None))


def test_a_suite_run_that_passed_has_nothing_to_run_again() -> None:
    plan = plan_rerun(SCENARIOS, [(RunKey("create", None), S.PASSED)])

    assert (plan.failed, plan.dependencies) == ((), ())
