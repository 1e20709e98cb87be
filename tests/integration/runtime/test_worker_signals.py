"""Worker processes under signals: paused past the lease (SIGSTOP), drained (SIGTERM), killed
(SIGKILL) while holding a run, against a real HTTP SUT and a real PostgreSQL.

A lease a test does not measure is long (`LEASE`: a busy machine never lets it run out by
itself) and ended with SQL (`run_out_leases`) when the test pauses a worker past it."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import datetime
from pathlib import Path

from orchestra.store.database import Database
from tests.integration.runtime.chaos import (
    ORDER_STEPS,
    OrderSut,
    WorkerProcess,
    audit,
    held_by,
    listening_workers,
    order_sut,
    query,
    results_of,
    run_out_leases,
    runs_of,
    start_order_suite,
    suite_run_ended,
    wait_for,
    worker_processes,
)

STEPS = len(ORDER_STEPS)
LEASE = 30.0


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


async def test_a_worker_paused_past_its_lease_writes_nothing_when_it_resumes(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    async with order_sut() as sut, worker_processes() as started:
        gate = sut.hold("ship")
        suite_run = await start_order_suite(db, sut, 1)
        paused = WorkerProcess(database_url, tmp_path, name="paused", concurrency=1, lease=LEASE)
        started.append(paused)
        await wait_for(lambda: in_held_step(sut), 30, "the first worker is inside its Ship step")
        paused.signal(signal.SIGSTOP)
        (claim,) = await run_out_leases(db, database_url, paused)
        successor = WorkerProcess(
            database_url, tmp_path, name="successor", concurrency=1, lease=LEASE
        )
        started.append(successor)
        status = await wait_for(
            lambda: suite_run_ended(database_url, suite_run.id), 30, "the successor completes it"
        )
        runs_before = await runs_of(database_url, suite_run.id)
        results_before = await results_of(database_url, suite_run.id)
        (resumed_at,) = await query(database_url, "SELECT now() AS t")

        gate.set()  # the paused worker's Ship request gets its answer
        paused.signal(signal.SIGCONT)

        await wait_for(
            lambda: worked_since(database_url, paused, resumed_at["t"]),
            30,
            "the resumed worker is working again",
        )
        paused.signal(signal.SIGTERM)
        assert await paused.exited(within=30) == 0
        successor.signal(signal.SIGTERM)
        assert await successor.exited(within=30) == 0
        ledger = await audit(database_url, suite_run.id, sut, runs=1, steps=STEPS)
        runs_after = await runs_of(database_url, suite_run.id)
        results_after = await results_of(database_url, suite_run.id)

    assert status == "PASSED"
    assert claim["attempt"] == 1
    assert paused.result() | {"worker": None} == {
        "worker": None,
        "claimed": 1,
        "finished": 0,
        "released": 0,
        "lost": 1,  # abandoned: it noticed the lease had passed on
        "cancelled": 0,
        "metrics": None,  # served with --metrics-port only
    }
    assert successor.result()["finished"] == 1
    assert runs_after == runs_before  # status, context, attempt, owner, finish time: untouched
    assert results_after == results_before
    (run,) = ledger.runs
    assert (run["attempt"], run["lost_leases"]) == (2, 1)
    assert run["locked_by"].split(":")[1] == str(successor.pid)
    # the interrupted step was sent again with the same key; nothing after it twice
    (ship,) = [r for r in ledger.results if r["position"] == ORDER_STEPS.index("Ship")]
    assert ledger.repeated == {ship["key"]: 1}
    assert len(sut.arrivals("/ship")) == 2


async def test_a_paused_worker_resumed_while_its_successor_holds_the_run_cannot_write(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    async with order_sut() as sut, worker_processes() as started:
        first_gate = sut.hold("ship")
        suite_run = await start_order_suite(db, sut, 1)
        paused = WorkerProcess(database_url, tmp_path, name="paused", concurrency=1, lease=LEASE)
        started.append(paused)
        await wait_for(lambda: in_held_step(sut), 30, "the first worker is inside its Ship step")
        paused.signal(signal.SIGSTOP)
        await run_out_leases(db, database_url, paused)
        second_gate = sut.hold("ship")  # the successor resumes at Ship and waits in it too
        successor = WorkerProcess(
            database_url, tmp_path, name="successor", concurrency=1, lease=LEASE
        )
        started.append(successor)
        await wait_for(lambda: in_held_step(sut, 2), 30, "the successor is inside Ship")
        (owned,) = await held_by(database_url, successor)
        runs_before = await runs_of(database_url, suite_run.id)
        results_before = await results_of(database_url, suite_run.id)
        (resumed_at,) = await query(database_url, "SELECT now() AS t")

        # the stale Ship answer reaches the paused worker as it resumes: nothing but the lease
        # stops it recording Ship before the successor does
        first_gate.set()
        paused.signal(signal.SIGCONT)
        await wait_for(
            lambda: worked_since(database_url, paused, resumed_at["t"]),
            30,
            "the resumed worker is working again",
        )
        paused.signal(signal.SIGTERM)
        assert await paused.exited(within=30) == 0
        runs_meanwhile = await runs_of(database_url, suite_run.id)
        results_meanwhile = await results_of(database_url, suite_run.id)

        second_gate.set()
        status = await wait_for(
            lambda: suite_run_ended(database_url, suite_run.id), 30, "the successor completes it"
        )
        successor.signal(signal.SIGTERM)
        assert await successor.exited(within=30) == 0
        ledger = await audit(database_url, suite_run.id, sut, runs=1, steps=STEPS)

    assert owned["attempt"] == 2
    assert paused.result()["lost"] == 1
    assert paused.result()["finished"] == 0
    # while the successor held the run, the resumed worker changed nothing of it
    assert runs_meanwhile == runs_before
    assert results_meanwhile == results_before
    assert status == "PASSED"
    assert successor.result()["finished"] == 1
    (ship,) = [r for r in ledger.results if r["position"] == ORDER_STEPS.index("Ship")]
    assert ship["attempt"] == 2  # recorded by the successor, not by the stale worker
    assert ledger.repeated == {ship["key"]: 1}


async def test_sigterm_drains_a_worker_its_runs_go_back_to_the_queue_and_another_completes_them(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    drain_seconds = 10.0
    async with order_sut() as sut, worker_processes() as started:
        sut.delay = 0.4  # each step takes a while: the signal lands mid-step
        suite_run = await start_order_suite(db, sut, 4)
        draining = WorkerProcess(
            database_url, tmp_path, name="draining", concurrency=4, lease=5, drain=drain_seconds
        )
        started.append(draining)

        async def all_under_way() -> bool:
            held = await held_by(database_url, draining)
            done = await results_of(database_url, suite_run.id)
            return len(held) == 4 and len(done) >= 4

        await wait_for(all_under_way, 30, "the worker holds every run, each past a step")
        signalled = time.monotonic()
        draining.signal(signal.SIGTERM)
        exit_code = await draining.exited(within=drain_seconds + 20)
        drained_in = time.monotonic() - signalled
        stats = draining.result()
        after_drain = await runs_of(database_url, suite_run.id)

        finisher = WorkerProcess(database_url, tmp_path, name="finisher", concurrency=4, lease=5)
        started.append(finisher)
        status = await wait_for(
            lambda: suite_run_ended(database_url, suite_run.id), 60, "the second worker finishes"
        )
        finisher.signal(signal.SIGTERM)
        assert await finisher.exited(within=30) == 0
        ledger = await audit(database_url, suite_run.id, sut, runs=4, steps=STEPS)

    print(f"\nSIGTERM drain: exited {exit_code} after {drained_in:.2f}s ({stats})")
    assert exit_code == 0
    assert drained_in < drain_seconds
    assert stats["claimed"] == 4
    assert stats["lost"] == 0
    assert stats["released"] + stats["finished"] == 4
    assert stats["released"] >= 1
    released = [r for r in after_drain if r["status"] == "QUEUED"]
    assert len(released) == stats["released"]
    assert {r["status"] for r in after_drain} <= {"QUEUED", "PASSED"}  # none left RUNNING
    assert status == "PASSED"
    assert ledger.lost_leases == 0
    for run in ledger.runs:
        assert run["attempt"] == (2 if run["id"] in {r["id"] for r in released} else 1)
    # the drain let each step in flight finish and checkpointed it: no request was sent twice
    assert ledger.repeated == {}


async def test_a_run_held_by_a_killed_worker_resumes_elsewhere_within_the_lease(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    """The lease runs out in real time here: what is measured is how soon after it does the
    standby takes the run over."""
    lease = 2.0
    # the standby polls every second (the default) but wakes when the holder's lease expires
    async with order_sut() as sut, worker_processes() as started:
        sut.hold("ship")
        suite_run = await start_order_suite(db, sut, 1)
        holder = WorkerProcess(database_url, tmp_path, name="holder", concurrency=1, lease=lease)
        started.append(holder)
        await wait_for(lambda: in_held_step(sut), 30, "the holder is inside its Ship step")
        standby = WorkerProcess(database_url, tmp_path, name="standby", concurrency=1, lease=lease)
        started.append(standby)

        async def both_listening() -> bool:
            return await listening_workers(database_url) == 2

        await wait_for(both_listening, 30, "the standby worker waits for work")
        killed_at = time.monotonic()
        await holder.kill()

        async def resumed() -> float:  # when the Ship request came again (0: not yet)
            again = [s.at for s in sut.arrivals("/ship") if s.at > killed_at]
            return again[0] if again else 0.0

        resumed_at = await wait_for(resumed, lease + 30, "the run resumes on the standby")
        status = await wait_for(
            lambda: suite_run_ended(database_url, suite_run.id), 30, "the standby completes it"
        )
        standby.signal(signal.SIGTERM)
        assert await standby.exited(within=30) == 0
        ledger = await audit(database_url, suite_run.id, sut, runs=1, steps=STEPS)

    recovery = resumed_at - killed_at
    print(f"\nrecovery: {recovery:.2f}s from SIGKILL to the run resuming (lease {lease:g}s)")
    assert recovery <= lease + 1.5  # the target is lease + 1 s; a loaded machine, a cold claim
    assert status == "PASSED"
    (run,) = ledger.runs
    assert (run["attempt"], run["lost_leases"]) == (2, 1)


async def test_a_worker_paused_for_less_than_its_lease_keeps_its_run(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    """The one fixed sleep is the pause itself: a real stretch of time the worker's lease
    must outlast while its heartbeats stop."""
    lease = 4.0
    pause = 1.0  # well inside the lease, even counting the heartbeat before it
    async with order_sut() as sut, worker_processes() as started:
        gate = sut.hold("ship")
        suite_run = await start_order_suite(db, sut, 1)
        holder = WorkerProcess(database_url, tmp_path, name="holder", concurrency=1, lease=lease)
        started.append(holder)
        await wait_for(lambda: in_held_step(sut), 30, "the holder is inside its Ship step")
        standby = WorkerProcess(database_url, tmp_path, name="standby", concurrency=1, lease=lease)
        started.append(standby)

        async def both_listening() -> bool:
            return await listening_workers(database_url) == 2

        await wait_for(both_listening, 30, "the standby worker waits for work")
        holder.signal(signal.SIGSTOP)
        await asyncio.sleep(pause)  # the pause itself: the standby polls for work meanwhile
        holder.signal(signal.SIGCONT)
        gate.set()
        status = await wait_for(
            lambda: suite_run_ended(database_url, suite_run.id), 30, "the holder completes it"
        )
        for worker in started:
            worker.signal(signal.SIGTERM)
        assert [await w.exited(within=30) for w in started] == [0, 0]
        ledger = await audit(database_url, suite_run.id, sut, runs=1, steps=STEPS)

    assert status == "PASSED"
    (run,) = ledger.runs
    assert (run["attempt"], run["lost_leases"]) == (1, 0)
    assert holder.result()["finished"] == 1
    assert standby.result()["claimed"] == 0
    assert ledger.repeated == {}
