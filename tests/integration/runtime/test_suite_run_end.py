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
)

FAST = WorkerOptions(concurrency=8, lease_seconds=5, poll_seconds=0.05, sweep_seconds=0.1)


async def test_the_end_of_a_suite_run_executed_here_is_seen_at_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(running, "_END_SECONDS", 30.0)  # the status is looked at once, first
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
