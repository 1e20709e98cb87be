"""A run's checkpointed state: what a step's result adds, and what a checkpoint holds."""

from __future__ import annotations

from orchestra.domain.execution import StepOutcome
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind, StepStatus
from orchestra.runtime.interpreter import RunState


def _step(position: int, element_id: str) -> ScenarioStep:
    return ScenarioStep(position=position, kind=StepKind.ACTION, element_id=element_id)


def _outcome(saved: dict[str, int]) -> StepOutcome:
    return StepOutcome(
        status=StepStatus.PASSED, started_at=0.0, duration_ms=1.0,
        response={"status": 200, "json": saved}, saved=saved,
    )  # fmt: skip


def test_a_checkpoint_holds_each_steps_view_without_its_response() -> None:
    state = RunState()
    state.note(_step(0, "Create"), _outcome({"id": 5}))
    state.note(_step(1, "Read"), _outcome({}))

    snapshot = state.snapshot()

    assert snapshot["done"] == {"0": "PASSED", "1": "PASSED"}
    assert snapshot["vars"] == {"id": 5}
    assert snapshot["steps"] == {
        "Create": {"status": "PASSED", "saved": {"id": 5}},
        "Read": {"status": "PASSED", "saved": {}},
    }
    assert state.steps["Create"]["response"] == {"status": 200, "json": {"id": 5}}


def test_a_snapshot_does_not_change_with_later_steps() -> None:
    state = RunState()
    state.note(_step(0, "Create"), _outcome({"id": 5}))
    before = state.snapshot()

    state.note(_step(1, "Create"), _outcome({"id": 6}))

    assert before["steps"] == {"Create": {"status": "PASSED", "saved": {"id": 5}}}
    assert before["vars"] == {"id": 5}
    assert before["done"] == {"0": "PASSED"}


def test_a_resumed_state_checkpoints_what_it_was_loaded_from() -> None:
    raw = {
        "done": {"0": "PASSED"},
        "vars": {"id": 5},
        "steps": {"Create": {"status": "PASSED", "saved": {"id": 5}}},
        "outcome": None,
    }

    state = RunState.load(raw, {"Create": {"status": 201}})

    assert state.steps["Create"]["response"] == {"status": 201}
    assert state.snapshot() == raw
