"""One look of a suite run's event stream at a suite run of `BENCH_LOOK_RUNS` test runs
(default 100,000; half PASSED, half QUEUED, built with SQL): its time and the rows it reads.

Compared side by side, in interleaved rounds (medians):
- `every run`: the look as it was, reading every run's status (and building each) to count them
  and tell which changed;
- `first look`: a stream's first look now (`run_statuses`: every run's id and status, once);
- `changes(K)`: a later look now (`run_changes`), K runs having ended since the look before
  (K = 0, 100, 1,000), each in its own transaction as a completion ends it.
Each look reads the suite run's row too. The buffers PostgreSQL touched for each read are
printed from `EXPLAIN (ANALYZE, BUFFERS)` (deterministic, unlike the times).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable

import psycopg

from bench.bench_claims import create_suite_run
from bench.support import scratch_postgres
from orchestra.domain.statuses import TestRunStatus
from orchestra.store.database import Database, ServerInfo, connect_pool
from orchestra.store.queries import sql
from orchestra.store.watching import run_state

RUNS = int(os.environ.get("BENCH_LOOK_RUNS", "100000"))
ROUNDS = int(os.environ.get("BENCH_LOOK_ROUNDS", "7"))
CHANGES = (0, 100, 1000)

# the look before: every run of the suite run, each built, then counted by status
EVERY_RUN = """
SELECT r.id, r.status::text AS status, r.data_row_index, r.error, s.name AS scenario,
       r.started_at, r.finished_at
FROM test_run r JOIN test_scenario s ON s.id = r.scenario_id
WHERE r.suite_run_id = %(suite_run_id)s
ORDER BY r.id
"""


def _build(url: str, suite_run_id: int) -> None:
    """`RUNS` runs in the suite run (the one it has, copied), half of them PASSED."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO test_run (suite_run_id, scenario_id, data_row_index, status, queued_at,
                                  started_at, finished_at)
            SELECT t.suite_run_id, t.scenario_id, g,
                   CAST(CASE WHEN g %% 2 = 0 THEN 'PASSED' ELSE 'QUEUED' END AS test_run_status),
                   now(), CASE WHEN g %% 2 = 0 THEN now() END, CASE WHEN g %% 2 = 0 THEN now() END
            FROM test_run t, generate_series(1, %(n)s - 1) AS g
            WHERE t.suite_run_id = %(id)s
            """,
            {"id": suite_run_id, "n": RUNS},
        )
        conn.execute("VACUUM ANALYZE test_run")


def _snapshot(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT CAST(pg_current_snapshot() AS text)").fetchone()
    assert row is not None
    return str(row[0])


def _end_runs(url: str, suite_run_id: int, n: int) -> None:
    """`n` QUEUED runs end PASSED, each in its own transaction (as `complete_run` sets them)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(n):
            conn.execute(
                """
                UPDATE test_run SET status = 'PASSED', status_changed = pg_current_xact_id(),
                                    finished_at = now()
                WHERE id = (SELECT id FROM test_run
                            WHERE suite_run_id = %s AND status = 'QUEUED' LIMIT 1)
                """,
                (suite_run_id,),
            )


def _buffers(url: str, query: str, params: dict[str, object]) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {query}", params).fetchone()
    assert rows is not None
    plan = rows[0][0]["Plan"]
    return int(plan.get("Shared Hit Blocks", 0)) + int(plan.get("Shared Read Blocks", 0))


async def _looks(url: str, suite_run_id: int, since: dict[int, str]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    rows: dict[str, int] = {}
    async with connect_pool(url, max_size=1, upgrade=False) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))

        async def every_run() -> int:
            async with db.transaction() as uow:
                await uow.runs.get(suite_run_id)
                cursor = await uow.conn.execute(EVERY_RUN, {"suite_run_id": suite_run_id})
                states = [run_state(row) for row in await cursor.fetchall()]
            counts: dict[TestRunStatus, int] = {}
            for state in states:
                counts[state.status] = counts.get(state.status, 0) + 1
            return len(states)

        async def first_look() -> int:
            async with db.reading() as uow:
                await uow.runs.get(suite_run_id)
                return len((await uow.watch.run_statuses(suite_run_id)).statuses)

        def changes(k: int) -> Callable[[], Awaitable[int]]:
            async def look() -> int:
                async with db.reading() as uow:
                    await uow.runs.get(suite_run_id)
                    return len((await uow.watch.run_changes(suite_run_id, since[k])).states)

            return look

        looks: dict[str, Callable[[], Awaitable[int]]] = {
            "every run": every_run,
            "first look": first_look,
        }
        looks |= {f"changes({k})": changes(k) for k in CHANGES}
        for _ in range(ROUNDS):
            for name, look in looks.items():
                started = time.perf_counter()
                rows[name] = await look()
                times.setdefault(name, []).append(time.perf_counter() - started)
    for name, taken in times.items():
        print(f"{name:>14}: {statistics.median(taken) * 1000:9.2f} ms  {rows[name]:>7} rows")
    return times


def main() -> None:
    with scratch_postgres() as url:
        suite_run_id, _ = asyncio.run(create_suite_run(url, 1))
        _build(url, suite_run_id)
        since: dict[int, str] = {}
        for k in sorted(CHANGES, reverse=True):  # the snapshot K runs ended ago
            since[k] = _snapshot(url)
            _end_runs(url, suite_run_id, k - sum(c for c in CHANGES if c < k))
        since[0] = _snapshot(url)
        print(f"a suite run of {RUNS} test runs; one look, median of {ROUNDS} rounds:")
        asyncio.run(_looks(url, suite_run_id, since))
        print("buffers touched by the read:")
        every = _buffers(url, EVERY_RUN, {"suite_run_id": suite_run_id})
        print(f"{'every run':>14}: {every:9d}")
        changes = sql("test_run_changes")
        for k in CHANGES:
            touched = _buffers(url, changes, {"suite_run_id": suite_run_id, "since": since[k]})
            print(f"{f'changes({k})':>14}: {touched:9d}")


if __name__ == "__main__":
    main()
