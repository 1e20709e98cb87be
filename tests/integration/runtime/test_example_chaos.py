"""Chaos on the bundled example: a worker SIGKILLed every second for a minute, and replaced.

300 runs of `orchestra demo`'s order example (its three all-flows scenarios × 100 data rows)
run on three `orchestra worker` processes against the example SUT. Every second the test
kills one of them (one holding runs, when any does) and starts another in its place, for a
minute or until the suite run ends. Afterwards every run is terminal; the only failures are
the example's planted defect (every run of the cancel scenario fails at *Order cancelled*, no
other run fails or errs); a run marked FAILED_STUCK is explained: each of its leases is
recorded lost, by a worker the test killed or one that logged a stall; no step is recorded
twice; every lost lease is recorded.
ORCHESTRA_CHAOS_SEED replays another schedule.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import random
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from orchestra.examples.order import EXPECTED, TOKEN_VARIABLE
from orchestra.examples.order.service import OrderService
from orchestra.examples.order.sut import run_example_sut
from orchestra.store.database import Database
from tests.integration.runtime.chaos import (
    WorkerProcess,
    connections_of,
    held_by,
    query,
    suite_run_ended,
    wait_for,
    worker_processes,
)
from tests.integration.runtime.example_suite import start_example_suite

SEED = int(os.environ.get("ORCHESTRA_CHAOS_SEED", "20261207"))
ROWS = 100  # × 3 scenarios: 300 runs
WORKERS = 3
CONCURRENCY = 16
CHAOS_SECONDS = 60.0
KILL_EVERY = 1.0
LEASE = 3.0  # heartbeats every second
MAX_ATTEMPTS = 12  # a run may be caught in several kills in a row
TOKEN = "chaos-token"


async def runs_with_scenarios(url: str, suite_run_id: int) -> list[dict[str, Any]]:
    return await query(
        url,
        "SELECT t.id, s.name AS scenario, t.status::text AS status, t.error, t.attempt,"
        " t.lost_leases, (SELECT array_agg(st.element_id) FROM scenario_step st"
        "   WHERE st.scenario_id = s.id) AS elements,"
        " (SELECT r.element_id FROM step_result r WHERE r.test_run_id = t.id"
        "   AND r.status <> 'PASSED' ORDER BY r.position LIMIT 1) AS failed_at"
        " FROM test_run t JOIN test_scenario s ON s.id = t.scenario_id"
        " WHERE t.suite_run_id = %s ORDER BY t.id",
        suite_run_id,
    )


async def twice_recorded(url: str, suite_run_id: int) -> list[dict[str, Any]]:
    return await query(
        url,
        "SELECT r.test_run_id, r.position, count(*) AS n FROM step_result r"
        " JOIN test_run t ON t.id = r.test_run_id WHERE t.suite_run_id = %s"
        " GROUP BY r.test_run_id, r.position HAVING count(*) > 1",
        suite_run_id,
    )


async def lost_leases(url: str, suite_run_id: int) -> list[dict[str, Any]]:
    return await query(
        url,
        "SELECT l.test_run_id, l.attempt, l.worker FROM lost_lease l"
        " JOIN test_run t ON t.id = l.test_run_id WHERE t.suite_run_id = %s",
        suite_run_id,
    )


def pid_of(worker_id: str) -> int:
    return int(worker_id.split(":")[1])  # host:pid:random


@pytest.mark.slow
async def test_the_example_killed_every_second_gives_only_its_planted_failure(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    names = itertools.count()
    killed: set[int] = set()
    setup = time.monotonic()
    service = OrderService(delay_s=(0.01, 0.05))  # commands settle sooner: fewer polls
    async with (
        run_example_sut(service=service, token=TOKEN) as base_url,
        worker_processes() as started,
    ):

        def spawn() -> WorkerProcess:
            worker = WorkerProcess(
                database_url,
                tmp_path / "logs",
                name=f"w{next(names)}",
                concurrency=CONCURRENCY,
                lease=LEASE,
                environ={TOKEN_VARIABLE: TOKEN},
            )
            started.append(worker)
            return worker

        suite_run, scenarios = await start_example_suite(
            db, base_url, ROWS, tmp_path, max_attempts=MAX_ATTEMPTS
        )
        begin = time.monotonic()
        setup = begin - setup
        live = [spawn() for _ in range(WORKERS)]
        while time.monotonic() - begin < CHAOS_SECONDS:
            await asyncio.sleep(KILL_EVERY)
            if await suite_run_ended(database_url, suite_run.id):
                break
            holders = [w for w in live if await held_by(database_url, w)]
            victim = rng.choice(sorted(holders or live, key=lambda w: w.name))
            await victim.kill()
            killed.add(victim.pid)
            live.remove(victim)
            live.append(spawn())
        chaos = time.monotonic() - begin
        status = await wait_for(
            lambda: suite_run_ended(database_url, suite_run.id), 120, "the suite run ends"
        )
        elapsed = time.monotonic() - begin
        for worker in live:  # one spawned just before the end may still be starting up: a
            # SIGTERM before it has connected ends it by the signal, not by a drain
            connected = functools.partial(connections_of, database_url, worker)
            await wait_for(connected, 60, f"{worker} connects")
            worker.signal(signal.SIGTERM)
        exits = [await worker.exited(within=30) for worker in live]
        runs = await runs_with_scenarios(database_url, suite_run.id)
        doubles = await twice_recorded(database_url, suite_run.id)
        lost = await lost_leases(database_url, suite_run.id)
        logs = {w.name: w.stderr() for w in started}

    statuses = Counter(run["status"] for run in runs)
    # a live worker loses a lease only when it could not renew it: it stalled (or the database)
    stalled = {w.pid for w in started if "worker stalled for" in logs[w.name]}
    by_live = [lease for lease in lost if pid_of(lease["worker"]) not in killed]
    defect = EXPECTED["failed_at"]
    print(
        f"\nexample chaos (seed {SEED}): {len(runs)} runs {dict(statuses)}, {len(killed)} kills"
        f" in {chaos:.1f}s, {len(lost)} leases lost ({len(by_live)} by live workers),"
        f" {len(started)} worker processes ({len(stalled)} stalled),"
        f" suite {status} in {elapsed:.1f}s after {setup:.1f}s of setup"
    )
    assert scenarios == EXPECTED["scenarios"]
    assert len(runs) == ROWS * scenarios >= 300
    assert len(killed) >= 20, "the suite ended before the chaos had run: make it longer"
    assert status == "FAILED"  # the planted defect
    assert exits == [0] * len(live)
    for run in runs:
        planted = defect in run["elements"]
        if run["status"] == "FAILED_STUCK":  # explained: every lease it lost, recorded
            lost_by = [pid_of(x["worker"]) for x in lost if x["test_run_id"] == run["id"]]
            assert len(lost_by) == run["lost_leases"] == MAX_ATTEMPTS, run
            assert set(lost_by) <= killed | stalled, (run, lost_by)
        elif planted:
            assert (run["status"], run["failed_at"]) == ("FAILED", defect), run
        else:
            assert run["status"] == "PASSED", run
    assert doubles == []
    assert sum(run["lost_leases"] for run in runs) == len(lost)  # every lost lease recorded
    for name, log in logs.items():
        assert "Traceback" not in log, f"worker {name} failed:\n{log}"
