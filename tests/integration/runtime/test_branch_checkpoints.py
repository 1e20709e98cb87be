"""The checkpoints of a run's parallel branches never undo each other: what the run's execution
context holds done (what a worker resumes from after a crash) always includes every step whose
result is stored, whichever of the group committer's transactions commits first."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import psycopg

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.records import Environment
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepStatus, SuiteRunStatus, TestRunStatus
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import running
from orchestra.store.commits import GroupCommitter
from orchestra.store.database import Database
from orchestra.store.runs import RunRepository
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    join,
    lock_waiters,
    scenario,
    step,
    store_suite,
)

OPTIONS = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.05, sweep_seconds=0.1)


class RolledBackOnce:
    """A write that shares a batch with branch 1's checkpoint and whose transaction the server
    rolls back for a deadlock (as with a heartbeat, which locks the same rows in another
    order) once another transaction waits for the batch's locks; applied again, it passes."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, repo: RunRepository) -> None:
        self.calls += 1
        if self.calls > 1:
            return
        for _ in range(100):  # until branch 2's checkpoint waits for this batch's lock
            if await lock_waiters(repo.conn):
                break
            await asyncio.sleep(0.01)
        raise psycopg.errors.DeadlockDetected("deadlock detected")


class BranchExecutor:
    """'ship' (branch 1) is done at once, its checkpoint batched with a `RolledBackOnce`;
    'charge' (branch 2) takes a moment; 'invoice', after 'ship', waits until `go_on`."""

    def __init__(self, committer: GroupCommitter) -> None:
        self.committer = committer
        self.conflict = RolledBackOnce()
        self.go_on = asyncio.Event()
        self.conflicting: asyncio.Task[None] | None = None

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        started = time.time()
        if step.element_id == "ship":  # queued just before ship's checkpoint: the same batch
            self.conflicting = asyncio.create_task(self.committer.submit(self.conflict))
        elif step.element_id == "charge":
            await asyncio.sleep(0.2)
        elif step.element_id == "invoice":
            await asyncio.wait_for(self.go_on.wait(), timeout=30)
        return StepOutcome(status=StepStatus.PASSED, started_at=started, duration_ms=1.0)

    async def aclose(self) -> None:
        pass


async def test_a_branch_checkpoint_committed_again_after_a_conflict_keeps_the_other_branch(
    db: Database,
) -> None:
    steps = [
        step(0, "open"),
        step(1, "ship", "/G#1"),
        step(2, "invoice", "/G#1"),
        step(3, "charge", "/G#2"),
        join(4, ["/G#1", "/G#2"]),
        step(5, "close"),
    ]
    suite = await store_suite(db, [scenario("s", steps)])
    suite_run = await running.start_suite_run(db, suite.id)
    stop = asyncio.Event()
    async with GroupCommitter(db.pool) as committer:
        executor = BranchExecutor(committer)

        async def build(environment: Environment | None) -> BranchExecutor:
            return executor

        options = replace(OPTIONS, suite_run_id=suite_run.id)
        worker = asyncio.create_task(Worker(db.pool, build, options, committer=committer).run(stop))
        for _ in range(300):  # until ship's batch was applied again and charge's committed
            if executor.conflicting is not None and executor.conflicting.done():
                async with db.transaction() as uow:
                    (run,) = await uow.runs.test_runs(suite_run.id)
                    stored = {r.position for r in await uow.runs.step_results([run.id])}
                if 3 in stored:
                    break
            await asyncio.sleep(0.02)
        # while 'invoice' runs: a worker resuming now would start from this (read once charge's
        # result is seen stored: its checkpoint may have committed between the two reads above)
        async with db.transaction() as uow:
            (run,) = await uow.runs.test_runs(suite_run.id)
        done = set(run.execution_context["done"])
        executor.go_on.set()
        for _ in range(300):
            if (await running.progress(db, suite_run.id)).suite_run.status.is_terminal:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(worker, timeout=30)

    assert executor.conflict.calls == 2  # rolled back once, then applied
    assert stored == {0, 1, 3}
    assert done == {"0", "1", "3"}, "a step whose result is stored is not held done"
    final = await running.progress(db, suite_run.id)
    assert final.suite_run.status is SuiteRunStatus.PASSED


async def test_a_nested_join_is_not_recorded_when_a_failure_elsewhere_stopped_its_branches(
    db: Database,
) -> None:
    # /G#1 fails while both branches of H (nested in /G#2) are mid-request; they stop after
    # it, H#1 short of "confirm": H's join was not reached and must not be recorded PASSED
    steps = [
        step(0, "open"),
        step(1, "pay", "/G#1", sleep=0.1, result="FAILED"),
        step(2, "pick", "/G#2/H#1", sleep=0.4),
        step(3, "confirm", "/G#2/H#1"),
        step(4, "pack", "/G#2/H#2", sleep=0.4),
        join(5, ["/G#2/H#1", "/G#2/H#2"], branch="/G#2"),
        step(6, "label", "/G#2"),
        join(7, ["/G#1", "/G#2"]),
        step(8, "close"),
    ]
    suite = await store_suite(db, [scenario("s", steps)])
    suite_run = await running.start_suite_run(db, suite.id)
    executor = ScriptedExecutor()
    final, _ = await asyncio.wait_for(
        running.work_until_done(db, suite_run.id, factory_for(executor), options=OPTIONS),
        timeout=30,
    )

    assert final.counts == {TestRunStatus.FAILED: 1}
    assert sorted(call.position for call in executor.calls) == [0, 1, 2, 4]
    async with db.transaction() as uow:
        (run,) = await uow.runs.test_runs(suite_run.id)
        results = await uow.runs.step_results([run.id])
    assert [(r.position, r.status) for r in results] == [
        (0, StepStatus.PASSED),
        (1, StepStatus.FAILED),
        (2, StepStatus.PASSED),
        (4, StepStatus.PASSED),
    ]
    assert run.error == "pay: scripted FAILED"
