"""A suite run that repeats every run (`orchestra test --repeat N`): each repeat is a run of
its own, with its own dependencies, its own share of the suite run's context and its own
shared barriers."""

from __future__ import annotations

import asyncio

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import SuiteRunStatus, TestRunStatus
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database
from orchestra.store.runs import RunSelection
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    shared_barrier,
    step,
    store_suite,
)

FAST = WorkerOptions(concurrency=8, lease_seconds=5, poll_seconds=0.05, sweep_seconds=0.1)


class ExportingRunIds(ScriptedExecutor):
    """Exports `orderId` as the run's own id where a step's spec says `export_run`."""

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        outcome = await super().execute(step, ctx)
        if not step.spec.get("export_run"):
            return outcome
        return outcome.model_copy(update={"exports": {"orderId": ctx.run.test_run_id}})


async def _run(db: Database, suite_id: int, executor: ScriptedExecutor, **kwargs: object) -> int:
    suite_run = await running.start_suite_run(db, suite_id, **kwargs)  # type: ignore[arg-type]
    await asyncio.wait_for(
        running.work_until_done(db, suite_run.id, factory_for(executor), options=FAST),
        timeout=30,
    )
    return suite_run.id


async def test_each_repeat_waits_for_and_reads_the_exports_of_its_own_repeat_only(
    db: Database,
) -> None:
    suite = await store_suite(
        db,
        [
            scenario("create", [step(0, "create", sleep=0.1, export_run=True)]),
            scenario("cancel", [step(0, "cancel")], "create"),
        ],
    )
    executor = ExportingRunIds()
    suite_run_id = await _run(db, suite.id, executor, selection=RunSelection(repeat=3))
    async with db.transaction() as uow:
        runs = await uow.runs.test_runs(suite_run_id)
        final = await uow.runs.get(suite_run_id)
    assert final is not None
    assert final.status is SuiteRunStatus.PASSED
    assert sorted((r.scenario_name, r.repeat_index) for r in runs) == [
        (name, repeat) for name in ("cancel", "create") for repeat in range(3)
    ]
    create_of = {r.repeat_index: r.id for r in runs if r.scenario_name == "create"}
    calls = {call.test_run_id: call for call in executor.calls}
    for run in runs:
        if run.scenario_name == "cancel":
            call = calls[run.id]
            assert call.suite == {"orderId": create_of[run.repeat_index]}
            assert call.started >= calls[create_of[run.repeat_index]].ended


async def test_a_shared_barrier_is_met_by_the_parties_of_one_repeat(db: Database) -> None:
    suite = await store_suite(
        db,
        [
            scenario("early", [step(0, "a"), shared_barrier(1, "sync", 2, 10), step(2, "after")]),
            scenario("late", [step(0, "b", sleep=0.5), shared_barrier(1, "sync", 2, 10)]),
        ],
    )
    executor = ScriptedExecutor()
    suite_run_id = await _run(db, suite.id, executor, selection=RunSelection(repeat=2))
    async with db.transaction() as uow:
        runs = await uow.runs.test_runs(suite_run_id)
    assert {r.status for r in runs} == {TestRunStatus.PASSED}
    by_key = {(r.scenario_name, r.repeat_index): r.id for r in runs}
    for repeat in range(2):
        late_b = next(c for c in executor.calls if c.test_run_id == by_key[("late", repeat)])
        after = next(
            c
            for c in executor.calls
            if c.test_run_id == by_key[("early", repeat)] and c.position == 2
        )
        assert after.started >= late_b.ended


async def test_a_selection_keeps_the_scenarios_and_data_rows_named(db: Database) -> None:
    suite = await store_suite(db, [scenario("a", [step(0, "a")]), scenario("b", [step(0, "b")])])
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("people", [{"name": "Ann"}, {"name": "Bob"}])
    executor = ScriptedExecutor()
    selection = RunSelection(scenarios=frozenset({"b"}), row_indexes=(1,), repeat=2)
    suite_run_id = await _run(db, suite.id, executor, data_set="people", selection=selection)
    async with db.transaction() as uow:
        runs = await uow.runs.test_runs(suite_run_id)
    assert [(r.scenario_name, r.data_row_index, r.repeat_index) for r in runs] == [
        ("b", 1, 0),
        ("b", 1, 1),
    ]
    assert [c.data for c in executor.calls] == [{"name": "Bob"}, {"name": "Bob"}]
