"""A suite run of 10,000 runs on 4 worker processes against a fast local SUT, then pruned.

The SUT is `bench_steps`' in-memory aiohttp order API (5-step scenarios: create, read, pay,
read, cancel, every step checkpointed); the suite run has one run per row of a data set of
`BENCH_SCALE_RUNS` rows (default 10,000). Four worker processes (`bench.scale_worker`: the
CLI's worker, pool of 4, LISTEN, concurrency 8 each) are started, idle, before the suite run
is created, and stopped (SIGTERM: drained) once it has ended. Printed:
- claim latency: p50, p99 and max of the claim statements that leased runs, in every worker;
- steps/s in each tenth of the suite run's steps (by the time each step's checkpoint was
  recorded), the first and the last tenth compared (target: the last within 20 % of the
  first, however large `step_result` grows);
- peak connections to the database (client backends, sampled every 0.1 s; the bench's own
  sampler included);
- the time `orchestra prune --suite-run ID` takes to delete the suite run (a process from
  start to exit) and the rows it deleted.
Bounded by `BENCH_SCALE_TIMEOUT` seconds (default 1200) for the suite run.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.bench_steps import SUTS, _free_port, _load, _stop, _wait_until_up, prepare
from bench.support import scratch_postgres
from orchestra.services import running
from orchestra.store.database import Database, ServerInfo, connect_pool

RUNS = int(os.environ.get("BENCH_SCALE_RUNS", "10000"))
WORKERS = 4
CONCURRENCY = 8  # per worker
STEPS = 5
TIMEOUT = float(os.environ.get("BENCH_SCALE_TIMEOUT", "1200"))

_TENTHS = """
WITH s AS (
    SELECT r.recorded_at, ntile(10) OVER (ORDER BY r.recorded_at, r.id) AS tenth
    FROM step_result r JOIN test_run t ON t.id = r.test_run_id
    WHERE t.suite_run_id = %s
)
SELECT tenth, count(*) AS steps, extract(epoch FROM max(recorded_at)) AS last
FROM s GROUP BY tenth ORDER BY tenth
"""


async def _create(url: str, suite_id: int) -> tuple[int, float]:
    async with connect_pool(url, max_size=2, upgrade=False) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        async with db.transaction() as uow:
            await uow.config.upsert_data_set("orders", [{"amount": i} for i in range(RUNS)])
        started = time.perf_counter()
        suite_run = await running.start_suite_run(
            db, suite_id, environment="bench", data_set="orders"
        )
        return suite_run.id, time.perf_counter() - started


async def _watch(url: str, suite_run_id: int) -> tuple[float, int, str]:
    """Until the suite run ends: its wall time, the peak of connections, its status."""
    peak = 0
    started = time.perf_counter()
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        while time.perf_counter() - started < TIMEOUT:
            cursor = await conn.execute(
                "SELECT count(*) FILTER (WHERE backend_type = 'client backend'),"
                " (SELECT status::text FROM suite_run WHERE id = %s) FROM pg_stat_activity",
                (suite_run_id,),
            )
            row = await cursor.fetchone()
            assert row is not None
            peak = max(peak, int(row[0]))
            if row[1] != "IN_PROGRESS":
                return time.perf_counter() - started, peak, str(row[1])
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the suite run did not end within {TIMEOUT:g} s")


def _tenths(url: str, suite_run_id: int) -> list[float]:
    """Steps/s in each tenth of the suite run's steps, by the time they were recorded."""
    with psycopg.connect(url) as conn:
        started = conn.execute(
            "SELECT extract(epoch FROM started_at) FROM suite_run WHERE id = %s", (suite_run_id,)
        ).fetchone()
        rows = conn.execute(_TENTHS, (suite_run_id,)).fetchall()
    assert started is not None
    rates, before = [], float(started[0])
    for _tenth, steps, last in rows:
        rates.append(int(steps) / max(float(last) - before, 1e-6))
        before = float(last)
    return rates


def _prune(url: str, suite_run_id: int) -> tuple[float, dict[str, object]]:
    env = {**os.environ, "ORCHESTRA_DATABASE_URL": url}
    command = [sys.executable, "-m", "orchestra", "prune", "--suite-run", str(suite_run_id)]
    started = time.perf_counter()
    done = subprocess.run([*command, "--json"], env=env, capture_output=True, check=True)
    return time.perf_counter() - started, json.loads(done.stdout)


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _run(url: str, suite_id: int, out: Path) -> None:
    workers: list[subprocess.Popen[bytes]] = []
    env = {**os.environ, "ORCHESTRA_DATABASE_URL": url}
    files = [out / f"claims-{i}.json" for i in range(WORKERS)]
    try:
        for file in files:
            command = [sys.executable, "-m", "bench.scale_worker", url, str(CONCURRENCY)]
            workers.append(subprocess.Popen([*command, str(file)], env=env, stdout=subprocess.PIPE))
        for worker in workers:
            assert worker.stdout is not None
            worker.stdout.readline()  # "ready": started, idle
        suite_run_id, created = asyncio.run(_create(url, suite_id))
        print(f"  suite run {suite_run_id}: {RUNS} runs created in {created:.2f} s", flush=True)
        elapsed, peak, status = asyncio.run(_watch(url, suite_run_id))
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    claims = [ms for file in files for ms in json.loads(file.read_text())]
    rates = _tenths(url, suite_run_id)
    print(f"  ended {status} in {elapsed:.1f} s: {RUNS * STEPS / elapsed:.0f} steps/s overall")
    print(
        f"  claim latency ({len(claims)} claims that leased runs): p50 "
        f"{_percentile(claims, 50):.1f} ms, p99 {_percentile(claims, 99):.1f} ms,"
        f" max {max(claims):.1f} ms"
    )
    print("  steps/s by tenth: " + " ".join(f"{r:.0f}" for r in rates))
    print(
        f"  last tenth / first tenth: {rates[-1] / rates[0]:.2f}"
        " (target: within 20 %, >= 0.80); steps 2-9 median"
        f" {statistics.median(rates[1:-1]):.0f}/s"
    )
    print(f"  peak connections (client backends): {peak}")
    seconds, pruned = _prune(url, suite_run_id)
    print(
        f"  orchestra prune --suite-run {suite_run_id}: {seconds:.2f} s, deleted {pruned['totals']}"
    )


def main() -> None:
    with scratch_postgres() as url:
        from orchestra.store import migrate

        migrate.upgrade(url)
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        sut = subprocess.Popen([sys.executable, "-c", SUTS["aiohttp"], str(port)])
        try:
            asyncio.run(_wait_until_up(base_url))
            suite_id = asyncio.run(prepare(url, base_url))
            with tempfile.TemporaryDirectory(prefix="orchestra-bench-scale-") as out:
                _run(url, suite_id, Path(out))
        finally:
            _stop(sut)
    print(f"  ({RUNS} runs x {STEPS} steps, {WORKERS} workers x {CONCURRENCY}, {_load()})")
