"""Stored records into report parts, for the loader from the database. Pure functions.

`run_report(run, scenario, results)` turns a TestRun, its TestScenario and its StepResults into
a TestRunReport; `step_from_result(result, step)` one StepResult (with its ScenarioStep if
known) into a StepReport.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from orchestra.domain.execution import CheckResult
from orchestra.domain.records import StepResult, TestRun
from orchestra.domain.scenario import ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind, StepStatus, TestRunStatus
from orchestra.domain.trusted import trusted
from orchestra.errors import InputRefused
from orchestra.reports.model import (
    CleanupStepReport,
    LostLeaseReport,
    ResendCause,
    StepReport,
    TestRunReport,
    barrier_anchor,
    step_report,
)
from orchestra.runtime.cleanup import CLEANUP, CleanupStep, cleanup_steps
from orchestra.runtime.plan import Block, StepSequence, build_plan, next_steps

if TYPE_CHECKING:
    from orchestra.domain.history import LostLease, ReleasedClaim

_CHECK_FIELDS = frozenset(CheckResult.model_fields)


def run_report(
    run: TestRun,
    scenario: TestScenario | None,
    results: Sequence[StepResult],
    lost: Sequence[LostLease] = (),
    released: Sequence[ReleasedClaim] = (),
) -> TestRunReport:
    """The run with one step report per scenario step, in position order.

    A step with a result shows it; one without (the run stopped before it) is SKIPPED, except
    BARRIER steps, which are left out unless a lost lease had one in flight (its line names
    it) or they are joins the run was stopped short of (`stopped_joins`). Results of steps the
    scenario no longer lists are kept.
    """
    cleanup = [result for result in results if result.phase == CLEANUP]
    results = [result for result in results if result.phase != CLEANUP]
    by_position = {result.position: result for result in results}
    steps = scenario.steps if scenario is not None else ()
    leases = tuple(lost_lease_report(lease, steps) for lease in lost)
    shown = (
        set(by_position)
        | {p for lease in leases for p in lease.in_flight}
        | stopped_joins(steps, results)
    )
    listed = {step.position for step in steps}
    ahead = _next_elements(steps)
    reports = [
        step_from_result(by_position[step.position], step, ahead.get(step.position))
        if step.position in by_position
        else _never_ran(step, ahead.get(step.position))
        for step in steps
        if step.position in shown or step.kind is not StepKind.BARRIER
    ]
    reports += [step_from_result(r, None) for r in results if r.position not in listed]
    causes = resend_causes(lost, released)
    reports = [_with_cause(report, causes) for report in reports]
    return trusted(
        TestRunReport,
        {
            "id": run.id,
            "scenario": run.scenario_name,
            "data_row_index": run.data_row_index,
            "data_row_label": row_label(run.data_row) if run.data_row_index is not None else None,
            "repeat_index": run.repeat_index,
            "status": run.status,
            "attempts": _attempts(run),
            "error": run.error,
            "queued_at": run.queued_at,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "path": scenario.path if scenario is not None else (),
            "race": _race_note(scenario),
            "steps": tuple(sorted(reports, key=_by_position)),
            "lost_leases": leases,
            "cleanup": cleanup_reports(run, scenario, cleanup),
        },
    )


def _by_position(report: StepReport) -> int:
    return report.position


def cleanup_reports(
    run: TestRun, scenario: TestScenario | None, results: Sequence[StepResult]
) -> tuple[CleanupStepReport, ...]:
    """The run's cleanup results, each named as the runtime named it (worked out again from
    the steps its checkpoint holds done)."""
    planned: dict[int, CleanupStep] = {}
    if scenario is not None and results:
        done = run.execution_context.get("done", {})
        planned = {c.step.position: c for c in cleanup_steps(scenario, scenario.steps, done)}
    reports = []
    for result in results:
        action = planned.get(result.position)
        step = step_from_result(result, action.step if action is not None else None)
        strict = action is not None and action.strict
        reports.append(CleanupStepReport(**step.model_dump(), strict=strict))
    return tuple(sorted(reports, key=lambda report: report.position))


_LABEL_KEYS = ("name", "title", "label", "id", "key", "customer", "user", "username", "email")
_MAX_LABEL = 60


def row_label(row: dict[str, Any]) -> str | None:
    """A data row by a value a person recognizes: its column `name`, `title`, `label`, `id`,
    `key`, `customer`, `user`, `username` or `email` (in any case), else one whose name ends
    in `name` or `id`, else its first text value by column name (a stored row keeps no column
    order) that is not a number or a yes/no written as text (a CSV's values are all text, and
    `Globex` tells a row apart better than `25000` or `no`), else its first text value; None
    when it has no text."""
    by_key = {str(key).lower(): value for key, value in sorted(row.items())}
    chosen = next((by_key[k] for k in _LABEL_KEYS if _scalar(by_key.get(k))), None)
    if chosen is None:
        named = (v for k, v in by_key.items() if k.endswith(("name", "id")) and _scalar(v))
        chosen = next(named, None)
    if chosen is None:
        texts = [v for v in by_key.values() if isinstance(v, str) and v.strip()]
        chosen = next((v for v in texts if not _number_or_yes_no(v)), texts[0] if texts else None)
    if chosen is None:
        return None
    text = str(chosen)
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 3] + "..."


_YES_NO = frozenset({"yes", "no", "y", "n", "true", "false", "on", "off"})


def _number_or_yes_no(text: str) -> bool:
    if text.strip().lower() in _YES_NO:
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and value != ""


def _race_note(scenario: TestScenario | None) -> str | None:
    race = scenario.race if scenario is not None else None
    return str(race["note"]) if race is not None else None


def lost_lease_report(lease: LostLease, steps: Sequence[ScenarioStep]) -> LostLeaseReport:
    """A lost lease with the steps it had in flight: those the run would execute next after
    what it had checkpointed (none known when the scenario is gone or its steps are refused;
    none when a step had failed: the claim was ending the run, and the next try ended it)."""
    done = {int(position) for position in lease.done}
    failed = any(StepStatus(status).run_ending is not None for status in lease.done.values())
    try:
        in_flight = () if failed else tuple(s.position for s in next_steps(build_plan(steps), done))
    except InputRefused:
        in_flight = ()
    return LostLeaseReport(
        attempt=lease.attempt,
        worker=lease.worker,
        heartbeat_at=lease.heartbeat_at,
        expired_at=lease.expired_at,
        noticed_at=lease.noticed_at,
        steps_done=len(done),
        in_flight=in_flight,
    )


def resend_causes(
    lost: Sequence[LostLease], released: Sequence[ReleasedClaim]
) -> dict[int, tuple[ResendCause, str]]:
    """What ended each claim that left a step in flight (claim -> cause, its worker)."""
    causes: dict[int, tuple[ResendCause, str]] = {
        lease.attempt: ("lost_lease", lease.worker) for lease in lost
    }
    causes.update((claim.attempt, (claim.why, claim.worker)) for claim in released)
    return causes


def _with_cause(step: StepReport, causes: dict[int, tuple[ResendCause, str]]) -> StepReport:
    """A re-sent step with what ended the claim it was re-sent after; a lost lease when that
    is not recorded (a re-send meant only that before schema 0013)."""
    if step.resent_after is None:
        return step
    cause, worker = causes.get(step.resent_after, ("lost_lease", None))
    return step.model_copy(update={"resent_cause": cause, "resent_by": worker})


def stopped_joins(steps: Sequence[ScenarioStep], results: Sequence[StepResult]) -> set[int]:
    """Positions of the joins whose branches all passed but which have no result: a step that
    failed elsewhere (on another branch) stopped the run before it joined them, so the join
    was not reached, and is listed SKIPPED like any step after a failure. A join whose own
    branches did not all pass stays out: the step they stopped at says where the run did."""
    passed = {result.position for result in results if result.status is StepStatus.PASSED}
    try:
        plan = build_plan(steps)
    except InputRefused:
        return set()
    stopped: set[int] = set()
    _passed_through(plan, passed, stopped)
    return stopped


def _passed_through(sequence: StepSequence, passed: set[int], stopped: set[int]) -> bool:
    """Whether every step of `sequence` passed, joins included, as the interpreter walks it;
    adds to `stopped` each join whose branches all passed and that did not."""
    for item in sequence.items:
        if not isinstance(item, Block):
            if item.position not in passed:
                return False
            continue
        # every branch walked, a nested join in a later one may have been stopped short too
        branches = [_passed_through(branch, passed, stopped) for branch in item.branches.values()]
        if not all(branches):
            return False
        if item.barrier is not None and item.barrier.position not in passed:
            stopped.add(item.barrier.position)
            return False
    return True


def _attempts(run: TestRun) -> int:
    """Tries, not claims: a run is claimed again after waiting at a shared barrier or a
    worker's drain too; only a lost lease costs it an attempt (a FAILED_STUCK run lost its
    last one as well)."""
    lost = run.lost_leases
    return max(lost if run.status is TestRunStatus.FAILED_STUCK else lost + 1, 1)


def _next_elements(steps: Sequence[ScenarioStep]) -> dict[int, str]:
    """For each main-line step, the element of the next main-line step that has one."""
    found: dict[int, str] = {}
    following: str | None = None
    for step in sorted(steps, key=lambda s: s.position, reverse=True):
        if step.branch:
            continue
        if following is not None:
            found[step.position] = following
        if step.element_id is not None:
            following = step.element_id
    return found


def step_from_result(
    result: StepResult, step: ScenarioStep | None, next_element: str | None = None
) -> StepReport:
    return trusted(
        StepReport,
        {
            "position": result.position,
            "kind": step.kind if step is not None else StepKind.ACTION,
            "element_id": result.element_id,
            "at": barrier_anchor(step, next_element),
            "name": step.name if step is not None else None,
            "branch": result.branch,
            "attempt": result.attempt,
            "status": result.status,
            "started_at": result.started_at,
            "duration_ms": result.duration_ms,
            "request": result.request,
            "response": result.response,
            "command": result.command,
            "checks": tuple(_check(raw) for raw in result.checks),
            "error": result.error,
            "requests": result.attempts,
            "resent_after": result.resent_after,
            "resent_cause": None,
            "resent_by": None,
            "stalled_ms": result.stalled_ms,
        },
    )


def _never_ran(step: ScenarioStep, next_element: str | None = None) -> StepReport:
    return step_report(step, None, next_element=next_element)


def _check(raw: dict[str, Any]) -> CheckResult:
    """A stored check; one that does not fit the model is shown, not dropped."""
    name, passed, message = raw.get("name"), raw.get("passed"), raw.get("message")
    found = raw.get("found", True)
    # as the executor stores it (each value of its field's type): nothing to validate
    if (
        type(name) is str
        and type(passed) is bool
        and type(found) is bool
        and (message is None or type(message) is str)
        and raw.keys() <= _CHECK_FIELDS
    ):
        return trusted(
            CheckResult,
            {
                "name": name,
                "passed": passed,
                "expected": raw.get("expected"),
                "actual": raw.get("actual"),
                "message": message,
                "found": found,
            },
        )
    known = {key: value for key, value in raw.items() if key in _CHECK_FIELDS}
    try:
        return CheckResult.model_validate(known)
    except ValidationError:
        return CheckResult(
            name=str(raw.get("name", "check")),
            passed=bool(raw.get("passed")),
            actual=raw,
            message="stored check in an unexpected shape",
        )
