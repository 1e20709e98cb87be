"""Resuming a run claimed again: one whose checkpoint holds a failed step (its lease was lost,
or it was drained, before its completion committed) ends with that failure, executing nothing
after it; a step before branches that never join keeps its result."""

from __future__ import annotations

import asyncio
import time

from orchestra.domain.execution import StepOutcome
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import reporting, running
from orchestra.store.database import Database
from orchestra.store.runs import Checkpoint
from tests.integration.runtime.support import (
    ScriptedExecutor,
    expire_leases,
    factory_for,
    join,
    scenario,
    step,
    store_suite,
    until,
)

OPTIONS = WorkerOptions(poll_seconds=0.05)


async def test_a_run_claimed_again_after_its_step_failed_ends_failed_not_passed(
    db: Database,
) -> None:
    suite = await store_suite(
        db, [scenario("s", [step(0, "pay"), step(1, "ship"), step(2, "notify")])]
    )
    suite_run = await running.start_suite_run(db, suite.id)
    stored = suite.scenarios[0]
    async with db.transaction() as uow:
        (first,) = await uow.runs.claim("worker-a", 1, lease_seconds=30)
        failed = Checkpoint(
            test_run_id=first.id,
            worker="worker-a",
            attempt=first.attempt,
            step_id=stored.steps[0].id,
            step=stored.steps[0].step,
            outcome=StepOutcome(
                status=StepStatus.FAILED,
                started_at=time.time(),
                duration_ms=1.0,
                error="status 500, 200 expected",
            ),
            execution_context={"done": {"0": "FAILED"}},
        )
        assert await uow.runs.checkpoint(failed)
    await expire_leases(db)  # worker-a dies before its completion commits: the lease runs out
    executor = ScriptedExecutor()
    await running.work_until_done(db, suite_run.id, factory_for(executor), options=OPTIONS)

    assert [call.position for call in executor.calls] == []
    report = await reporting.load_report(db, suite_run.id)
    (run,) = report.test_runs
    assert run.status is TestRunStatus.FAILED
    assert run.error is not None
    assert run.error.startswith("pay: FAILED")
    assert [step.status.value for step in run.steps] == ["FAILED", "SKIPPED", "SKIPPED"]
    (lease,) = run.lost_leases
    assert lease.in_flight == ()  # it was ending the run: nothing was executed again


async def drained_then_resumed(
    db: Database, steps: list[ScenarioStep], resumed_by: ScriptedExecutor
) -> int:
    """A suite run of one scenario of `steps` (a main-line step, then two branches): a worker
    drained once inside both branches' first steps (its run released), then another, executing
    with `resumed_by`, until it ends. Its id."""
    suite = await store_suite(db, [scenario("s", steps)])
    suite_run = await running.start_suite_run(db, suite.id)
    options = WorkerOptions(lease_seconds=5, poll_seconds=0.05, drain_seconds=5)
    drained = ScriptedExecutor()
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(db.pool, factory_for(drained), options).run(stop))
    await until(lambda: len(drained.calls) == 3, "the run is inside both branches' first steps")
    stop.set()
    assert (await asyncio.wait_for(task, timeout=10)).released == 1
    await running.work_until_done(db, suite_run.id, factory_for(resumed_by), options=options)
    return suite_run.id


async def test_a_main_line_step_before_branches_that_never_join_is_recorded_when_resumed(
    db: Database,
) -> None:
    steps = [
        step(0, "open"),
        step(1, "ship", "/G#1", sleep=0.3),
        step(2, "invoice", "/G#1"),
        step(3, "notify", "/G#2", sleep=0.3),
    ]  # the branches end at their own end events: no barrier
    suite_run_id = await drained_then_resumed(db, steps, ScriptedExecutor())

    report = await reporting.load_report(db, suite_run_id)
    (run,) = report.test_runs
    assert run.status is TestRunStatus.PASSED
    assert [(s.position, s.status.value) for s in run.steps] == [
        (0, "PASSED"),
        (1, "PASSED"),
        (2, "PASSED"),
        (3, "PASSED"),
    ]


async def test_a_run_drained_while_one_branch_failed_ends_failed_when_resumed(
    db: Database,
) -> None:
    steps = [
        step(0, "open"),
        step(1, "ship", "/G#1", sleep=0.3),
        step(2, "invoice", "/G#1"),
        step(3, "charge", "/G#2", sleep=0.45, result="FAILED"),
        join(4, ["/G#1", "/G#2"]),
        step(5, "close"),
    ]
    executor = ScriptedExecutor()
    # ship ends first and stops for the drain; charge then ends FAILED
    suite_run_id = await drained_then_resumed(db, steps, executor)

    assert executor.calls == []
    (run,) = (await reporting.load_report(db, suite_run_id)).test_runs
    assert run.status is TestRunStatus.FAILED
    assert run.error == "charge: FAILED, recorded before the run was claimed again"
