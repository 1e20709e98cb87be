"""The failure summary: one line per failed or errored run, naming where and why."""

from __future__ import annotations

from orchestra.domain.execution import CheckResult
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.reports.assemble import row_label
from orchestra.services.failures import failure_line, failures_of
from tests.support.example_report import example_report, example_runs, make_run, step


def test_a_failed_check_is_summed_up_with_its_step_element_and_both_values() -> None:
    (failure,) = failures_of(example_report().test_runs)
    assert failure.line() == (
        "FAILED declined, give up [row 0] at step 5 EndEvent_OrderCancelled (OrderCancelled): "
        'jsonpath $.reservation.state eq: expected "RELEASED", got "RESERVED"'
    )
    assert failure.to_json()["expected"] == "RELEASED"
    assert failure.to_json()["actual"] == "RESERVED"


def test_an_error_is_summed_up_with_its_reason_and_told_apart_from_a_failure() -> None:
    errored = make_run(
        9,
        "retry then ship",
        TestRunStatus.ERROR,
        (step(1, "Task_CreateOrder", StepStatus.ERROR, checks=(), error="connection refused"),),
        data_row_label="Ada",
        repeat_index=1,
    )
    (failure,) = failures_of(example_report((*example_runs()[:2], errored)).test_runs)
    assert failure.status is TestRunStatus.ERROR
    assert failure.line() == (
        "ERROR retry then ship [row 0: Ada] #2 at step 1 Task_CreateOrder (CreateOrder): "
        "connection refused"
    )


def test_a_failed_status_check_shows_the_body_that_says_why() -> None:
    refused = CheckResult(name="status eq", passed=False, expected=200, actual=409)
    charged = step(2, "Task_ChargePayment", StepStatus.FAILED, checks=(refused,))
    answered = charged.model_copy(
        update={"response": {"status": 409, "json": {"error": "card declined"}}}
    )
    failed = make_run(9, "retry then ship", TestRunStatus.FAILED, (answered,))
    (failure,) = failures_of(example_report((*example_runs()[:2], failed)).test_runs)

    assert failure.to_json()["answer"] == '{"error": "card declined"}'
    assert failure.line().endswith(
        'status eq: expected 200, got 409 answering {"error": "card declined"}'
    )


def test_a_failed_check_of_the_body_shows_no_answer_beside_it() -> None:
    (failure,) = failures_of(example_report().test_runs)
    assert failure.answer is None


def test_passed_skipped_and_cancelled_runs_are_not_failures() -> None:
    runs = (
        *example_runs()[:2],
        make_run(4, "declined, give up", TestRunStatus.SKIPPED, ()),
        make_run(5, "declined, give up", TestRunStatus.CANCELLED, ()),
    )
    assert failures_of(example_report(runs).test_runs) == []


def test_a_failure_without_a_step_says_the_run_error() -> None:
    line = failure_line(
        {
            "scenario": "s",
            "status": "FAILED_STUCK",
            "data_row": None,
            "repeat": 1,
            "step": None,
            "element_id": None,
            "check": None,
            "error": "lease expired 3 times",
        }
    )
    assert line == "FAILED_STUCK s: lease expired 3 times"


def test_a_data_row_is_named_by_a_name_like_column_else_its_first_text() -> None:
    assert row_label({"sku": "B-1", "customer": "Ada Lovelace", "quantity": 2}) == "Ada Lovelace"
    assert row_label({"order_id": 17, "note": "x"}) == "17"
    assert row_label({"b": "second", "a": "first"}) == "first"
    assert row_label({"quantity": 2, "flag": True}) is None


def test_a_csv_row_is_named_by_a_word_before_a_number_or_a_yes_no_written_as_text() -> None:
    assert row_label({"supplier": "Globex", "amount": "25000"}) == "Globex"
    assert row_label({"supplier": "Globex", "approved": "no", "amount": "3"}) == "Globex"
    assert row_label({"amount": "25000", "tax": "0.2"}) == "25000"
