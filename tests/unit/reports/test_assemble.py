"""Stored records become report parts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from orchestra.domain.execution import CheckResult
from orchestra.domain.history import LostLease, ReleasedClaim
from orchestra.domain.records import StepResult, TestRun
from orchestra.domain.scenario import ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind, StepStatus, TestRunStatus
from orchestra.reports.assemble import run_report, step_from_result
from orchestra.reports.model import TestRunReport
from orchestra.reports.text import lost_lease_text

T = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
STEPS = (
    ScenarioStep(position=1, kind=StepKind.ACTION, element_id="Task_A", name="A"),
    ScenarioStep(position=2, kind=StepKind.BARRIER, element_id="Join", name="Join"),
    ScenarioStep(position=3, kind=StepKind.ACTION, element_id="Task_B", name="B"),
    ScenarioStep(position=4, kind=StepKind.ASSERTION, element_id="End", name="End"),
)
SCENARIO = TestScenario(name="S01", position=1, path=("Start", "Task_A", "End"), steps=STEPS)
RUN = TestRun(
    id=9,
    suite_run_id=1,
    scenario_id=3,
    scenario_name="S01",
    data_row_index=1,
    status=TestRunStatus.FAILED,
    attempt=2,
    lost_leases=1,
    created_at=T,
    started_at=T,
    finished_at=T,
    error="step 3 failed",
)


def result(position: int, status: StepStatus, **kw: object) -> StepResult:
    return StepResult.model_validate(
        {
            "id": position,
            "test_run_id": 9,
            "position": position,
            "element_id": f"E{position}",
            "branch": "",
            "attempt": 2,
            "status": status,
            "started_at": T,
            "duration_ms": 5.0,
            **kw,
        }
    )


def test_a_stored_run_becomes_a_report_with_steps_in_order_and_the_rest_skipped() -> None:
    results = [
        result(
            3,
            StepStatus.FAILED,
            checks=({"name": "status", "passed": False, "expected": 200, "actual": 500},),
        ),
        result(1, StepStatus.PASSED),
    ]
    report = run_report(RUN, SCENARIO, results)
    assert [(s.position, s.name, s.status) for s in report.steps] == [
        (1, "A", StepStatus.PASSED),
        (3, "B", StepStatus.FAILED),
        (4, "End", StepStatus.SKIPPED),
    ]
    assert report.steps[1].checks[0].actual == 500
    assert (report.scenario, report.data_row_index, report.attempts) == ("S01", 1, 2)
    assert report.path == ("Start", "Task_A", "End")
    assert report.failing_step() == report.steps[1]


@pytest.mark.parametrize(
    ("status", "claims", "lost", "attempts"),
    [
        (TestRunStatus.PASSED, 3, 0, 1),  # claimed again after a shared barrier and a drain
        (TestRunStatus.PASSED, 3, 1, 2),
        (TestRunStatus.FAILED_STUCK, 3, 3, 3),  # the third lease lost too
        (TestRunStatus.SKIPPED, 0, 0, 1),
    ],
)
def test_a_run_counts_its_attempts_by_the_leases_it_lost_not_its_claims(
    status: TestRunStatus, claims: int, lost: int, attempts: int
) -> None:
    run = RUN.model_copy(update={"status": status, "attempt": claims, "lost_leases": lost})
    assert run_report(run, SCENARIO, []).attempts == attempts


def test_a_check_stored_in_another_shape_is_shown_not_dropped() -> None:
    step = step_from_result(result(1, StepStatus.FAILED, checks=({"weird": True},)), None)
    assert step.checks[0].message == "stored check in an unexpected shape"
    assert step.checks[0].actual == {"weird": True}
    assert step.kind is StepKind.ACTION


def shared_barrier_step(position: int, side: str, element: str) -> ScenarioStep:
    return ScenarioStep(
        position=position,
        kind=StepKind.BARRIER,
        element_id=None,
        name="barrier sync",
        spec={"name": "sync", "parties": 2, "timeout": 60},
        meta={"sharedBarrier": True, side: element},
    )


def test_a_run_failing_at_a_shared_barrier_stops_at_the_element_it_did_not_reach() -> None:
    def failed_at_barrier(side: str) -> str | None:
        steps = (
            ScenarioStep(position=1, kind=StepKind.ACTION, element_id="Task_A", name="A"),
            shared_barrier_step(2, side, "Task_A" if side == "after" else "Task_B"),
            ScenarioStep(position=3, kind=StepKind.ACTION, element_id="Task_B", name="B"),
        )
        scenario = SCENARIO.model_copy(update={"steps": steps})
        results = [
            result(1, StepStatus.PASSED, element_id="Task_A"),
            result(2, StepStatus.FAILED, element_id=None, error="barrier 'sync' timed out"),
        ]
        report = run_report(RUN, scenario, results)
        failing = report.failing_step()
        assert failing is not None
        assert failing.name == "barrier sync"
        return failing.at

    assert failed_at_barrier("before") == "Task_B"
    assert failed_at_barrier("after") == "Task_B"  # Task_A passed; Task_B was never reached


def test_a_join_a_lost_lease_had_in_flight_is_listed_and_said_to_send_nothing() -> None:
    # claim 1 checkpointed both branches and lost its lease before the join; the suite run
    # was cancelled before the next try reached it
    steps = (
        ScenarioStep(position=1, kind=StepKind.ACTION, element_id="Task_A", branch="/G#1"),
        ScenarioStep(position=2, kind=StepKind.ACTION, element_id="Task_B", branch="/G#2"),
        ScenarioStep(
            position=3,
            kind=StepKind.BARRIER,
            element_id="Join",
            name="Join",
            spec={"gateway": "Join", "branches": ["/G#1", "/G#2"]},
        ),
        ScenarioStep(position=4, kind=StepKind.ACTION, element_id="Task_C", name="C"),
    )
    scenario = SCENARIO.model_copy(update={"steps": steps})
    results = [
        result(1, StepStatus.PASSED, element_id="Task_A", branch="/G#1", attempt=1),
        result(2, StepStatus.PASSED, element_id="Task_B", branch="/G#2", attempt=1),
    ]
    lease = LostLease(
        test_run_id=9,
        attempt=1,
        worker="w1",
        expired_at=T,
        noticed_at=T,
        done={"1": "PASSED", "2": "PASSED"},
    )
    run = RUN.model_copy(update={"status": TestRunStatus.CANCELLED, "error": None})
    report = run_report(run, scenario, results, [lease])
    (lost,) = report.lost_leases
    assert lost.in_flight == (3,)
    assert [(s.position, s.kind, s.status) for s in report.steps] == [
        (1, StepKind.ACTION, StepStatus.PASSED),
        (2, StepKind.ACTION, StepStatus.PASSED),
        (3, StepKind.BARRIER, StepStatus.SKIPPED),
        (4, StepKind.ACTION, StepStatus.SKIPPED),
    ]
    assert lost_lease_text(report, lost).endswith(
        "in flight: #3 Join (a barrier: nothing was sent to the SUT)"
    )


def _branching_scenario() -> TestScenario:
    """A, then G's branches /G#1 (B) and /G#2 (H's branches C and D, H's join, then E), G's
    join, F."""

    def action(position: int, element: str, branch: str = "") -> ScenarioStep:
        return ScenarioStep(
            position=position, kind=StepKind.ACTION, element_id=element, branch=branch
        )

    def join(position: int, gateway: str, branches: list[str], branch: str = "") -> ScenarioStep:
        spec = {"gateway": gateway, "branches": branches}
        return ScenarioStep(
            position=position, kind=StepKind.BARRIER, element_id=gateway, branch=branch, spec=spec
        )

    steps = (
        action(0, "A"),
        action(1, "B", "/G#1"),
        action(2, "C", "/G#2/H#1"),
        action(3, "D", "/G#2/H#2"),
        join(4, "H", ["/G#2/H#1", "/G#2/H#2"], "/G#2"),
        action(5, "E", "/G#2"),
        join(6, "G", ["/G#1", "/G#2"]),
        action(7, "F"),
    )
    return SCENARIO.model_copy(update={"steps": steps})


@pytest.mark.parametrize(
    ("recorded", "listed"),
    [
        # B failed while C and D were in flight: they passed, H was never joined
        (
            {
                0: StepStatus.PASSED,
                1: StepStatus.FAILED,
                2: StepStatus.PASSED,
                3: StepStatus.PASSED,
            },
            {4},
        ),
        # D failed: H's own branches did not all pass, the step D says where the run stopped
        (
            {
                0: StepStatus.PASSED,
                1: StepStatus.PASSED,
                2: StepStatus.PASSED,
                3: StepStatus.FAILED,
            },
            set(),
        ),
        # B failed before C: H never had its branches done
        ({0: StepStatus.PASSED, 1: StepStatus.FAILED, 2: StepStatus.PASSED}, set()),
        # E failed after H joined: G's branches did not all pass
        ({**dict.fromkeys(range(5), StepStatus.PASSED), 5: StepStatus.FAILED}, set()),
    ],
)
def test_an_unrecorded_join_is_listed_skipped_only_when_its_branches_all_passed(
    recorded: dict[int, StepStatus], listed: set[int]
) -> None:
    results = [result(p, status, element_id=None, attempt=1) for p, status in recorded.items()]
    report = run_report(
        RUN.model_copy(update={"attempt": 1, "lost_leases": 0}), _branching_scenario(), results
    )
    joins = {s.position: s.status for s in report.steps if s.kind is StepKind.BARRIER}
    shown = {p for p, status in joins.items() if status is StepStatus.SKIPPED}
    assert shown == listed
    assert set(joins) - shown == {p for p in (4, 6) if p in recorded}


def test_a_race_scenarios_run_says_which_outcome_of_the_race_it_expects() -> None:
    race = {"winner": "End", "rivals": ["End_2"], "note": "a race: End ends the process first"}
    end = STEPS[3].model_copy(update={"meta": {"endEvent": True, "race": race}})
    raced = SCENARIO.model_copy(update={"steps": (*STEPS[:3], end)})
    assert run_report(RUN, raced, []).race == "a race: End ends the process first"
    assert run_report(RUN, SCENARIO, []).race is None


def test_a_re_sent_step_says_what_ended_the_claim_it_was_re_sent_after() -> None:
    results = [
        result(1, StepStatus.PASSED, attempt=2, resent_after=1),
        result(3, StepStatus.PASSED, attempt=3, resent_after=2),
        result(4, StepStatus.PASSED, attempt=4, resent_after=3),  # stored before schema 0013
    ]
    lease = LostLease(test_run_id=9, attempt=1, worker="w1", expired_at=T, noticed_at=T)
    released = ReleasedClaim(test_run_id=9, attempt=2, worker="w2", why="unreachable",
                             released_at=T, done={"1": "PASSED"})  # fmt: skip
    run = RUN.model_copy(update={"status": TestRunStatus.PASSED, "attempt": 4})
    report = run_report(run, SCENARIO, results, [lease], [released])
    assert [(s.resent_after, s.resent_cause, s.resent_by) for s in report.steps] == [
        (1, "lost_lease", "w1"),
        (2, "unreachable", "w2"),
        (3, "lost_lease", None),
    ]


@pytest.mark.parametrize(
    "stored",
    [
        {"name": "status eq", "passed": True, "expected": 200, "actual": 200},
        {"name": "s", "passed": False, "expected": None, "actual": None, "found": False},
        {"name": "s", "passed": False, "message": "bad", "expected": [1], "actual": {"a": 1}},
        {"name": "s", "passed": 1, "expected": 2, "actual": 3},  # validation makes it a bool
        {"name": "s", "passed": True, "message": 5},  # not a message: shown as stored
    ],
)
def test_a_stored_check_reads_as_validating_it_reads(stored: dict[str, object]) -> None:
    read = step_from_result(result(1, StepStatus.PASSED, checks=(stored,)), None).checks[0]
    try:
        validated = CheckResult.model_validate(stored)
    except ValidationError:
        assert read.message == "stored check in an unexpected shape"
        return
    assert read == validated
    assert type(read.passed) is bool


def test_report_parts_built_from_stored_records_are_what_validation_builds() -> None:
    checks = ({"name": "status", "passed": False, "expected": 200, "actual": 500},)
    report = run_report(RUN, SCENARIO, [result(3, StepStatus.FAILED, checks=checks)])

    assert TestRunReport.model_validate(report.model_dump()) == report
    assert report.model_fields_set == set(TestRunReport.model_fields)
