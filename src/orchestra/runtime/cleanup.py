"""What a run cleans up once its scenario ends, and what that does to its verdict (pure).

The cleanup of a run is, in order: the `undo` of each task step the SUT answered (PASSED or
FAILED; a step in ERROR may never have reached it), the last one first, then the scenario's
`cleanup` actions as written. Each is an ACTION step of its own, numbered from 0 in that
order (its `position` in the cleanup phase), marked `meta["phase"] = "cleanup"`. The list
depends only on the scenario and the steps done, which the checkpoint holds: a resumed run
works out the same list and skips those its checkpoint says ran (`execution_context
["cleanup"]`, position -> status).

An undo sees what its task saw (`data.*`) and everything the run saved (`vars.*`, `steps.*`).
A cleanup that does not pass changes the verdict only when it is `strict` and the run had
passed: the run then ends as the cleanup did (FAILED or ERROR), naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestra.domain.scenario import ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind, StepStatus, TestRunStatus

CLEANUP = "cleanup"  # the phase of a step result of the cleanup (`step_result.phase`)
_ANSWERED = frozenset({StepStatus.PASSED.value, StepStatus.FAILED.value})


@dataclass(frozen=True, slots=True)
class CleanupStep:
    """One undo or cleanup action of a run, as a step the executor runs."""

    step: ScenarioStep
    strict: bool

    @property
    def key(self) -> str:
        return str(self.step.position)


def cleanup_steps(
    scenario: TestScenario, steps: Sequence[ScenarioStep], done: Mapping[str, str]
) -> list[CleanupStep]:
    """The undo actions of the task steps done and answered (last first), then the
    scenario's cleanup actions."""
    undone = sorted(
        (
            step
            for step in steps
            if step.kind is StepKind.ACTION
            and "undo" in step.spec
            and done.get(str(step.position)) in _ANSWERED
        ),
        key=lambda s: s.position,
        reverse=True,
    )
    found = [_undo(position, step) for position, step in enumerate(undone)]
    for spec in scenario.cleanup:
        found.append(_scenario_cleanup(len(found), spec, scenario.data))
    return found


def may_clean_up(scenario: TestScenario, steps: Iterable[ScenarioStep]) -> bool:
    """Whether a run of `scenario` may have any cleanup step (see `cleanup_steps`): an undo
    on one of its action steps, or cleanup actions."""
    return bool(scenario.cleanup) or any(
        step.kind is StepKind.ACTION and "undo" in step.spec for step in steps
    )


def _undo(position: int, task: ScenarioStep) -> CleanupStep:
    spec = dict(task.spec["undo"])
    for inherited in ("given", "data"):  # the task's data namespace
        if task.spec.get(inherited):
            spec[inherited] = task.spec[inherited]
    label = task.name or task.element_id or f"step {task.position}"
    return _cleanup_step(position, task.element_id, f"undo {label}", spec)


def _scenario_cleanup(position: int, spec: dict[str, Any], given: dict[str, Any]) -> CleanupStep:
    spec = dict(spec)
    if given:
        spec["given"] = given
    return _cleanup_step(position, None, str(spec.pop("name", f"cleanup {position}")), spec)


def _cleanup_step(
    position: int, element_id: str | None, name: str, spec: dict[str, Any]
) -> CleanupStep:
    strict = bool(spec.pop("strict", False))
    step = ScenarioStep(
        position=position,
        kind=StepKind.ACTION,
        element_id=element_id,
        name=name,
        spec=spec,
        meta={"phase": CLEANUP, "strict": strict},
    )
    return CleanupStep(step=step, strict=strict)


def verdict(
    status: TestRunStatus,
    error: str | None,
    ran: Sequence[tuple[CleanupStep, StepStatus, str | None]],
) -> tuple[TestRunStatus, str | None]:
    """The run's status and error once its cleanup ran (each action with its status and
    error): a passed run ends as its first strict cleanup that did not pass."""
    if status is not TestRunStatus.PASSED:
        return status, error
    for cleanup, outcome, why in ran:
        ending = outcome.run_ending
        if cleanup.strict and ending is not None:
            return ending, f"strict cleanup did not pass: {why or cleanup.step.name}"
    return status, error
