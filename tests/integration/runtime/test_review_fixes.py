"""Runtime behaviours a review found wanting: fresh shared context, scoped claims, failures that
end a run ERROR instead of sinking it, drains past their deadline, hostile response bytes."""

from __future__ import annotations

import asyncio
import time

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.records import Environment
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepStatus, SuiteRunStatus, TestRunStatus
from orchestra.errors import ConfigurationError
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    step,
    store_suite,
)

FAST = WorkerOptions(concurrency=4, lease_seconds=5, poll_seconds=0.05, sweep_seconds=0.1)


async def test_dependents_on_any_worker_see_the_exports_of_their_dependency(db: Database) -> None:
    dependents = [scenario(f"use{i}", [step(0, "use")], "create") for i in range(6)]
    create = scenario("create", [step(0, "create", sleep=0.3, export={"orderId": "o-7"})])
    suite = await store_suite(db, [create, *dependents])
    executor = ScriptedExecutor()
    suite_run = await running.start_suite_run(db, suite.id)
    # both workers start before the export exists, so both could have cached an empty context
    await running.work_until_done(
        db, suite_run.id, factory_for(executor), workers=2, options=FAST, poll_seconds=0.05
    )
    seen = [c.suite for c in executor.calls if c.position == 0 and c.suite]
    assert len(seen) == 6
    assert all(context == {"orderId": "o-7"} for context in seen)


async def test_work_until_done_runs_only_its_own_suite_run(db: Database) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "a")])])
    other = await running.start_suite_run(db, suite.id)
    mine = await running.start_suite_run(db, suite.id)
    await running.work_until_done(db, mine.id, factory_for(ScriptedExecutor()), options=FAST)
    assert (await running.progress(db, mine.id)).counts == {TestRunStatus.PASSED: 1}
    assert (await running.progress(db, other.id)).counts == {TestRunStatus.QUEUED: 1}


async def test_an_executor_that_cannot_be_built_ends_the_runs_error_not_stuck(
    db: Database,
) -> None:
    async def broken(environment: Environment | None) -> ScriptedExecutor:
        raise ConfigurationError("secret API_TOKEN: the variable is not set")

    suite = await store_suite(db, [scenario("a", [step(0, "a")]), scenario("b", [step(0, "b")])])
    suite_run = await running.start_suite_run(db, suite.id)
    final, _ = await asyncio.wait_for(
        running.work_until_done(db, suite_run.id, broken, options=FAST), timeout=30
    )
    assert final.suite_run.status is SuiteRunStatus.FAILED
    assert final.counts == {TestRunStatus.ERROR: 2}
    async with db.transaction() as uow:
        runs = await uow.runs.test_runs(suite_run.id)
    assert all(r.error == "secret API_TOKEN: the variable is not set" for r in runs)
    assert all(r.attempt == 1 for r in runs)


async def test_a_drain_past_its_deadline_releases_the_late_runs(db: Database) -> None:
    suite = await store_suite(db, [scenario("slow", [step(0, "a"), step(1, "b", sleep=30)])])
    suite_run = await running.start_suite_run(db, suite.id)
    options = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.05, drain_seconds=0.3)
    stop = asyncio.Event()
    worker = Worker(db.pool, factory_for(ScriptedExecutor()), options)
    task = asyncio.create_task(worker.run(stop))
    for _ in range(100):  # until the run is inside its long step
        async with db.transaction() as uow:
            results = await uow.runs.step_results(
                [r.id for r in await uow.runs.test_runs(suite_run.id)]
            )
        if results:
            break
        await asyncio.sleep(0.05)
    stop.set()
    stats = await asyncio.wait_for(task, timeout=10)
    assert (stats.released, stats.lost) == (1, 0)
    async with db.transaction() as uow:
        (run,) = await uow.runs.test_runs(suite_run.id)
    assert run.status is TestRunStatus.QUEUED
    assert run.execution_context["done"] == {"0": "PASSED"}  # its committed progress, kept


async def test_a_response_with_a_nul_character_is_stored_and_sinks_no_other_run(
    db: Database,
) -> None:
    hostile = step(0, "a", response={"note": "a\x00b"})
    suite = await store_suite(
        db,
        [scenario("hostile", [hostile, step(1, "b")])]
        + [scenario(f"s{i}", [step(0, "a"), step(1, "b")]) for i in range(6)],
    )
    suite_run = await running.start_suite_run(db, suite.id)
    final, _ = await running.work_until_done(
        db, suite_run.id, factory_for(ScriptedExecutor()), options=FAST
    )
    assert final.counts == {TestRunStatus.PASSED: 7}
    async with db.transaction() as uow:
        runs = {r.scenario_name: r for r in await uow.runs.test_runs(suite_run.id)}
        (first, _) = await uow.runs.step_results([runs["hostile"].id])
    assert first.response == {"note": "a\ufffdb"}


async def test_with_a_data_set_each_row_sees_the_exports_of_its_own_row(
    db: Database,
) -> None:
    suite = await store_suite(
        db,
        [
            scenario("create", [step(0, "create", export={"orderId": "order-{name}"})]),
            scenario("cancel", [step(0, "cancel", sleep=0.1)], "create"),
        ],
    )
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("people", [{"name": "ann"}, {"name": "bob"}])
    executor = ScriptedExecutor()
    suite_run = await running.start_suite_run(db, suite.id, data_set="people")
    final, _ = await running.work_until_done(
        db, suite_run.id, factory_for(executor), workers=2, options=FAST
    )
    assert final.suite_run.status is SuiteRunStatus.PASSED
    cancels = {c.data["name"]: c.suite for c in executor.calls if c.suite}
    assert cancels == {"ann": {"orderId": "order-ann"}, "bob": {"orderId": "order-bob"}}


class RowExecutor:
    """'create' exports the row's order, or fails before it can for a row that `fails`, once
    the other row's order exists (its run passed, its export stored)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.seen: dict[str, dict[str, object]] = {}

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        name = str(ctx.data["name"])
        started = time.time()
        if step.element_id == "create" and ctx.data.get("fails"):
            await self._a_run_passed(ctx.run.suite_run_id)
            return StepOutcome(status=StepStatus.FAILED, started_at=started, duration_ms=1.0)
        exports = {"orderId": f"order-{name}"} if step.element_id == "create" else {}
        if step.element_id == "cleanup":
            self.seen[name] = dict(ctx.suite)
        return StepOutcome(
            status=StepStatus.PASSED, started_at=started, duration_ms=1.0, exports=exports
        )

    async def aclose(self) -> None:
        pass

    async def _a_run_passed(self, suite_run_id: int) -> None:
        for _ in range(500):  # bounded: 10 s
            if (await running.progress(self.db, suite_run_id)).counts.get(TestRunStatus.PASSED):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"no run of suite run {suite_run_id} passed")


async def test_a_row_never_reads_the_exports_of_another_row(db: Database) -> None:
    # bob's order was never created: his cleanup must not see (and cancel) ann's
    suite = await store_suite(
        db,
        [
            scenario("create", [step(0, "create")]),
            scenario("cleanup", [step(0, "cleanup")], "create", outcome="FAILED"),
        ],
    )
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("people", [{"name": "ann"}, {"name": "bob", "fails": 1}])
    executor = RowExecutor(db)

    async def build(environment: Environment | None) -> RowExecutor:
        return executor

    suite_run = await running.start_suite_run(db, suite.id, data_set="people")
    await running.work_until_done(db, suite_run.id, build, workers=2, options=FAST)

    assert executor.seen == {"bob": {}}
