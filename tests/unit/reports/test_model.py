"""The report model: built from what the runtime stores."""

from __future__ import annotations

import pytest

from orchestra.domain.execution import CheckResult, StepOutcome
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind, StepStatus, TestRunStatus
from orchestra.errors import UsageError
from orchestra.reports import render
from orchestra.reports.model import LostLeaseReport, step_report
from orchestra.reports.text import lost_lease_text, step_lines
from tests.support.example_report import T0, example_report, make_run, step

SHIP = ScenarioStep(
    position=5, kind=StepKind.ACTION, element_id="Task_ShipOrder", name="Ship order", branch=""
)


def test_a_step_report_carries_the_step_and_its_outcome() -> None:
    outcome = StepOutcome(
        status=StepStatus.FAILED,
        started_at=1.5,
        duration_ms=20.0,
        request={"method": "POST"},
        response={"status": 409},
        checks=(CheckResult(name="status", passed=False, expected=202, actual=409),),
        error="status: expected 202, got 409",
        attempts=4,
    )
    report = step_report(SHIP, outcome, attempt=2)
    assert (report.position, report.element_id, report.name, report.attempt) == (
        5,
        "Task_ShipOrder",
        "Ship order",
        2,
    )
    assert (report.status, report.requests, report.error) == (
        StepStatus.FAILED,
        4,
        "status: expected 202, got 409",
    )
    assert report.checks == outcome.checks


def test_a_step_that_never_ran_is_reported_skipped_without_requests() -> None:
    report = step_report(SHIP, None)
    assert (report.status, report.requests, report.request) == (StepStatus.SKIPPED, 0, None)


def test_a_run_names_its_first_failed_or_errored_step() -> None:
    steps = (
        step(1, "Task_CreateOrder"),
        step(2, "Task_ReserveStock", StepStatus.ERROR),
        step(3, "Task_ChargePayment", StepStatus.FAILED),
    )
    run = make_run(1, "x", TestRunStatus.ERROR, steps)
    failing = run.failing_step()
    assert failing is not None
    assert failing.element_id == "Task_ReserveStock"
    assert run.is_failure
    assert run.display_name == "x [row 0]"


def test_the_report_counts_runs_by_status_and_times_the_suite_run() -> None:
    report = example_report()
    assert report.count(TestRunStatus.PASSED) == 2
    assert report.count(TestRunStatus.FAILED, TestRunStatus.ERROR) == 1
    assert report.duration_s == 9.0


def test_render_dispatches_on_the_format_name_and_refuses_others() -> None:
    report = example_report()
    assert render(report, "JUnit").startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert render(report, "json").startswith("{")
    assert render(report, "html").startswith("<!DOCTYPE html>")
    with pytest.raises(
        UsageError, match=r"unknown report format 'pdf' \(one of junit, json, html\)"
    ):
        render(report, "pdf")


def lost(claim: int) -> LostLeaseReport:
    return LostLeaseReport(attempt=claim, worker=f"w{claim}", expired_at=T0, noticed_at=T0)


def test_a_steps_try_counts_the_leases_lost_before_its_claim_not_the_claims() -> None:
    # claim 1 parked at a shared barrier, claim 2 lost its lease, claim 3 finished the run
    steps = (step(1, "Task_CreateOrder", attempt=1), step(2, "Task_ShipOrder", attempt=3))
    run = make_run(1, "x", TestRunStatus.PASSED, steps, attempts=2, lost_leases=(lost(2),))
    assert [run.try_of(s.attempt) for s in run.steps] == [1, 2]
    assert run.try_of(2) == 1  # the claim that lost its lease was the first try
    assert step_lines(run.steps[1], run.try_of(3))[0].endswith("(try 2)")
    page = render(example_report((run,)), "html")
    assert page.count("· try 2") == 1


def test_a_lost_lease_says_a_request_in_flight_was_sent_again_only_when_it_was() -> None:
    def flying(claim: int, position: int) -> LostLeaseReport:
        return lost(claim).model_copy(update={"in_flight": (position,)})

    steps = (
        step(1, "Task_CreateOrder", attempt=2),
        step(2, "Gateway_Join", kind=StepKind.BARRIER, attempt=3),
    )
    run = make_run(
        1,
        "x",
        TestRunStatus.FAILED_STUCK,
        steps,
        lost_leases=(flying(1, 1), flying(2, 2), flying(3, 1)),
    )
    resent, joined, given_up = (lost_lease_text(run, lease) for lease in run.lost_leases)
    assert resent.endswith(
        "(may have reached the SUT; executed again with the same idempotency key)"
    )
    assert joined.endswith(
        "in flight: #2 Join (Gateway_Join) (a barrier: nothing was sent to the SUT)"
    )
    assert given_up.endswith("(may have reached the SUT; not executed again: the run was given up)")


def test_a_request_in_flight_is_not_said_sent_again_when_the_run_ended_before_it() -> None:
    # claim 1 lost its lease with #2 and #3 in flight; claim 2 sent #2 again, then the suite
    # run was cancelled: #3 never ran again
    lease = lost(1).model_copy(update={"in_flight": (2, 3)})
    steps = (
        step(1, "Task_CreateOrder", attempt=1),
        step(2, "Task_ReserveStock", attempt=2),
        step(3, "Task_ChargePayment", StepStatus.SKIPPED),
    )
    run = make_run(1, "x", TestRunStatus.CANCELLED, steps, attempts=2, lost_leases=(lease,))
    assert lost_lease_text(run, lease).endswith(
        "(may have reached the SUT; #2 executed again with the same idempotency key,"
        " the others not: the run ended first)"
    )
    neither = run.model_copy(
        update={
            "steps": (
                steps[0],
                *(s.model_copy(update={"status": StepStatus.SKIPPED}) for s in steps[1:]),
            )
        }
    )
    assert lost_lease_text(neither, lease).endswith(
        "(may have reached the SUT; not executed again: the run ended first)"
    )
    running = neither.model_copy(update={"status": TestRunStatus.RUNNING})
    assert lost_lease_text(running, lease).endswith(
        "(may have reached the SUT; not executed again yet)"
    )
