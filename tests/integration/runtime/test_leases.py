"""Leases: fencing of every write, the reaper, graceful draining, resuming from a checkpoint."""

from __future__ import annotations

import asyncio
import time

from orchestra.domain.execution import StepOutcome
from orchestra.domain.statuses import StepStatus, SuiteRunStatus, TestRunStatus
from orchestra.runtime.sweeper import sweep
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database
from orchestra.store.runs import Checkpoint
from tests.integration.runtime.support import (
    ScriptedExecutor,
    expire_leases,
    factory_for,
    scenario,
    step,
    store_suite,
    until,
)


def outcome() -> StepOutcome:
    return StepOutcome(status=StepStatus.PASSED, started_at=time.time(), duration_ms=1.0)


async def test_a_worker_that_lost_its_lease_can_write_nothing(db: Database) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "a"), step(1, "b")])])
    suite_run = await running.start_suite_run(db, suite.id)
    async with db.transaction() as uow:
        (first,) = await uow.runs.claim("worker-a", 1, lease_seconds=30)
    await expire_leases(db)  # worker-a is paused past its lease
    async with db.transaction() as uow:
        (second,) = await uow.runs.claim("worker-b", 1, lease_seconds=30)
    assert second.id == first.id
    assert second.attempt == first.attempt + 1
    stale = Checkpoint(
        test_run_id=first.id,
        worker="worker-a",
        attempt=first.attempt,
        step_id=None,
        step=suite.scenarios[0].scenario.steps[0],
        outcome=outcome(),
        execution_context={"done": {"0": "PASSED"}, "by": "a"},
    )
    async with db.transaction() as uow:
        assert await uow.runs.checkpoint(stale) is False
        assert (
            await uow.runs.complete(
                first.id, "worker-a", first.attempt, TestRunStatus.PASSED, None, {}
            )
            is None
        )
        assert await uow.runs.release(first.id, "worker-a", first.attempt, {}) is False
        renewal = await uow.runs.heartbeat("worker-a", {first.id: first.attempt}, 30)
        assert renewal.kept == set()
        current = await uow.runs.step_results([first.id])
        run = await uow.runs.test_run(first.id)
    assert current == []
    assert run is not None
    assert run.locked_by == "worker-b"
    assert run.status is TestRunStatus.RUNNING
    assert run.lost_leases == 1
    assert suite_run.id == run.suite_run_id


async def test_a_run_whose_lease_keeps_expiring_becomes_failed_stuck(db: Database) -> None:
    suite = await store_suite(
        db, [scenario("hangs", [step(0, "a")]), scenario("ok", [step(0, "b")])]
    )
    suite_run = await running.start_suite_run(db, suite.id, max_attempts=2)
    async with db.transaction() as uow:
        claimed = await uow.runs.claim("w1", 1, lease_seconds=30)
    await expire_leases(db)
    async with db.transaction() as uow:
        again = await uow.runs.claim("w2", 1, lease_seconds=30)
    assert [c.id for c in again] == [c.id for c in claimed]  # one retry is allowed
    await expire_leases(db)
    async with db.transaction() as uow:
        third = await uow.runs.claim("w3", 5, lease_seconds=30)
    assert claimed[0].id not in [c.id for c in third]  # no attempt left: not claimable
    async with db.pool.connection() as conn:
        assert await sweep(conn)
    async with db.transaction() as uow:
        stuck = await uow.runs.test_run(claimed[0].id)
    assert stuck is not None
    assert stuck.status is TestRunStatus.FAILED_STUCK
    assert stuck.error is not None
    assert "lease lost 2 times" in stuck.error
    assert "w2" in stuck.error
    # the rest of the suite carries on: w3 stops too, the other run completes elsewhere once
    # its lease has run out, and the suite run closes
    await expire_leases(db, *(c.id for c in third))
    await running.work_until_done(
        db, suite_run.id, factory_for(ScriptedExecutor()), options=WorkerOptions(poll_seconds=0.05)
    )
    final = await running.progress(db, suite_run.id)
    assert final.suite_run.status is SuiteRunStatus.FAILED
    assert final.counts == {TestRunStatus.FAILED_STUCK: 1, TestRunStatus.PASSED: 1}


async def test_a_draining_worker_releases_its_runs_and_another_resumes_them(db: Database) -> None:
    steps = [step(0, "a", sleep=0.3), step(1, "b", sleep=0.3), step(2, "c")]
    suite = await store_suite(db, [scenario(f"s{i}", steps) for i in range(4)])
    suite_run = await running.start_suite_run(db, suite.id)
    first_executor = ScriptedExecutor()
    options = WorkerOptions(concurrency=4, lease_seconds=5, poll_seconds=0.05, drain_seconds=5)
    stop = asyncio.Event()
    worker = Worker(db.pool, factory_for(first_executor), options)
    task = asyncio.create_task(worker.run(stop))
    await until(lambda: len(first_executor.calls) == 4, "every run is inside its first step")
    stop.set()
    stats = await asyncio.wait_for(task, timeout=10)
    assert stats.released == 4
    assert first_executor.closed
    progress = await running.progress(db, suite_run.id)
    assert progress.counts == {TestRunStatus.QUEUED: 4}
    second_executor = ScriptedExecutor()
    await running.work_until_done(db, suite_run.id, factory_for(second_executor), options=options)
    final = await running.progress(db, suite_run.id)
    assert final.counts == {TestRunStatus.PASSED: 4}
    # the first step completed before the drain; the second worker resumed after it
    assert {c.position for c in second_executor.calls} == {1, 2}
    # its templates see the first step's response, though checkpoints do not carry responses
    resumed = [c for c in second_executor.calls if c.position == 1]
    assert [c.steps["a"] for c in resumed] == [
        {"status": "PASSED", "response": {"step": "a"}, "saved": {}}
    ] * 4
    async with db.transaction() as uow:
        runs = await uow.runs.test_runs(suite_run.id)
        results = await uow.runs.step_results([r.id for r in runs])
    assert len(results) == 12
    assert all("response" not in view for view in runs[0].execution_context["steps"].values())
    assert {(r.position, r.attempt) for r in results if r.test_run_id == runs[0].id} == {
        (0, 1),
        (1, 2),
        (2, 2),
    }
