"""A step's context, built by the interpreter without validation, is the validated one."""

from __future__ import annotations

import asyncio
from typing import cast

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.records import StoredScenario, StoredStep
from orchestra.domain.scenario import ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind, StepStatus
from orchestra.runtime.interpreter import RunEnvironment, RunInterpreter
from orchestra.store.commits import GroupCommitter
from orchestra.store.runs import ClaimedRun


class Passing:
    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        return StepOutcome(status=StepStatus.PASSED, started_at=0.0, duration_ms=0.0)

    async def aclose(self) -> None:
        pass


def _interpreter() -> tuple[RunInterpreter, ScenarioStep]:
    step = ScenarioStep(position=0, kind=StepKind.ACTION, element_id="A")
    scenario = TestScenario(name="S", position=0, path=("A",), steps=(step,))
    stored = StoredScenario(id=1, scenario=scenario, steps=(StoredStep(id=1, step=step),))
    claimed = ClaimedRun(
        id=7, suite_run_id=3, scenario_id=1, data_row_index=2, repeat_index=0,
        data_row={"amount": 10}, attempt=4,
        execution_context={"done": {}, "vars": {"order": 5}, "steps": {"B": {"saved": {}}}},
        suite_context={"token": "t"},
    )  # fmt: skip
    shared = RunEnvironment(executor=Passing(), env={"region": "eu"})
    committer = cast(GroupCommitter, object())  # not called: only the context is built
    return RunInterpreter(claimed, stored, shared, committer, "w", asyncio.Event()), step


def test_the_context_is_what_validation_would_build() -> None:
    interpreter, step = _interpreter()

    built = interpreter._context(step, stalled_ms=12.5)

    validated = StepContext(
        run=interpreter.identity,
        data={"amount": 10},
        vars={"order": 5},
        steps={"B": {"saved": {}}},
        suite={"token": "t"},
        env={"region": "eu"},
        stalled_ms=12.5,
    )
    assert built == validated
    assert built.model_fields_set == set(StepContext.model_fields)
    assert built.model_dump() == validated.model_dump()


def test_the_context_holds_the_run_state_as_of_the_step_start() -> None:
    interpreter, step = _interpreter()
    built = interpreter._context(step)

    interpreter.state.vars["order"] = 6  # a concurrent branch saves a value meanwhile
    interpreter.state.steps["C"] = {"status": "passed"}
    interpreter.suite_context["token"] = "u"

    assert built.vars == {"order": 5}
    assert set(built.steps) == {"B"}
    assert built.suite == {"token": "t"}
