"""Which colour each element of the diagram gets."""

from __future__ import annotations

from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.reports.outcomes import Outcome, element_outcomes, outcome_counts
from tests.support.example_report import PATHS, example_report, make_run, step


def test_the_element_a_run_failed_at_is_failed_and_the_elements_it_got_past_are_passed() -> None:
    outcomes = element_outcomes(example_report())
    assert outcomes["EndEvent_OrderCancelled"].outcome is Outcome.FAILED
    assert outcomes["EndEvent_OrderCancelled"].failed == 1
    assert outcomes["Task_CancelOrder"].outcome is Outcome.PASSED
    assert outcomes["Flow_ToOrderCancelled"].passed == 1


def test_an_element_on_every_path_counts_every_run_that_got_past_it() -> None:
    outcomes = element_outcomes(example_report())
    assert outcomes["Task_CreateOrder"].passed == 3
    assert outcomes["Task_CreateOrder"].failed == 0


def test_the_example_suite_colours_all_but_one_element_passed() -> None:
    counts = outcome_counts(element_outcomes(example_report()))
    assert counts == {
        "node": {"passed": 16, "failed": 1, "not-covered": 0},
        "flow": {"passed": 17, "failed": 0, "not-covered": 0},
    }


def test_elements_only_on_paths_of_runs_that_never_ran_are_not_covered() -> None:
    runs = (
        make_run(1, "address rejected, refund", TestRunStatus.PASSED, ()),
        make_run(2, "declined, give up", TestRunStatus.SKIPPED, ()),
    )
    outcomes = element_outcomes(example_report(runs))
    assert outcomes["Task_CancelOrder"].outcome is Outcome.NOT_COVERED
    assert outcomes["Task_RefundPayment"].outcome is Outcome.PASSED


def test_a_failed_element_stays_failed_even_when_other_runs_pass_it() -> None:
    failing = make_run(
        2, "retry then ship", TestRunStatus.FAILED, (step(1, "Task_CreateOrder", StepStatus.ERROR),)
    )
    runs = (make_run(1, "address rejected, refund", TestRunStatus.PASSED, ()), failing)
    outcome = element_outcomes(example_report(runs))["Task_CreateOrder"]
    assert (outcome.outcome, outcome.passed, outcome.failed) == (Outcome.FAILED, 1, 1)
    assert element_outcomes(example_report(runs))["Task_RetryPayment"].passed == 0


def test_a_failed_run_without_steps_marks_nothing() -> None:
    stuck = make_run(1, "declined, give up", TestRunStatus.FAILED_STUCK, ())
    outcomes = element_outcomes(example_report((stuck,)))
    assert {o.outcome for o in outcomes.values()} == {Outcome.NOT_COVERED}
    assert set(PATHS["declined, give up"]) <= set(outcomes)


def test_a_parallel_branch_that_passed_stays_passed_when_the_other_branch_failed() -> None:
    steps = (
        step(1, "Task_CreateOrder"),
        step(2, "Task_ReserveStock", StepStatus.FAILED),
        step(3, "Task_ChargePayment"),
    )
    run = make_run(1, "declined, give up", TestRunStatus.FAILED, steps)
    outcomes = element_outcomes(example_report((run,)))
    assert outcomes["Task_ReserveStock"].outcome is Outcome.FAILED
    assert outcomes["Task_ChargePayment"].outcome is Outcome.PASSED  # after it in the path
    assert outcomes["Flow_PaymentCharged"].outcome is Outcome.NOT_COVERED
    assert outcomes["Task_CancelOrder"].outcome is Outcome.NOT_COVERED
