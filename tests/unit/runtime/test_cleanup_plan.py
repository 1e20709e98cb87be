"""What a run cleans up once its scenario ends, and what that does to its verdict."""

from __future__ import annotations

from typing import Any

from orchestra.domain.scenario import ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind, StepStatus, TestRunStatus
from orchestra.runtime.cleanup import cleanup_steps, verdict

UNDO = {"action": {"method": "DELETE", "path": "/x"}, "strict": False}


def task(position: int, element: str, *, undo: dict[str, Any] | None = None) -> ScenarioStep:
    spec: dict[str, Any] = {"action": {"path": "/x"}, "given": {"amount": 5}}
    if undo is not None:
        spec["undo"] = undo
    return ScenarioStep(position=position, kind=StepKind.ACTION, element_id=element, spec=spec)


STEPS = [
    task(0, "Create", undo=UNDO),
    task(1, "Read"),
    task(2, "Reserve", undo={**UNDO, "strict": True}),
    task(3, "Pay", undo=UNDO),
]
SCENARIO = TestScenario(
    name="s",
    position=0,
    path=("Create", "Read", "Reserve", "Pay"),
    steps=tuple(STEPS),
    cleanup=({"name": "reset", "action": {"path": "/reset"}, "strict": False},),
)


def test_the_tasks_the_sut_answered_are_undone_last_first_then_the_scenario_cleaned_up() -> None:
    done = {"0": "PASSED", "1": "PASSED", "2": "FAILED"}

    found = cleanup_steps(SCENARIO, STEPS, done)

    assert [(c.step.position, c.step.element_id, c.step.name, c.strict) for c in found] == [
        (0, "Reserve", "undo Reserve", True),
        (1, "Create", "undo Create", False),
        (2, None, "reset", False),
    ]
    assert all(c.step.meta["phase"] == "cleanup" for c in found)
    assert "strict" not in found[0].step.spec
    assert found[0].step.spec["given"] == {"amount": 5}  # what its task saw


def test_a_step_in_error_or_never_run_gets_no_undo() -> None:
    found = cleanup_steps(SCENARIO, STEPS, {"0": "ERROR"})

    assert [c.step.name for c in found] == ["reset"]


def test_a_resumed_run_works_out_the_same_list() -> None:
    done = {"0": "PASSED", "1": "PASSED"}

    first = cleanup_steps(SCENARIO, STEPS, done)
    again = cleanup_steps(SCENARIO, list(reversed(STEPS)), dict(reversed(done.items())))

    assert [c.step for c in first] == [c.step for c in again]


def test_a_strict_cleanup_that_did_not_pass_fails_a_passed_run_only() -> None:
    lenient, strict = cleanup_steps(SCENARIO, STEPS, {"2": "PASSED", "3": "PASSED"})[:2]
    assert (lenient.strict, strict.strict) == (False, True)
    failed = [
        (lenient, StepStatus.FAILED, "lenient failed"),
        (strict, StepStatus.ERROR, "strict errored"),
    ]

    assert verdict(TestRunStatus.PASSED, None, failed) == (
        TestRunStatus.ERROR,
        "strict cleanup did not pass: strict errored",
    )
    assert verdict(TestRunStatus.FAILED, "step 2", failed) == (TestRunStatus.FAILED, "step 2")
    assert verdict(TestRunStatus.PASSED, None, failed[:1]) == (TestRunStatus.PASSED, None)
