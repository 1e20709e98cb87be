"""A worker process stopped (SIGSTOP) while a step waits on the SUT: for less than its lease,
the request whose timeout ran out meanwhile is the worker's doing, not the SUT's, and is sent
again with the same idempotency key; for longer, the run passes to another worker and the
stopped one sends nothing more."""

from __future__ import annotations

import asyncio
import signal
from datetime import datetime
from pathlib import Path

from orchestra.store.database import Database
from tests.integration.runtime.chaos import (
    OrderSut,
    WorkerProcess,
    order_sut,
    query,
    run_out_leases,
    start_order_suite,
    suite_run_ended,
    wait_for,
    worker_processes,
)

STEPS = ("Create", "Read")
TIMEOUT = 3.0  # each request's
LEASE = 15.0  # renewed every 5 s: a stop of 6 s, even just before a heartbeat, keeps it
STOPPED = 6.0


async def in_held_step(sut: OrderSut, count: int = 1) -> bool:
    return len(sut.held) >= count


async def worked_since(url: str, worker: WorkerProcess, since: datetime) -> bool:
    """Whether the worker has sent the database a statement since `since` (its clock)."""
    rows = await query(
        url,
        "SELECT count(*) AS n FROM pg_stat_activity"
        " WHERE application_name = %s AND query_start > %s AND query NOT LIKE 'LISTEN%%'",
        worker.application_name,
        since,
    )
    return bool(rows[0]["n"])


async def step_results(url: str, suite_run_id: int) -> list[dict[str, object]]:
    return await query(
        url,
        "SELECT r.position, r.status::text AS status, r.attempt, r.stalled_ms, r.resent_after,"
        " r.error FROM step_result r JOIN test_run t ON t.id = r.test_run_id"
        " WHERE t.suite_run_id = %s ORDER BY r.position",
        suite_run_id,
    )


async def test_a_step_timed_out_while_its_worker_was_stopped_is_sent_again_and_passes(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    """The fixed sleeps are the stop itself: the worker measures its stall on its own clocks,
    and the request's timeout must run out while it is stopped."""
    async with order_sut() as sut, worker_processes() as started:
        gate = sut.hold("create")  # the SUT is slow: it answers when the test says
        suite_run = await start_order_suite(db, sut, 1, elements=STEPS, request_timeout=TIMEOUT)
        worker = WorkerProcess(database_url, tmp_path, name="stopped", concurrency=1, lease=LEASE)
        started.append(worker)
        await wait_for(lambda: in_held_step(sut), 60, "the worker's Create waits on the SUT")

        worker.signal(signal.SIGSTOP)  # longer than the request's timeout, shorter than the lease
        await asyncio.sleep(1.0)
        gate.set()  # the SUT answers while the worker is stopped: the answer waits in its socket
        await asyncio.sleep(STOPPED - 1.0)
        worker.signal(signal.SIGCONT)

        status = await wait_for(
            lambda: suite_run_ended(database_url, suite_run.id), 60, "the suite run ends"
        )
        results = await step_results(database_url, suite_run.id)
        runs = await query(
            database_url,
            "SELECT attempt, lost_leases FROM test_run WHERE suite_run_id = %s",
            suite_run.id,
        )
        worker.signal(signal.SIGTERM)
        assert await worker.exited(within=30) == 0

    assert status == "PASSED", results
    create, read = results
    assert (create["status"], create["attempt"], create["resent_after"]) == ("PASSED", 1, None)
    assert isinstance(create["stalled_ms"], float)
    assert create["stalled_ms"] >= (STOPPED - 1.5) * 1000  # the stop, as the worker measured it
    assert read["stalled_ms"] is None
    assert runs == [{"attempt": 1, "lost_leases": 0}]  # the worker kept its lease throughout
    creates = sut.arrivals("/orders")
    assert len(creates) == 2  # sent again, with the same idempotency key
    assert creates[0].key == creates[1].key
    assert len(sut.orders) == 1  # and the SUT created one order
    log = worker.stderr()
    assert "timed out while the worker stalled" in log
    assert "Traceback" not in log


async def test_a_worker_stopped_past_its_lease_does_not_send_the_timed_out_step_again(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    """The stop outlasts the lease: ended with SQL while the worker is stopped, it passes to
    the successor, and the resumed worker's renewal before a re-send finds it gone."""
    async with order_sut() as sut, worker_processes() as started:
        gate = sut.hold("create")
        suite_run = await start_order_suite(db, sut, 1, elements=STEPS, request_timeout=1.0)
        stopped = WorkerProcess(database_url, tmp_path, name="stopped", concurrency=1, lease=LEASE)
        started.append(stopped)
        await wait_for(lambda: in_held_step(sut), 60, "the worker's Create waits on the SUT")
        stopped.signal(signal.SIGSTOP)
        await run_out_leases(db, database_url, stopped)
        gate.set()
        successor = WorkerProcess(database_url, tmp_path, name="next", concurrency=1, lease=LEASE)
        started.append(successor)
        status = await wait_for(
            lambda: suite_run_ended(database_url, suite_run.id), 60, "the successor ends it"
        )
        sent_before = len(sut.arrivals("/orders"))
        (resumed_at,) = await query(database_url, "SELECT now() AS t")
        stopped.signal(signal.SIGCONT)
        await wait_for(
            lambda: worked_since(database_url, stopped, resumed_at["t"]),
            30,
            "the resumed worker is working again",
        )
        for worker in (stopped, successor):  # each lets its runs finish their step first
            worker.signal(signal.SIGTERM)
            assert await worker.exited(within=30) == 0
        results = await step_results(database_url, suite_run.id)

    assert status == "PASSED"
    assert sent_before == 2  # the stopped worker's Create, the successor's re-send
    assert len(sut.arrivals("/orders")) == 2  # the resumed worker sent nothing again
    assert results[0]["resent_after"] == 1  # the lost claim's, as after a crash
    assert results[0]["stalled_ms"] is None
    assert stopped.result()["lost"] == 1
