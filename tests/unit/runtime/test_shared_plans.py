"""The runs of a suite run share each scenario's plan, worked out once per scenario loaded."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.records import StoredScenario, StoredStep
from orchestra.domain.scenario import ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind, StepStatus
from orchestra.runtime.interpreter import RunEnvironment, RunInterpreter
from orchestra.runtime.plan import all_steps
from orchestra.store.commits import GroupCommitter
from orchestra.store.runs import ClaimedRun


class Passing:
    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        return StepOutcome(status=StepStatus.PASSED, started_at=0.0, duration_ms=0.0)

    async def aclose(self) -> None:
        pass


def _scenario(*element_ids: str) -> StoredScenario:
    steps = [
        ScenarioStep(position=i, kind=StepKind.ACTION, element_id=element_id)
        for i, element_id in enumerate(element_ids)
    ]
    scenario = TestScenario(name="S", position=0, path=element_ids, steps=tuple(steps))
    return StoredScenario(
        id=1, scenario=scenario, steps=tuple(StoredStep(id=i, step=s) for i, s in enumerate(steps))
    )


def _interpreter(scenario: StoredScenario, shared: RunEnvironment) -> RunInterpreter:
    claimed = ClaimedRun(
        id=1, suite_run_id=1, scenario_id=scenario.id, data_row_index=None, repeat_index=0,
        data_row={}, attempt=1, execution_context={}, suite_context={},
    )  # fmt: skip
    committer = cast(GroupCommitter, object())  # not called: only the plan is looked at
    return RunInterpreter(claimed, scenario, shared, committer, "w", asyncio.Event())


def _plan_ids(interpreter: RunInterpreter) -> list[Any]:
    plan, last = interpreter._plan()
    return [[s.element_id for s in all_steps(plan)], last]


def test_a_scenario_loaded_anew_under_the_same_id_gets_its_own_plan() -> None:
    shared = RunEnvironment(executor=Passing(), env={})
    first, again = _scenario("A", "B"), _scenario("A", "B", "C")

    assert _plan_ids(_interpreter(first, shared)) == [["A", "B"], 1]
    assert _plan_ids(_interpreter(first, shared)) == [["A", "B"], 1]
    assert _plan_ids(_interpreter(again, shared)) == [["A", "B", "C"], 2]
