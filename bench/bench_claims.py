"""Claims/s: Orchestra working through N one-step no-op runs vs bare SKIP LOCKED loops.

All on the same fresh PostgreSQL with synchronous_commit on, in interleaved rounds (the machine
is shared: best and median printed). The bare loops claim one row and complete it, one
transaction each, the way a minimal queue does: on one connection (the single-row loop the
issue's target names, measured there at 600-1,200 rows/s) and on as many connections as
Orchestra's concurrency (a stricter baseline). Orchestra claims, heartbeats, checkpoints the
step, completes and schedules every run; creating the suite run is timed apart.
`BENCH_CLAIMS_N` (default 20000), `BENCH_CLAIMS_CONCURRENCY` (default 32) and
`BENCH_CLAIMS_ROUNDS` (default 3) tune it.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from dataclasses import dataclass

import psycopg

from bench.support import measure, scratch_postgres
from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.process import Flow, Node, NodeCategory, ProcessGraph
from orchestra.domain.records import Environment
from orchestra.domain.scenario import Coverage, GeneratedSuite, ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind, StepStatus
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database, ServerInfo, connect_pool

N = int(os.environ.get("BENCH_CLAIMS_N", "20000"))
CONCURRENCY = int(os.environ.get("BENCH_CLAIMS_CONCURRENCY", "32"))
ROUNDS = int(os.environ.get("BENCH_CLAIMS_ROUNDS", "3"))


class NoopExecutor:
    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        return StepOutcome(status=StepStatus.PASSED, started_at=time.time(), duration_ms=0.0)

    async def aclose(self) -> None:
        return None


async def noop_factory(environment: Environment | None) -> NoopExecutor:
    return NoopExecutor()


async def bare_loop(url: str, n: int, concurrency: int) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bare_job")
        conn.execute(
            "CREATE TABLE bare_job (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " status text NOT NULL DEFAULT 'queued', locked_by text)"
        )
        conn.execute("CREATE INDEX ON bare_job (id) WHERE status = 'queued'")
        conn.execute(
            "INSERT INTO bare_job (status) SELECT 'queued' FROM generate_series(1, %s)", (n,)
        )

    async def loop(name: str) -> int:
        done = 0
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            while True:
                cur = await conn.execute(
                    "UPDATE bare_job SET status = 'running', locked_by = %s WHERE id = ("
                    " SELECT id FROM bare_job WHERE status = 'queued' ORDER BY id LIMIT 1"
                    " FOR UPDATE SKIP LOCKED) RETURNING id",
                    (name,),
                )
                row = await cur.fetchone()
                if row is None:
                    return done
                await conn.execute(
                    "UPDATE bare_job SET status = 'done' WHERE id = %s AND locked_by = %s",
                    (row[0], name),
                )
                done += 1

    started = time.perf_counter()
    counts = await asyncio.gather(*(loop(f"w{i}") for i in range(concurrency)))
    assert sum(counts) == n
    return time.perf_counter() - started


async def create_suite_run(url: str, n: int) -> tuple[int, float]:
    """A suite run of `n` one-step runs (a data set of `n` rows); its id and creation time."""
    async with connect_pool(url, max_size=2) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        suite_id = await _one_step_suite(db)
        async with db.transaction() as uow:
            await uow.config.upsert_data_set("rows", [{"i": i} for i in range(n)])
        started = time.perf_counter()
        suite_run = await running.start_suite_run(db, suite_id, data_set="rows")
        return suite_run.id, time.perf_counter() - started


async def orchestra_runs(url: str, suite_run_id: int, n: int, concurrency: int) -> float:
    async with connect_pool(url, max_size=8) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        options = WorkerOptions(concurrency=concurrency, lease_seconds=30, poll_seconds=0.2)
        started = time.perf_counter()
        final, stats = await running.work_until_done(
            db, suite_run_id, noop_factory, workers=1, options=options, poll_seconds=0.02
        )
        elapsed = time.perf_counter() - started
        assert final.counts.get(next(iter(final.counts))) == n, final.counts
        assert sum(s.finished for s in stats) == n
        return elapsed


async def _one_step_suite(db: Database) -> int:
    graph = ProcessGraph(
        id="bench",
        nodes=(Node(id="t", category=NodeCategory.TASK, type="task"),),
        flows=(Flow(id="f", source="t", target="t"),),
    )
    step = ScenarioStep(position=0, kind=StepKind.ACTION, element_id="t")
    suite = GeneratedSuite(
        process_key="bench",
        process_version=1,
        criterion="all-flows",
        scenarios=(TestScenario(name="noop", position=0, path=("t",), steps=(step,)),),
        coverage=Coverage(
            criterion="all-flows", flows_total=1, flows_covered=1, nodes_total=1, nodes_covered=1
        ),
    )
    async with db.transaction() as uow:
        process, _ = await uow.processes.add_version(
            graph, checksum="b", source_xml="<x/>", source_name=None
        )
        return await uow.suites.add(process.id, suite)


@dataclass
class Round:
    rate: float
    cpu_ms: float  # client or worker, per run
    pg_ms: float  # every PostgreSQL process, per run


def _bare(url: str, n: int, concurrency: int) -> Round:
    with measure(url) as m:
        elapsed = asyncio.run(bare_loop(url, n, concurrency))
    return Round(n / elapsed, 1000 * m.cpu / n, 1000 * m.pg_cpu / n)


def _orchestra(url: str) -> tuple[Round, float]:
    suite_run_id, creation = asyncio.run(create_suite_run(url, N))
    with measure(url) as m:
        elapsed = asyncio.run(orchestra_runs(url, suite_run_id, N, CONCURRENCY))
    return Round(N / elapsed, 1000 * m.cpu / N, 1000 * m.pg_cpu / N), creation


def _line(name: str, rounds: list[Round]) -> str:
    best = max(rounds, key=lambda r: r.rate)
    median = statistics.median(r.rate for r in rounds)
    cpu = statistics.median(r.cpu_ms + r.pg_ms for r in rounds)
    return (
        f"  {name:32s} {best.rate:6.0f} runs/s best, {median:6.0f} median;"
        f" CPU {cpu:.2f} ms/run (client/worker {best.cpu_ms:.2f} + PostgreSQL {best.pg_ms:.2f})"
    )


def main() -> None:
    single_n = max(1, N // 4)  # one connection is slow: a quarter of the runs is plenty
    bare_many: list[Round] = []
    bare_one: list[Round] = []
    orchestra: list[Round] = []
    creations: list[float] = []
    with scratch_postgres() as url:
        from orchestra.store import migrate

        migrate.upgrade(url)
        for round_no in range(ROUNDS):
            one, five, _ = os.getloadavg()
            print(f"  round {round_no + 1}: load {one:.1f}/{five:.1f}", flush=True)
            bare_one.append(_bare(url, single_n, 1))
            bare_many.append(_bare(url, N, CONCURRENCY))
            figures, creation = _orchestra(url)
            orchestra.append(figures)
            creations.append(creation)
            print(
                f"    bare x1 {bare_one[-1].rate:6.0f}"
                f"  bare x{CONCURRENCY} {bare_many[-1].rate:6.0f}"
                f"  orchestra {figures.rate:6.0f} runs/s (suite run of {N} created in"
                f" {creation:.2f} s)",
                flush=True,
            )
    print(_line("bare loop, 1 connection", bare_one))
    print(_line(f"bare loop, {CONCURRENCY} connections", bare_many))
    print(_line(f"orchestra, 1 worker x{CONCURRENCY}", orchestra))
    for name, bare in (("1 connection", bare_one), (f"{CONCURRENCY} connections", bare_many)):
        ratios = [o.rate / b.rate for o, b in zip(orchestra, bare, strict=True)]
        best = max(r.rate for r in orchestra) / max(r.rate for r in bare)
        print(
            f"  ratio orchestra / bare loop on {name:14s}: {best:.2f} best-vs-best,"
            f" {statistics.median(ratios):.2f} median of rounds (target >= 1.0)"
        )
    print(
        f"  ({N} runs per round, concurrency {CONCURRENCY}, {ROUNDS} rounds; creating a suite run"
        f" of {N} runs took {min(creations):.2f}-{max(creations):.2f} s)"
    )


if __name__ == "__main__":
    main()
