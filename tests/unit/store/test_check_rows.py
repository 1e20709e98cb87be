"""A step's checkpoint row: its check results as pydantic's JSON dump gives them, no nulls."""

from __future__ import annotations

import math
from typing import Any

import pytest

from orchestra.domain.execution import CheckResult, StepOutcome
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind, StepStatus
from orchestra.store.runs import Checkpoint, _check_row, _checkpoint_row

CHECKS: list[CheckResult] = [
    CheckResult(name="status eq", passed=True, expected=200, actual=200),
    CheckResult(name="jsonpath $.s eq", passed=False, expected="PAID", actual=None, found=False),
    CheckResult(name="flag", passed=True, expected=True, actual=True, message=None),
    CheckResult(name="latency", passed=False, expected=1.5, actual=math.inf, message="slow"),
    CheckResult(name="list", passed=True, expected=[1, (2, 3)], actual={"a": (1,)}),
]


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_a_check_row_is_the_checks_json_dump(check: CheckResult) -> None:
    row: dict[str, Any] = _check_row(check)

    assert row == check.model_dump(mode="json")


def _checkpoint(outcome: StepOutcome, phase: str = "main") -> Checkpoint:
    step = ScenarioStep(position=2, kind=StepKind.ACTION, element_id=None, branch="b/1")
    return Checkpoint(
        test_run_id=7, worker="w", attempt=1, step_id=None, step=step, outcome=outcome,
        execution_context={"done": {}}, phase=phase,
    )  # fmt: skip


def test_a_checkpoint_row_leaves_out_nulls_and_what_sql_defaults() -> None:
    outcome = StepOutcome(status=StepStatus.PASSED, started_at=1.0, duration_ms=2.0)

    row = _checkpoint_row(_checkpoint(outcome))

    assert row == {
        "test_run_id": 7, "worker": "w", "attempt": 1, "execution_context": {"done": {}},
        "position": 2, "branch": "b/1", "status": "PASSED", "started_at": 1.0,
        "duration_ms": 2.0, "checks": [],
    }  # fmt: skip


def test_a_checkpoint_row_holds_every_value_given() -> None:
    outcome = StepOutcome(
        status=StepStatus.ERROR, started_at=1.0, duration_ms=2.0, request={"method": "GET"},
        response={"status": 500}, command={"request": {}}, checks=CHECKS[:1], error="boom",
        attempts=3, resent_after=4, stalled_ms=5.0,
    )  # fmt: skip

    row = _checkpoint_row(_checkpoint(outcome, phase="cleanup"))

    assert {key: row[key] for key in ("request", "response", "command", "error")} == {
        "request": {"method": "GET"}, "response": {"status": 500},
        "command": {"request": {}}, "error": "boom",
    }  # fmt: skip
    assert (row["attempts"], row["resent_after"], row["stalled_ms"]) == (3, 4, 5.0)
    assert (row["phase"], row["checks"]) == ("cleanup", [CHECKS[0].model_dump(mode="json")])
    assert not {"step_id", "element_id"} & row.keys()
