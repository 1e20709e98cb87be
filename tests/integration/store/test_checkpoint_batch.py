"""`checkpoint_many`: a group commit's checkpoints in one statement, each fenced by its lease."""

from __future__ import annotations

import time
from dataclasses import replace

from orchestra.domain.execution import StepOutcome
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.services import running
from orchestra.store.database import Database
from orchestra.store.runs import Checkpoint, Completion, Written
from tests.integration.runtime.support import expire_leases, scenario, step, store_suite


def checkpoint(run_id: int, attempt: int, s: ScenarioStep, context: dict[str, str]) -> Checkpoint:
    outcome = StepOutcome(
        status=StepStatus.PASSED,
        started_at=time.time(),
        duration_ms=1.0,
        response={"status": 200, "json": {"id": run_id}},
    )
    return Checkpoint(run_id, "worker-a", attempt, None, s, outcome, context)


async def test_a_batch_writes_the_runs_still_held_and_nothing_of_a_lost_one(
    db: Database,
) -> None:
    steps = [step(0, "a"), step(1, "b")]
    suite = await store_suite(db, [scenario("one", steps), scenario("two", steps)])
    await running.start_suite_run(db, suite.id)
    async with db.transaction() as uow:
        held, lost = await uow.runs.claim("worker-a", 2, lease_seconds=30)
    await expire_leases(db)  # both leases expire; worker-a keeps one, worker-b takes the other
    async with db.transaction() as uow:
        renewal = await uow.runs.heartbeat("worker-a", {held.id: held.attempt}, 30)
        assert renewal.kept == {held.id}
        (taken,) = await uow.runs.claim("worker-b", 1, lease_seconds=30)
    assert taken.id == lost.id
    batch = [
        checkpoint(held.id, held.attempt, steps[0], {"done": "0"}),
        checkpoint(lost.id, lost.attempt, steps[0], {"done": "0"}),
        checkpoint(held.id, held.attempt, steps[1], {"done": "0,1"}),
    ]

    async with db.transaction() as uow:
        written = await uow.runs.checkpoint_many(batch)
        results = await uow.runs.step_results([held.id, lost.id])
        held_now = await uow.runs.test_run(held.id)
        lost_now = await uow.runs.test_run(lost.id)

    assert written == [True, False, True]
    assert sorted((r.test_run_id, r.position) for r in results) == [(held.id, 0), (held.id, 1)]
    assert [(r.request, r.response) for r in results] == [(None, batch[0].outcome.response)] * 2
    assert held_now is not None
    assert held_now.execution_context == {"done": "0,1"}
    assert lost_now is not None
    assert lost_now.execution_context != {"done": "0"}
    assert lost_now.locked_by == "worker-b"


async def test_a_completion_in_a_batch_ends_its_run_with_its_last_step_only_if_still_held(
    db: Database,
) -> None:
    steps = [step(0, "a")]
    suite = await store_suite(db, [scenario("one", steps), scenario("two", steps)])
    suite_run = await running.start_suite_run(db, suite.id)
    async with db.transaction() as uow:
        held, lost = await uow.runs.claim("worker-a", 2, lease_seconds=30)
    await expire_leases(db)
    async with db.transaction() as uow:
        renewal = await uow.runs.heartbeat("worker-a", {held.id: held.attempt}, 30)
        assert renewal.kept == {held.id}
        (taken,) = await uow.runs.claim("worker-b", 1, lease_seconds=30)
    assert taken.id == lost.id
    done = {"done": {"0": "PASSED"}, "outcome": {"status": "PASSED", "error": None}}
    batch = [
        Completion(
            held.id, "worker-a", held.attempt, TestRunStatus.PASSED, None, done,
            final=checkpoint(held.id, held.attempt, steps[0], {}),
        ),
        Completion(lost.id, "worker-a", lost.attempt, TestRunStatus.FAILED, "late", done),
    ]  # fmt: skip

    async with db.transaction() as uow:
        written = await uow.runs.write_many(batch)
        results = await uow.runs.step_results([held.id, lost.id])
        held_now = await uow.runs.test_run(held.id)
        lost_now = await uow.runs.test_run(lost.id)
        suite_run_now = await uow.runs.get(suite_run.id)

    assert written == [Written(suite_run.id, 1), None]
    assert [(r.test_run_id, r.position) for r in results] == [(held.id, 0)]
    assert held_now is not None
    assert lost_now is not None
    assert suite_run_now is not None
    assert (held_now.status, held_now.execution_context) == (TestRunStatus.PASSED, done)
    assert held_now.finished_at is not None
    assert held_now.lock_until is None
    assert (lost_now.status, lost_now.locked_by, lost_now.error) == (
        TestRunStatus.RUNNING, "worker-b", None
    )  # fmt: skip
    assert suite_run_now.unfinished == 1


async def test_a_stale_checkpoint_after_the_live_one_in_a_batch_does_not_hide_it(
    db: Database,
) -> None:
    # Workers of one process share a group committer: the worker whose lease ran out may
    # queue a last checkpoint of the run right after the one of the worker that took it over.
    steps = [step(0, "a"), step(1, "b")]
    suite = await store_suite(db, [scenario("one", steps)])
    await running.start_suite_run(db, suite.id)
    async with db.transaction() as uow:
        (stale,) = await uow.runs.claim("worker-a", 1, lease_seconds=30)
    await expire_leases(db)
    async with db.transaction() as uow:
        (live,) = await uow.runs.claim("worker-b", 1, lease_seconds=30)
    batch = [
        replace(checkpoint(live.id, live.attempt, steps[0], {"done": "0"}), worker="worker-b"),
        checkpoint(stale.id, stale.attempt, steps[1], {"done": "0,1"}),
    ]

    async with db.transaction() as uow:
        written = await uow.runs.checkpoint_many(batch)
        results = await uow.runs.step_results([live.id])
        run = await uow.runs.test_run(live.id)

    assert written == [True, False]
    assert [(r.position, r.attempt) for r in results] == [(0, live.attempt)]
    assert run is not None
    assert run.execution_context == {"done": "0"}
