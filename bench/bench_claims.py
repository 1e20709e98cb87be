"""Claims/s: Orchestra working through N one-step no-op runs vs a bare SKIP LOCKED loop.

Both on the same fresh PostgreSQL with synchronous_commit on, at the same concurrency. The bare
loop claims one row and completes it, one transaction each, the way a minimal queue does;
Orchestra claims, heartbeats, checkpoints the step, completes and schedules every run.
`BENCH_CLAIMS_N` (default 20000) and `BENCH_CLAIMS_CONCURRENCY` (default 32) tune it.
"""

from __future__ import annotations

import asyncio
import os
import time

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


async def orchestra_runs(url: str, n: int, concurrency: int) -> tuple[float, int]:
    async with connect_pool(url, max_size=8) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        suite_id = await _one_step_suite(db)
        async with db.transaction() as uow:
            await uow.config.upsert_data_set("rows", [{"i": i} for i in range(n)])
        created = time.perf_counter()
        suite_run = await running.start_suite_run(db, suite_id, data_set="rows")
        creation = time.perf_counter() - created
        print(f"  created {n} test runs in {creation:.2f}s", flush=True)
        options = WorkerOptions(concurrency=concurrency, lease_seconds=30, poll_seconds=0.2)
        started = time.perf_counter()
        final, stats = await running.work_until_done(
            db, suite_run.id, noop_factory, workers=1, options=options
        )
        elapsed = time.perf_counter() - started
        assert final.counts.get(next(iter(final.counts))) == n, final.counts
        return elapsed, sum(s.finished for s in stats)


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


def main() -> None:
    with scratch_postgres() as url:
        from orchestra.store import migrate

        migrate.upgrade(url)
        with measure(url) as bare:
            bare_elapsed = asyncio.run(bare_loop(url, N, CONCURRENCY))
        with measure(url) as orch:
            elapsed, finished = asyncio.run(orchestra_runs(url, N, CONCURRENCY))
    bare_rate = N / bare_elapsed
    orch_rate = N / elapsed
    print(f"  bare SKIP LOCKED loop : {bare_rate:8.0f} runs/s  ({N} in {bare_elapsed:.2f}s)")
    print(
        f"  orchestra worker      : {orch_rate:8.0f} runs/s  ({finished} in {elapsed:.2f}s,"
        f" CPU {1000 * orch.cpu / N:.2f} ms/run in the worker"
        f" + {1000 * orch.pg_cpu / N:.2f} ms/run in PostgreSQL)"
    )
    print(f"  bare loop CPU         : {1000 * (bare.cpu + bare.pg_cpu) / N:.2f} ms/run in all")
    print(f"  ratio orchestra / bare: {orch_rate / bare_rate:.2f}  (target >= 1.0)")


if __name__ == "__main__":
    main()
