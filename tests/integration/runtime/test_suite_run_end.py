"""Executing a suite run here: its end is seen as soon as the batch ending its last run commits,
not at the next look at its status."""

from __future__ import annotations

import asyncio
import time

import pytest

from orchestra.domain.statuses import SuiteRunStatus
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    step,
    store_suite,
    until,
)

FAST = WorkerOptions(concurrency=8, lease_seconds=5, poll_seconds=0.05, sweep_seconds=0.1)


async def test_the_end_of_a_suite_run_executed_here_is_seen_at_once(db: Database) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a"), step(1, "b")])])
    suite_run = await running.start_suite_run(db, suite.id)
    started = time.monotonic()

    final, _ = await asyncio.wait_for(
        running.work_until_done(
            db, suite_run.id, factory_for(ScriptedExecutor()), options=FAST, poll_seconds=30.0
        ),
        timeout=20,
    )

    assert final.suite_run.status is SuiteRunStatus.PASSED
    assert time.monotonic() - started < 10  # not at the next look, 30 s later


async def test_an_interrupt_stops_the_workers_here_without_waiting_for_the_next_look(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("slow", [step(0, "a", sleep=0.5), step(1, "b")])])
    suite_run = await running.start_suite_run(db, suite.id)
    executor = ScriptedExecutor()
    interrupt = asyncio.Event()
    working = asyncio.create_task(
        running.work_until_done(
            db,
            suite_run.id,
            factory_for(executor),
            options=FAST,
            poll_seconds=30.0,
            interrupt=interrupt,
        )
    )
    await until(lambda: executor.calls, "the first step starts")
    started = time.monotonic()
    interrupt.set()

    final, _ = await asyncio.wait_for(working, timeout=20)

    assert final.suite_run.status is SuiteRunStatus.IN_PROGRESS  # drained, left for the cancel
    assert time.monotonic() - started < 10  # not at the next look, 30 s later


async def test_an_end_elsewhere_is_seen_at_the_next_look(db: Database) -> None:
    suite = await store_suite(db, [scenario("slow", [step(0, "a", sleep=30.0)])])
    suite_run = await running.start_suite_run(db, suite.id)
    executor = ScriptedExecutor()
    working = asyncio.create_task(
        running.work_until_done(db, suite_run.id, factory_for(executor), options=FAST)
    )
    await until(lambda: executor.calls, "the step starts")

    await running.cancel(db, suite_run.id)  # as `orchestra cancel` in another process
    final, _ = await asyncio.wait_for(working, timeout=20)

    assert final.suite_run.status is SuiteRunStatus.CANCELLED


async def test_the_status_is_looked_at_once_per_poll_interval_while_the_runs_execute(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    looks: list[float] = []
    has_ended = running._has_ended

    async def counted(db: Database, suite_run_id: int) -> bool:
        looks.append(time.monotonic())
        return await has_ended(db, suite_run_id)

    monkeypatch.setattr(running, "_has_ended", counted)
    suite = await store_suite(db, [scenario("slow", [step(0, "a", sleep=1.0)])])
    suite_run = await running.start_suite_run(db, suite.id)

    await running.work_until_done(
        db, suite_run.id, factory_for(ScriptedExecutor()), options=FAST, poll_seconds=0.5
    )

    seconds = looks[-1] - looks[0]
    assert len(looks) <= seconds / 0.5 + 2  # the first, one per interval, the end
