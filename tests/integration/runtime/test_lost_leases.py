"""Lost leases are recorded: who held the run, when the lease ran out, what was checkpointed by
then; the report names the step that was in flight and executed again."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from junitparser import JUnitXml
from lxml import html

from orchestra.domain.execution import StepOutcome
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.reports import render
from orchestra.runtime.sweeper import sweep
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import reporting, running
from orchestra.store.database import Database
from orchestra.store.runs import Checkpoint
from tests.integration.runtime.support import (
    ScriptedExecutor,
    expire_again_and_reap,
    expire_leases,
    factory_for,
    scenario,
    step,
    store_suite,
    until,
)

OPTIONS = WorkerOptions(poll_seconds=0.05)


def lost_lease_lines(page: str) -> list[str]:
    document: Any = html.fromstring(page)
    return [div.text_content() for div in document.xpath("//div[@class='lost-lease']")]


def passed() -> StepOutcome:
    return StepOutcome(status=StepStatus.PASSED, started_at=time.time(), duration_ms=1.0)


async def test_claiming_an_expired_run_records_the_lease_it_lost(db: Database) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "a"), step(1, "b"), step(2, "c")])])
    suite_run = await running.start_suite_run(db, suite.id)
    async with db.transaction() as uow:
        (first,) = await uow.runs.claim("worker-a", 1, lease_seconds=30)
        stored = suite.scenarios[0]
        done = Checkpoint(
            test_run_id=first.id,
            worker="worker-a",
            attempt=first.attempt,
            step_id=stored.steps[0].id,
            step=stored.steps[0].step,
            outcome=passed(),
            execution_context={"done": {"0": "PASSED"}},
        )
        assert await uow.runs.checkpoint(done)
    await expire_leases(db)  # worker-a stops heartbeating: its lease runs out
    # another worker claims the run again and finishes it
    await running.work_until_done(
        db, suite_run.id, factory_for(ScriptedExecutor()), options=OPTIONS
    )
    async with db.transaction() as uow:
        (lost,) = await uow.runs.lost_leases([first.id])
    assert (lost.test_run_id, lost.attempt, lost.worker) == (first.id, first.attempt, "worker-a")
    assert lost.done == {"0": "PASSED"}
    assert lost.heartbeat_at is not None
    assert lost.heartbeat_at < lost.expired_at <= lost.noticed_at
    report = await reporting.load_report(db, suite_run.id)
    (run,) = report.test_runs
    assert run.status is TestRunStatus.PASSED
    assert run.attempts == 2
    (lease,) = run.lost_leases
    assert (lease.attempt, lease.worker, lease.steps_done, lease.in_flight) == (
        1,
        "worker-a",
        1,
        (1,),
    )
    (line,) = lost_lease_lines(render(report, "html"))
    assert line.startswith("try 1 lost its lease: worker worker-a, last heartbeat ")
    assert "claimed again" in line
    assert "1 step checkpointed; in flight: #1 b (may have reached the SUT" in line
    (case,) = [
        case for suite in JUnitXml.fromstring(render(report, "junit").encode()) for case in suite
    ]
    assert "in flight: #1 b" in case.system_out


async def test_a_queued_or_released_run_loses_no_lease(db: Database) -> None:
    steps = [step(0, "a", sleep=0.3), step(1, "b")]
    suite = await store_suite(db, [scenario(f"s{i}", steps) for i in range(2)])
    suite_run = await running.start_suite_run(db, suite.id)
    options = WorkerOptions(concurrency=2, lease_seconds=5, poll_seconds=0.05, drain_seconds=5)
    drained = ScriptedExecutor()
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(db.pool, factory_for(drained), options).run(stop))
    await until(lambda: len(drained.calls) == 2, "both runs are inside their first step")
    stop.set()  # drained: released back to the queue, not lost
    assert (await asyncio.wait_for(task, timeout=10)).released == 2
    await running.work_until_done(
        db, suite_run.id, factory_for(ScriptedExecutor()), options=OPTIONS
    )
    report = await reporting.load_report(db, suite_run.id)
    assert [run.lost_leases for run in report.test_runs] == [(), ()]
    assert [run.attempts for run in report.test_runs] == [1, 1]


async def test_the_reaper_records_the_last_lease_of_a_stuck_run(db: Database) -> None:
    suite = await store_suite(db, [scenario("hangs", [step(0, "a"), step(1, "b")])])
    suite_run = await running.start_suite_run(db, suite.id, max_attempts=2)
    async with db.transaction() as uow:
        (claimed,) = await uow.runs.claim("w1", 1, lease_seconds=30)
    await expire_again_and_reap(db)
    report = await reporting.load_report(db, suite_run.id)
    (run,) = report.test_runs
    assert run.status is TestRunStatus.FAILED_STUCK
    assert [(lease.attempt, lease.worker) for lease in run.lost_leases] == [(1, "w1"), (2, "w2")]
    assert [lease.in_flight for lease in run.lost_leases] == [(0,), (0,)]
    assert run.attempts == len(run.lost_leases)
    lines = lost_lease_lines(render(report, "html"))
    assert ["claimed again" in lines[0], "given up on" in lines[1]] == [True, True]
    async with db.pool.connection() as conn:
        await sweep(conn)  # a second sweep records nothing twice
    async with db.transaction() as uow:
        assert len(await uow.runs.lost_leases([claimed.id])) == 2
