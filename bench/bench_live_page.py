"""Opening the live suite run page (`GET /ui/suite-runs/{id}`) of a suite run of 1,000 and of
10,000 ended runs: the time to read the whole page and its bytes, as a browser would fetch it
(an `orchestra serve --no-auth` process, its page read by this process over 127.0.0.1).

The suite run is `bench_steps`' 5-step suite over a data set of N rows; its runs are ended in
SQL, not executed (what is measured is reading them back): one in 20 FAILED at its third step,
the others PASSED, every recorded step with a request and a response of about 300 bytes each,
as a small JSON API answers. The page is read `BENCH_LIVE_ROUNDS` times (default 5) after one
warm-up; printed: the median and the slowest read, and the bytes. So are the diagram's counts
(`GET /suite-runs/{id}/elements`), which the page reads again while runs end (none on main).
`BENCH_LIVE_SIZES` (default "1000,10000") sets the sizes.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time

import aiohttp
import psycopg

from bench.bench_events import api_server
from bench.bench_steps import prepare
from bench.support import scratch_postgres
from orchestra.services import running
from orchestra.store import migrate
from orchestra.store.database import Database, ServerInfo, connect_pool

SIZES = [int(n) for n in os.environ.get("BENCH_LIVE_SIZES", "1000,10000").split(",")]
ROUNDS = int(os.environ.get("BENCH_LIVE_ROUNDS", "5"))
FAIL_EVERY = 20
FAILED_POSITION = 2

_END_RUNS = """
UPDATE test_run
SET status = CASE WHEN id %% %(every)s = 0 THEN 'FAILED' ELSE 'PASSED' END::test_run_status,
    attempt = 1, queued_at = now(), started_at = now(), finished_at = now()
WHERE suite_run_id = %(suite_run)s
"""

_RECORD_STEPS = """
INSERT INTO step_result (test_run_id, step_id, position, element_id, attempt, status,
                         started_at, duration_ms, request, response, checks)
SELECT t.id, s.id, s.position, s.element_id, 1,
       CASE WHEN t.status = 'FAILED' AND s.position = %(failed)s THEN 'FAILED'
            ELSE 'PASSED' END::step_status,
       now(), 12.5,
       jsonb_build_object('method', 'POST', 'url', 'http://127.0.0.1:9/orders/' || t.id,
                          'headers', jsonb_build_object('Content-Type', 'application/json',
                                                        'Authorization', '***'),
                          'body', jsonb_build_object('amount', t.data_row_index,
                                                     'note', repeat('x', 120))),
       jsonb_build_object('status', 200, 'elapsed_ms', 12.5,
                          'headers', jsonb_build_object('content-type', 'application/json'),
                          'json', jsonb_build_object('id', t.id, 'state', 'created',
                                                     'items', repeat('y', 150))),
       CASE WHEN t.status = 'FAILED' AND s.position = %(failed)s
            THEN '[{"name": "status", "expected": 201, "actual": 200, "passed": false}]'
            ELSE '[]' END::jsonb
FROM test_run t JOIN scenario_step s ON s.scenario_id = t.scenario_id
WHERE t.suite_run_id = %(suite_run)s
  AND NOT (t.status = 'FAILED' AND s.position > %(failed)s)
"""


async def ended_suite_run(url: str, runs: int) -> int:
    """A suite run of `runs` runs, ended as the module's docstring says."""
    suite_id = await prepare(url, "http://127.0.0.1:9")
    async with connect_pool(url, max_size=2, upgrade=False) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        async with db.transaction() as uow:
            await uow.config.upsert_data_set("orders", [{"amount": i} for i in range(runs)])
        started = await running.start_suite_run(
            db, suite_id, environment="bench", data_set="orders"
        )
    params = {"suite_run": started.id, "every": FAIL_EVERY, "failed": FAILED_POSITION}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(_END_RUNS, params)
        conn.execute(_RECORD_STEPS, params)
        conn.execute(
            "UPDATE suite_run SET status = 'FAILED', finished_at = now() WHERE id = %s",
            (started.id,),
        )
        conn.execute("ANALYZE")
    return started.id


async def read_page(api: str, path: str) -> tuple[float, int]:
    """Seconds to read the whole page, and its bytes."""
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        async with session.get(f"{api}{path}") as reply:
            body = await reply.read()
            assert reply.status == 200, (path, reply.status)
        return time.perf_counter() - started, len(body)


async def reads(api: str, path: str) -> tuple[list[float], int]:
    await read_page(api, path)  # warm: the server's first read, its templates
    done = [await read_page(api, path) for _ in range(ROUNDS)]
    return [seconds for seconds, _ in done], done[-1][1]


async def measure(runs: int) -> dict[str, tuple[list[float], int]]:
    with scratch_postgres() as url:
        await asyncio.to_thread(migrate.upgrade, url)
        suite_run = await ended_suite_run(url, runs)
        async with api_server(url) as api:
            found = {"page": await reads(api, f"/ui/suite-runs/{suite_run}")}
            async with aiohttp.ClientSession() as session:
                counts = await session.get(f"{api}/suite-runs/{suite_run}/elements")
            if counts.status == 200:  # not on main
                found["counts"] = await reads(api, f"/suite-runs/{suite_run}/elements")
    return found


def main() -> None:
    print(f"live suite run page, {ROUNDS} reads each ({FAIL_EVERY - 1} in {FAIL_EVERY} PASSED)")
    for runs in SIZES:
        for name, (times, size) in asyncio.run(measure(runs)).items():
            print(
                f"  {runs:>6} runs, {name:>6}: median {statistics.median(times) * 1000:8.0f} ms,"
                f" slowest {max(times) * 1000:8.0f} ms, {size / 1024:9.0f} KiB",
                flush=True,
            )


if __name__ == "__main__":
    main()
