"""Use case: what went wrong in a suite run, one line per failed or errored run, and per run
whose cleanup (undo or cleanup actions) did not pass, whatever its status.

`orchestra test`, `orchestra run --wait`, `orchestra status` of an ended suite run and the demo
all print this summary, and their `--json` carries it as `failures` (the shape of
`Failure.to_json`, documented in docs/testing.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orchestra.domain.statuses import FAILING_STATUSES, TestRunStatus
from orchestra.reports.model import StepReport, TestRunReport
from orchestra.reports.text import cleanup_summary, strict_cleanup_failed
from orchestra.services import reporting
from orchestra.store.database import Database

_MAX_VALUE = 80  # characters of an expected or actual value shown on a line


@dataclass(frozen=True, slots=True)
class Failure:
    """A run that ended FAILED, ERROR or FAILED_STUCK, and where and why."""

    test_run: int
    scenario: str
    status: TestRunStatus
    data_row: int | None
    data_row_label: str | None
    repeat: int  # from 1; 1 also when the suite run does not repeat
    step: int | None  # position in the scenario of the step that failed
    element_id: str | None
    element_name: str | None
    check: str | None  # the first check that failed, e.g. "jsonpath $.state eq"
    expected: Any
    actual: Any
    error: str | None
    cleanup: str | None = None  # which of its cleanup actions did not pass
    answer: str | None = None  # the body answering a failed status check, shortened

    def to_json(self) -> dict[str, Any]:
        return {
            "test_run": self.test_run,
            "scenario": self.scenario,
            "status": self.status.value,
            "data_row": self.data_row,
            "data_row_label": self.data_row_label,
            "repeat": self.repeat,
            "step": self.step,
            "element_id": self.element_id,
            "element_name": self.element_name,
            "check": self.check,
            "expected": self.expected,
            "actual": self.actual,
            "error": self.error,
            "cleanup": self.cleanup,
            "answer": self.answer,
        }

    def line(self) -> str:
        return failure_line(self.to_json())


def failure_line(failure: dict[str, Any]) -> str:
    """One line for a person, from a failure's JSON: status, who, where, why."""
    who = str(failure["scenario"])
    if failure["data_row"] is not None:
        label = failure.get("data_row_label")
        who += f" [row {failure['data_row']}" + (f": {label}]" if label else "]")
    if failure.get("repeat", 1) > 1:
        who += f" #{failure['repeat']}"
    where = "" if failure["step"] is None else f" at step {failure['step']}"
    if failure["element_id"] is not None:
        named = f" ({failure['element_name']})" if failure.get("element_name") else ""
        where += f" {failure['element_id']}{named}"
    if failure["status"] == TestRunStatus.PASSED.value:  # only its cleanup failed
        return f"{failure['status']} {who}: {failure.get('cleanup')}"
    cleanup = f"; {failure['cleanup']}" if failure.get("cleanup") else ""
    return f"{failure['status']} {who}{where}: {_reason(failure)}{cleanup}"


def _reason(failure: dict[str, Any]) -> str:
    if failure.get("check") is not None:
        expected, actual = _short(failure["expected"]), _short(failure["actual"])
        answer = f" answering {failure['answer']}" if failure.get("answer") else ""
        return f"{failure['check']}: expected {expected}, got {actual}{answer}"
    return str(failure.get("error") or "no reason recorded")


def failures_of(runs: Iterable[TestRunReport]) -> list[Failure]:
    """The failed and errored runs among `runs`, and those whose cleanup did not pass, in
    their order."""
    return [_failure(run) for run in runs if run.status in FAILING_STATUSES or run.failed_cleanup()]


def _failure(run: TestRunReport) -> Failure:
    step = run.stuck_step() or run.failing_step() or strict_cleanup_failed(run)
    check = _failed_check(step)
    return Failure(
        test_run=run.id,
        scenario=run.scenario,
        status=run.status,
        data_row=run.data_row_index,
        data_row_label=run.data_row_label,
        repeat=run.repeat_index + 1,
        step=step.position if step else None,
        element_id=(step.element_id or step.at) if step else None,
        element_name=step.name if step else None,
        check=check.name if check else None,
        expected=check.expected if check else None,
        actual=check.actual if check else None,
        error=(step.error if step and step.error else None) or run.error,
        cleanup=cleanup_summary(run),
        answer=_answer(step) if check is not None and check.name.startswith("status") else None,
    )


def _answer(step: StepReport | None) -> str | None:
    """The body of the step's response: why the system refused, when a status check failed
    (`{"error": "invoice not approved"}` tells more than 409)."""
    response = (step.response if step else None) or {}
    body = response.get("json", response.get("body"))
    return None if body in (None, "") else _short(body)


def _failed_check(step: StepReport | None) -> Any:
    if step is None:
        return None
    return next((check for check in step.checks if not check.passed), None)


async def suite_run_failures(
    db: Database, suite_run_id: int, *, held: reporting.Held | None = None
) -> list[Failure]:
    """The failure summary of a stored suite run: only the runs it lists are loaded."""
    return failures_of(await reporting.load_failing(db, suite_run_id, held=held))


def _short(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "..."
