"""Listing suite runs (`GET /suite-runs`, `orchestra status`): ms per page, with the indexes of
migration 0002 and without them, side by side.

A fresh PostgreSQL holds N suite runs (`BENCH_SUITE_RUNS_N`, default 50000) over 200 suites,
each with 5 test runs; 1 in 1000 is CANCELLED, 8 in 100 FAILED, the newest 50 IN_PROGRESS, the rest
PASSED. Each page is asked through `running.list_suite_runs` on one pooled connection, enough
times for psycopg to prepare the statement and PostgreSQL to settle on a plan; the median counts.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable

import psycopg

from bench.support import scratch_postgres
from orchestra.domain.statuses import SuiteRunStatus
from orchestra.services import running
from orchestra.store import migrate
from orchestra.store.database import Database, ServerInfo, connect_pool

N = int(os.environ.get("BENCH_SUITE_RUNS_N", "50000"))
SUITES = 200
TEST_RUNS = 5
CALLS = 30

SEED = """
INSERT INTO process (key, version, source_xml, checksum, graph)
VALUES ('p', 1, '<x/>', 'c', '{}');
INSERT INTO scenario_suite (process_id, criterion)
SELECT 1, 'all-flows' FROM generate_series(1, %(suites)s);
INSERT INTO test_scenario (suite_id, name, position) SELECT id, 's', 0 FROM scenario_suite;
INSERT INTO suite_run (suite_id, status, started_at, finished_at)
SELECT 1 + (i * 7919) %% %(suites)s, s.status, now(),
       CASE WHEN s.status <> 'IN_PROGRESS' THEN now() END
FROM generate_series(1, %(n)s) AS i
CROSS JOIN LATERAL (SELECT CAST(CASE
    WHEN i > %(n)s - 50 THEN 'IN_PROGRESS'
    WHEN i %% 1000 = 0 THEN 'CANCELLED'
    WHEN i %% 100 < 9 THEN 'FAILED'
    ELSE 'PASSED' END AS suite_run_status) AS status) AS s;
INSERT INTO test_run (suite_run_id, scenario_id, data_row_index, status, finished_at)
SELECT r.id, sc.id, k, 'PASSED', now()
FROM suite_run r JOIN test_scenario sc ON sc.suite_id = r.suite_id,
     generate_series(0, %(test_runs)s - 1) AS k;
ANALYZE;
"""  # statements run one by one: each takes the parameters it names

Page = Callable[[Database], Awaitable[running.SuiteRunPage]]

CASES: dict[str, Page] = {
    "newest 50": lambda db: running.list_suite_runs(db),
    "a suite's newest 50": lambda db: running.list_suite_runs(db, suite_id=7),
    "CANCELLED, newest 50": lambda db: running.list_suite_runs(
        db, statuses=[SuiteRunStatus.CANCELLED]
    ),
    "FAILED or CANCELLED": lambda db: running.list_suite_runs(
        db, statuses=[SuiteRunStatus.FAILED, SuiteRunStatus.CANCELLED]
    ),
    "IN_PROGRESS": lambda db: running.list_suite_runs(db, statuses=[SuiteRunStatus.IN_PROGRESS]),
    "a suite's FAILED": lambda db: running.list_suite_runs(
        db, suite_id=7, statuses=[SuiteRunStatus.FAILED]
    ),
    "last page (before=100)": lambda db: running.list_suite_runs(db, before=100),
}


async def median_ms(db: Database, page: Page) -> float:
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        await page(db)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def measure_all(url: str) -> dict[str, float]:
    async with connect_pool(url, max_size=1, upgrade=False) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        return {name: await median_ms(db, page) for name, page in CASES.items()}


async def bench(url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, url)
    params = {"n": N, "suites": SUITES, "test_runs": TEST_RUNS}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for statement in SEED.split(";")[:-1]:
            await conn.execute(statement, {k: v for k, v in params.items() if k in statement})
    indexed = await measure_all(url)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("DROP INDEX suite_run_suite_idx, suite_run_status_idx")
    bare = await measure_all(url)
    print(f"{N} suite runs, {N * TEST_RUNS} test runs; median of {CALLS} pages, ms")
    print(f"{'page':<26}{'indexed':>10}{'without':>10}{'ratio':>8}")
    for name in CASES:
        ratio = bare[name] / indexed[name]
        print(f"{name:<26}{indexed[name]:>10.2f}{bare[name]:>10.2f}{ratio:>7.1f}x")


def main() -> None:
    with scratch_postgres() as url:
        asyncio.run(bench(url))


if __name__ == "__main__":
    main()
