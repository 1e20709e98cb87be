"""What one sweep costs: N open suite runs whose runs depend on each other (none ready), and M
runs parked at per-row barriers (of one data-driven suite run) that can still be met. Prints,
for three kinds of pass, the wall time (median of a few), the statements sent and the rows
updated: a new sweeper's first pass (it looks at everything), an idle pass (a sweeper that
swept before; nothing changed since), and a pass after one run of the barriers' suite run
ended (a party of one barrier, which it dooms: one run woken).

    python -m bench.sweep_cost [N] [M]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from typing import Any, LiteralString

import psycopg
from psycopg import sql as pgsql
from psycopg.rows import DictRow, dict_row

from bench.support import scratch_postgres
from orchestra.domain.process import Flow, Node, NodeCategory, ProcessGraph
from orchestra.domain.scenario import Coverage, DependsOn, GeneratedSuite, ScenarioStep
from orchestra.domain.scenario import TestScenario as Scenario
from orchestra.domain.statuses import StepKind
from orchestra.runtime.sweeper import SweepMemory, sweep
from orchestra.services import running
from orchestra.store import migrate
from orchestra.store.database import Database, ServerInfo, connect_pool

SWEEPS = 7


class CountingConnection(psycopg.AsyncConnection[DictRow]):
    """Counts the statements sent through `execute` (every one a repository sends)."""

    statements = 0

    async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        CountingConnection.statements += 1
        return await super().execute(query, params, **kwargs)


def _step(position: int, element: str, barrier: bool = False) -> ScenarioStep:
    if barrier:
        spec: dict[str, Any] = {"name": "sync", "parties": 2, "timeout": 3600}
        return ScenarioStep(
            position=position, kind=StepKind.BARRIER, element_id="sync-barrier", spec=spec
        )
    return ScenarioStep(position=position, kind=StepKind.ACTION, element_id=element, spec={})


def _scenario(name: str, steps: list[ScenarioStep], *deps: str) -> Scenario:
    return Scenario(
        name=name,
        position=0,
        path=tuple(s.element_id or "" for s in steps),
        steps=tuple(steps),
        depends_on=tuple(DependsOn(scenario=d) for d in deps),
    )


async def _suite(db: Database, scenarios: list[Scenario], key: str) -> int:
    graph = ProcessGraph(
        id=key,
        nodes=(Node(id="s", category=NodeCategory.START_EVENT, type="startEvent"),),
        flows=(Flow(id="f", source="s", target="s"),),
    )
    suite = GeneratedSuite(
        process_key=key,
        process_version=1,
        criterion="all-flows",
        scenarios=tuple(s.model_copy(update={"position": i}) for i, s in enumerate(scenarios)),
        coverage=Coverage(
            criterion="all-flows", flows_total=1, flows_covered=1, nodes_total=1, nodes_covered=1
        ),
    )
    async with db.transaction() as uow:
        process, _ = await uow.processes.add_version(
            graph, checksum=key, source_xml="<x/>", source_name=None
        )
        return await uow.suites.add(process.id, suite)


async def _populate(db: Database, open_runs: int, barriers: int) -> None:
    chained = await _suite(
        db, [_scenario("a", [_step(0, "a")]), _scenario("b", [_step(0, "b")], "a")], "chain"
    )
    for _ in range(open_runs):
        await running.start_suite_run(db, chained)
    if not barriers:
        return
    meeting = await _suite(
        db,
        [
            _scenario("left", [_step(0, "l"), _step(1, "", True)]),
            _scenario("right", [_step(0, "r"), _step(1, "", True)]),
        ],
        "meet",
    )
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("rows", [{"i": i} for i in range(barriers)])
    suite_run = await running.start_suite_run(db, meeting, data_set="rows")
    park: LiteralString = """
        WITH lefts AS (
            SELECT r.id, r.data_row_index
            FROM test_run r JOIN test_scenario s ON s.id = r.scenario_id
            WHERE r.suite_run_id = %(id)s AND s.name = 'left'
        ), parked AS (
            UPDATE test_run t SET available_at = now() + interval '1 hour'
            FROM lefts WHERE t.id = lefts.id
        )
        INSERT INTO suite_barrier (suite_run_id, name, parties, arrived, timeout_at)
        SELECT %(id)s, 'sync@row' || data_row_index, 2, ARRAY[id], now() + interval '1 hour'
        FROM lefts"""
    async with db.pool.connection() as conn:
        await conn.execute(park, {"id": suite_run.id})


async def _updated_rows(conn: psycopg.AsyncConnection[DictRow]) -> int:
    await conn.execute("SELECT pg_stat_force_next_flush()")
    query = pgsql.SQL(
        "SELECT sum(n_tup_upd)::bigint AS n FROM pg_stat_user_tables"
        " WHERE relname IN ('suite_run', 'test_run')"
    )
    cursor = await conn.execute(query)
    row = await cursor.fetchone()
    return int(row["n"] or 0) if row else 0


_END_ONE_PARTY: LiteralString = """
    WITH gone AS (
        UPDATE test_run SET status = 'FAILED', finished_at = now()
        WHERE id = (SELECT r.id FROM test_run r JOIN test_scenario s ON s.id = r.scenario_id
                    WHERE s.name = 'right' AND r.status = 'QUEUED' ORDER BY r.id LIMIT 1)
        RETURNING suite_run_id
    )
    UPDATE suite_run SET unfinished = unfinished - 1 WHERE id = (SELECT suite_run_id FROM gone)"""


async def _passes(
    conn: CountingConnection, memory: SweepMemory | None, between: LiteralString | None
) -> str:
    """SWEEPS passes (`between` run before each, untimed): median time, statements, updates."""
    times: list[float] = []
    statements = updated = 0
    for _ in range(SWEEPS):
        if between is not None:
            await conn.execute(between)
        before = await _updated_rows(conn)
        CountingConnection.statements = 0
        started = time.perf_counter()
        await sweep(conn, memory)
        times.append(time.perf_counter() - started)
        statements += CountingConnection.statements
        updated += await _updated_rows(conn) - before
    return (
        f"{statistics.median(times) * 1000:.1f} ms (median of {SWEEPS}), "
        f"{statements / SWEEPS:.0f} statements, {updated / SWEEPS:.0f} rows updated"
    )


async def measure(url: str, open_runs: int, barriers: int) -> None:
    async with connect_pool(url, max_size=2, upgrade=False) as pool:
        await _populate(Database(pool, ServerInfo(url=url, embedded=False)), open_runs, barriers)
    conn = await CountingConnection.connect(url, autocommit=True, row_factory=dict_row)
    async with conn:
        await sweep(conn)  # warm: plans, caches
        print(
            f"N={open_runs} open suite runs with dependencies, M={barriers} waiting barriers:",
            flush=True,
        )
        print(f"  a new sweeper's pass:        {await _passes(conn, None, None)}", flush=True)
        memory = SweepMemory()
        await sweep(conn, memory)
        await sweep(conn, memory)  # what the first pass saw in flight has settled
        print(f"  an idle pass:                {await _passes(conn, memory, None)}", flush=True)
        if barriers:
            ended = await _passes(conn, memory, _END_ONE_PARTY)
            print(f"  a pass after one run ended:  {ended}", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = [int(a) for a in (argv if argv is not None else sys.argv[1:])]
    open_runs, barriers = (args + [500, 2000][len(args) :])[:2]
    with scratch_postgres() as url:
        migrate.upgrade(url)
        asyncio.run(measure(url, open_runs, barriers))


if __name__ == "__main__":
    main()
