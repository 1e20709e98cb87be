"""A run given up on (FAILED_STUCK: its leases kept expiring) still owes its cleanup: one more
claim runs it, once; its verdict stays, and its error says what became of the cleanup."""

from __future__ import annotations

from pathlib import Path

from orchestra.binding.factory import executor_factory
from orchestra.domain.records import TestRun
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.runtime.sweeper import sweep
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import reporting, running
from orchestra.store.database import Database
from orchestra.store.queries import sql
from tests.integration.runtime.chaos import WorkerProcess, query, wait_for, worker_processes
from tests.integration.runtime.cleanup_sut import (
    READ_FIRST,
    RESET,
    ThingsSut,
    create,
    start,
    things_sut,
)
from tests.integration.runtime.support import expire_again_and_reap

OPTIONS = WorkerOptions(poll_seconds=0.05)


async def _runs(db: Database, suite_run_id: int) -> list[TestRun]:
    async with db.transaction() as uow:
        return await uow.runs.test_runs(suite_run_id)


async def _is_set(sut: ThingsSut) -> bool:
    return sut.held.is_set()


async def test_a_stuck_run_is_cleaned_up_once_and_stays_failed_stuck(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    async with things_sut() as sut, worker_processes() as started:
        gate = sut.hold("read")  # its worker dies while the read is in flight
        steps = [("first", create("first")), ("read", READ_FIRST)]
        suite_run = await start(db, sut, steps, RESET, max_attempts=2)
        worker = WorkerProcess(database_url, tmp_path / "logs", name="doomed", lease=30)
        started.append(worker)
        await wait_for(lambda: _is_set(sut), 60, "the read reaches the SUT")
        await worker.kill()
        gate.set()
        await expire_again_and_reap(db)  # the next claim's worker dies too: given up on
        (stuck,) = await _runs(db, suite_run.id)
        left = await running.clean_up_owed(db, suite_run.id, executor_factory({}), options=OPTIONS)
        report = await reporting.load_report(db, suite_run.id)

    assert (stuck.status, stuck.cleanup_pending) == (TestRunStatus.FAILED_STUCK, True)
    assert left == 0
    (run,) = report.test_runs
    assert run.status is TestRunStatus.FAILED_STUCK
    assert run.error is not None
    assert run.error.endswith("attempt limit 2; its cleanup is left to one more claim")
    assert [(c.name, c.status) for c in run.cleanup] == [
        ("undo first", StepStatus.PASSED),
        ("reset", StepStatus.PASSED),
    ]
    assert [c.attempt for c in run.cleanup] == [3, 3]  # the claim for the cleanup alone
    assert sut.things == {}
    assert [r.cleanup_pending for r in await _runs(db, suite_run.id)] == [False]


async def test_a_stuck_runs_cleanup_whose_lease_expires_too_is_not_claimed_again(
    db: Database, database_url: str
) -> None:
    async with things_sut() as sut:
        suite_run = await start(db, sut, [("first", create("first"))], RESET, max_attempts=2)
        async with db.transaction() as uow:
            assert await uow.runs.claim("w1", 1, lease_seconds=30)
        await expire_again_and_reap(db)
        async with db.transaction() as uow:
            (cleaning,) = await uow.runs.claim("w3", 1, lease_seconds=30)
        assert cleaning.cleanup_only
        # w3 dies in the cleanup: its lease runs out too
        await query(
            database_url,
            "UPDATE test_run SET lock_until = now() - interval '1 s' WHERE id = %s RETURNING id",
            cleaning.id,
        )
        async with db.transaction() as uow:
            assert await uow.runs.claim("w4", 1, lease_seconds=30) == []
        async with db.pool.connection() as conn:
            await sweep(conn)

    (run,) = await _runs(db, suite_run.id)
    assert (run.status, run.cleanup_pending, run.lock_until) == (
        TestRunStatus.FAILED_STUCK,
        False,
        None,
    )
    assert run.error is not None
    assert run.error.endswith(
        "; its cleanup is left to one more claim; that claim's lease expired too (held by w3):"
        " its cleanup is not run again"
    )
    assert sut.seen == []  # nothing was sent: the runs were claimed, never executed


async def test_a_stuck_run_without_undo_or_cleanup_owes_nothing(db: Database) -> None:
    async with things_sut() as sut:
        steps = [("first", create("first", undo=False))]
        suite_run = await start(db, sut, steps, max_attempts=2)
        async with db.transaction() as uow:
            assert await uow.runs.claim("w1", 1, lease_seconds=30)
        await expire_again_and_reap(db)

    (run,) = await _runs(db, suite_run.id)
    assert (run.status, run.cleanup_pending) == (TestRunStatus.FAILED_STUCK, False)
    assert run.error is not None
    assert run.error.endswith("attempt limit 2")


async def test_the_claim_and_the_reaper_find_owed_cleanups_through_their_index(
    db: Database,
) -> None:
    async with things_sut() as sut:
        steps = [("first", create("first"))]
        await start(db, sut, steps, RESET)
    plans = []
    async with db.connection() as conn:
        await conn.execute("SET enable_seqscan = off")  # what an index can serve, at any size
        for name, params in [
            ("claim_runs", {"worker": "w", "limit": 8, "lease_seconds": 30, "suite_run_id": None}),
            ("reap_stuck", {}),
        ]:
            cursor = await conn.execute("EXPLAIN " + sql(name), params)
            plans.append("\n".join(str(row["QUERY PLAN"]) for row in await cursor.fetchall()))
    for plan in plans:
        assert "test_run_cleanup_idx" in plan, plan
