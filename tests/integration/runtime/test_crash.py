"""Crash test: worker processes SIGKILLed at random moments during a suite of 200 runs.

Three `orchestra worker` processes execute 200 runs of a five-step order scenario against a
real HTTP SUT (100 data rows × two scenarios, the second dependsOn the first). At seeded
random moments one of the workers holding runs is SIGKILLed (no drain, no release) and a fresh
one started in its place. Afterwards every run has PASSED, none is lost, no step result is
recorded twice, the SUT saw each step's Idempotency-Key with repeats only for steps a later
claim re-executed, dependents started after their dependency completed, and every claim is
accounted for: a run was re-claimed exactly as often as a killed worker left it behind.
ORCHESTRA_CHAOS_SEED replays another schedule.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from orchestra.store.database import Database
from tests.integration.runtime.chaos import (
    ORDER_STEPS,
    WorkerProcess,
    audit,
    held_by,
    order_sut,
    orphans_of,
    start_order_suite,
    suite_run_ended,
    wait_for,
    worker_processes,
)

SEED = int(os.environ.get("ORCHESTRA_CHAOS_SEED", "20261128"))
RUNS = 200
WORKERS = 3
MAX_KILLS = 8
CHAOS_SECONDS = 30  # kills stop after this, whatever happens; the suite must then finish
LEASE = 3.0  # heartbeats every second: a worker starved of CPU for 2 s keeps its leases


@pytest.mark.slow
async def test_workers_killed_at_random_lose_no_run_and_complete_no_step_twice(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    names = itertools.count()
    orphaned: list[tuple[int, int]] = []  # (test run, attempt) a killed worker left behind
    async with order_sut() as sut, worker_processes() as started:
        sut.delay = 0.05  # requests take a little while: kills land mid-step too

        def spawn() -> WorkerProcess:
            worker = WorkerProcess(
                database_url, tmp_path / "logs", name=f"w{next(names)}", concurrency=6, lease=LEASE
            )
            started.append(worker)
            return worker

        suite_run = await start_order_suite(
            db, sut, RUNS // 2, scenarios=2, chained=True, max_attempts=MAX_KILLS + 2
        )
        begin = time.monotonic()
        live = [spawn() for _ in range(WORKERS)]
        kills = 0
        while kills < MAX_KILLS and time.monotonic() - begin < CHAOS_SECONDS:
            await asyncio.sleep(rng.uniform(0.2, 1.2))
            if await suite_run_ended(database_url, suite_run.id):
                break
            holders = [w for w in live if await held_by(database_url, w)]
            if not holders:
                continue  # the replacements are still starting
            victim = rng.choice(sorted(holders, key=lambda w: w.name))
            await victim.kill()
            kills += 1
            orphaned += [(r["id"], r["attempt"]) for r in await orphans_of(database_url, victim)]
            live.remove(victim)
            live.append(spawn())
        status = await wait_for(
            lambda: suite_run_ended(database_url, suite_run.id), 90, "the suite run ends"
        )
        elapsed = time.monotonic() - begin
        for worker in live:
            worker.signal(signal.SIGTERM)
        exits = [await worker.exited(within=30) for worker in live]
        ledger = await audit(database_url, suite_run.id, sut, runs=RUNS, steps=len(ORDER_STEPS))
        logs = {w.name: w.stderr() for w in started}

    print(
        f"\ncrash test (seed {SEED}): {RUNS} runs, {len(ledger.results)} steps, {kills} kills, "
        f"{len(orphaned)} claims orphaned, {sum(ledger.repeated.values())} requests re-sent, "
        f"{ledger.claims} claims, {len(started)} worker processes, suite {status} in {elapsed:.1f}s"
    )
    assert status == "PASSED"
    assert kills >= 3, "the suite ended before the chaos began: make it longer"
    assert orphaned, "no kill interrupted a run"
    assert exits == [0] * len(live)
    # every claim is accounted for: the first, plus one per lease a killed worker left behind
    by_id = {run["id"]: run for run in ledger.runs}
    left_behind = Counter(run_id for run_id, _ in orphaned)
    for run_id, attempt in orphaned:
        assert by_id[run_id]["attempt"] > attempt, f"run {run_id} was never re-claimed"
    stats = {w.name: w.result() for w in live}
    for run in ledger.runs:
        explained = left_behind[run["id"]]
        assert run["lost_leases"] == explained, (
            f"run {run['id']} lost {run['lost_leases']} leases, {explained} to kills; "
            f"the surviving workers report {stats}"
        )
        assert run["attempt"] == run["lost_leases"] + 1, run
    # and recorded: each claim a kill left behind is a lost lease naming the killed worker
    assert {(lease["test_run_id"], lease["attempt"]) for lease in ledger.lost} == set(orphaned)
    assert ledger.claims == RUNS + len(orphaned)
    assert sum(ledger.repeated.values()) <= len(orphaned)
    # each follow-up run started after the run it depends on (same data row) had completed
    first, follow_up = sorted({run["scenario_id"] for run in ledger.runs})
    finished = {
        r["data_row_index"]: r["finished_at"] for r in ledger.runs if r["scenario_id"] == first
    }
    began: dict[int, datetime] = {}
    for result in ledger.results:
        began[result["test_run_id"]] = min(
            result["started_at"], began.get(result["test_run_id"], result["started_at"])
        )
    for run in ledger.runs:
        if run["scenario_id"] == follow_up:
            assert began[run["id"]] > finished[run["data_row_index"]], run
    for name, log in logs.items():
        assert "Traceback" not in log, f"worker {name} failed:\n{log}"
