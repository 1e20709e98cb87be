"""A shared barrier that timed out is broken for every party: one arriving after the timeout
fails as the parties that waited did, instead of passing a barrier they gave up on."""

from __future__ import annotations

import asyncio

from orchestra.domain.statuses import SuiteRunStatus, TestRunStatus
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    shared_barrier,
    step,
    store_suite,
)

OPTIONS = WorkerOptions(concurrency=4, lease_seconds=5, poll_seconds=0.05, sweep_seconds=0.1)


async def test_a_party_arriving_after_the_barrier_timed_out_fails_like_the_one_that_waited(
    db: Database,
) -> None:
    suite = await store_suite(
        db,
        [
            scenario("early", [step(0, "a"), shared_barrier(1, "sync", 2, 0.5), step(2, "on")]),
            scenario(
                "late",
                [step(0, "b", sleep=2.0), shared_barrier(1, "sync", 2, 0.5), step(2, "after")],
            ),
        ],
    )
    suite_run = await running.start_suite_run(db, suite.id)
    executor = ScriptedExecutor()
    final, _ = await asyncio.wait_for(
        running.work_until_done(db, suite_run.id, factory_for(executor), options=OPTIONS),
        timeout=30,
    )
    async with db.transaction() as uow:
        runs = {r.scenario_name: r for r in await uow.runs.test_runs(suite_run.id)}

    assert final.suite_run.status is SuiteRunStatus.FAILED
    assert [runs[name].status for name in ("early", "late")] == [TestRunStatus.FAILED] * 2
    assert [c.position for c in executor.calls if c.position == 2] == []  # neither went on
    late_error = runs["late"].error
    assert late_error is not None
    assert "barrier 'sync' timed out after 0.5s" in late_error
