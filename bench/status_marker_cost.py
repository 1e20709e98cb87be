"""What marking each status change (`test_run.status_changed`) costs the hot path: this tree's
claim, checkpoint and completion statements against those of another tree (its schema and its
SQL files), side by side.

`python -m bench.status_marker_cost TREE [ROUNDS]`: TREE is a checkout of Orchestra before the
marker (e.g. `git worktree add /tmp/before main`). One scratch PostgreSQL, a database per tree
migrated by that tree, a suite run of 50 x ROUNDS (default 40) one-step runs in each; then
ROUNDS interleaved rounds, each tree in turn: `claim_runs` of 50 runs, 3 `checkpoint_many` of
their 50 rows (a step each, without its result), and the `checkpoint_many` ending them. Prints
the median time of each statement per tree, and how many of each database's updates of
test_run were HOT (no index written): a checkpoint's must stay so. Not part of `python -m
bench` (it needs the other tree).
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from bench.bench_claims import _one_step_suite
from bench.support import scratch_postgres
from orchestra.services import running
from orchestra.store.database import Database, ServerInfo, connect_pool
from orchestra.store.queries import parse_queries

BATCH = 50
MIGRATE = "import sys; from orchestra.store import migrate; migrate.upgrade(sys.argv[1])"
HERE = Path(__file__).resolve().parents[1]


def _queries(tree: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in ("claims.sql", "checkpoints.sql"):
        path = tree / "src" / "orchestra" / "store" / "sql" / name
        found |= parse_queries(path.read_text(encoding="utf-8"))
    return found


async def _suite_run(url: str, n: int) -> None:
    async with connect_pool(url, max_size=2, upgrade=False) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        suite_id = await _one_step_suite(db)
        async with db.transaction() as uow:
            await uow.config.upsert_data_set("rows", [{"i": i} for i in range(n)])
        await running.start_suite_run(db, suite_id, data_set="rows")


def _rows(ids: list[int], finish: str | None) -> Jsonb:
    return Jsonb(
        [
            {"test_run_id": i, "worker": "w", "attempt": 1, "execution_context": {"n": 1}}
            | ({"finish": finish} if finish else {})
            for i in ids
        ]
    )


def _wal(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT pg_current_wal_insert_lsn() - '0/0'").fetchone()
    assert row is not None
    return int(row[0])


def _round(conn: psycopg.Connection[Any], queries: dict[str, str]) -> dict[str, float]:
    taken: dict[str, float] = {}
    wal = _wal(conn)
    started = time.perf_counter()
    claimed = conn.execute(
        queries["claim_runs"],
        {"worker": "w", "limit": BATCH, "lease_seconds": 30, "suite_run_id": None},
    ).fetchall()
    taken["claim_runs"] = time.perf_counter() - started
    ids = [int(row[0]) for row in claimed]
    assert len(ids) == BATCH
    for _ in range(3):
        started = time.perf_counter()
        conn.execute(queries["checkpoint_many"], {"rows": _rows(ids, None)}).fetchall()
        taken["checkpoint_many"] = taken.get("checkpoint_many", 0.0) + time.perf_counter() - started
    taken["checkpoint_many"] /= 3
    started = time.perf_counter()
    conn.execute(queries["checkpoint_many"], {"rows": _rows(ids, "PASSED")}).fetchall()
    taken["checkpoint_many (end)"] = time.perf_counter() - started
    taken["WAL kB"] = (_wal(conn) - wal) / 1000
    return taken


def main(tree: Path, rounds: int) -> None:
    trees = {"before": tree, "this tree": HERE}
    with scratch_postgres() as url:
        base, _, query = url.partition("?")
        urls: dict[str, str] = {}
        for i, (name, path) in enumerate(trees.items()):
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE marker_{i}")
            urls[name] = base.rsplit("/", 1)[0] + f"/marker_{i}" + (f"?{query}" if query else "")
            env_path = f"{path / 'src'}"
            subprocess.run(
                [sys.executable, "-c", MIGRATE, urls[name]],
                check=True,
                env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
            )
            asyncio.run(_suite_run(urls[name], BATCH * rounds))
        queries = {name: _queries(path) for name, path in trees.items()}
        times: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
        conns = {name: psycopg.connect(u, autocommit=True) for name, u in urls.items()}
        try:
            for r in range(rounds):
                order = list(trees) if r % 2 == 0 else list(reversed(trees))
                for name in order:
                    for statement, t in _round(conns[name], queries[name]).items():
                        times[name].setdefault(statement, []).append(t)
            for name, conn in conns.items():
                conn.execute("SELECT pg_stat_force_next_flush()")  # this session's counts
                hot = conn.execute(
                    "SELECT n_tup_upd, n_tup_hot_upd, heap_blks_hit + heap_blks_read,"
                    "       idx_blks_hit + idx_blks_read"
                    " FROM pg_stat_user_tables"
                    " JOIN pg_statio_user_tables USING (relid, schemaname, relname)"
                    " WHERE relname = 'test_run'"
                ).fetchone()
                assert hot is not None
                medians = ", ".join(
                    f"{statement} {statistics.median(t) * 1000:.2f} ms"
                    if statement != "WAL kB"
                    else f"WAL {statistics.median(t):.1f} kB"
                    for statement, t in times[name].items()
                )
                print(
                    f"{name:>9}: {medians} (medians of a round); test_run updates {hot[0]}, "
                    f"HOT {hot[1]}, heap blocks {hot[2]}, index blocks {hot[3]}"
                )
        finally:
            for conn in conns.values():
                conn.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 40)
