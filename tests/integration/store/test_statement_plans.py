"""How the pool's statements are planned: once per connection for any values (a generic plan,
prepared at its second execution), except those whose best plan depends on their values,
sent with them as literals and planned for them each time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import psycopg

from orchestra.runtime.worker import WorkerOptions
from orchestra.services import running
from orchestra.store.base import Connection
from orchestra.store.database import Database, connect_pool
from orchestra.store.runs import RunRepository
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    step,
    store_suite,
)

FAST = WorkerOptions(concurrency=8, lease_seconds=5, poll_seconds=0.05, sweep_seconds=0.1)


@contextlib.asynccontextmanager
async def every_connection(db: Database) -> AsyncIterator[list[Connection]]:
    """Every connection of the pool at once (it opens those it has not opened yet)."""
    async with contextlib.AsyncExitStack() as stack:
        size = db.pool.get_stats()["pool_max"]
        yield [await stack.enter_async_context(db.pool.connection()) for _ in range(size)]


@contextlib.asynccontextmanager
async def explained(conn: Connection, *, analyze: bool = False) -> AsyncIterator[list[str]]:
    """The plans of the statements `conn` runs in the block, as auto_explain tells them (with
    the rows each node read, when `analyze`)."""
    plans: list[str] = []
    conn.add_notice_handler(lambda diagnostic: plans.append(diagnostic.message_primary or ""))
    await conn.execute("LOAD 'auto_explain'", prepare=False)
    await conn.execute("SET auto_explain.log_min_duration = 0", prepare=False)
    await conn.execute("SET auto_explain.log_level = notice", prepare=False)
    await conn.execute(f"SET auto_explain.log_analyze = {analyze}", prepare=False)
    try:
        yield plans
    finally:
        await conn.execute("RESET auto_explain.log_min_duration", prepare=False)
        await conn.execute("RESET auto_explain.log_analyze", prepare=False)


async def test_a_workers_statements_are_planned_once_per_connection_whatever_their_values(
    db: Database,
) -> None:
    suite = await store_suite(
        db, [scenario(f"s{i}", [step(0, "a"), step(1, "b"), step(2, "c")]) for i in range(40)]
    )
    suite_run = await running.start_suite_run(db, suite.id)
    await asyncio.wait_for(
        running.work_until_done(
            db, suite_run.id, factory_for(ScriptedExecutor()), workers=1, options=FAST
        ),
        timeout=30,
    )

    prepared = []
    async with every_connection(db) as connections:
        for conn in connections:
            cursor = await conn.execute(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE NOT from_sql",
                prepare=False,
            )
            prepared += await cursor.fetchall()

    checkpoints = [p for p in prepared if "jsonb_to_recordset" in p["statement"]]
    assert checkpoints, "the checkpoint of a batch is prepared where it ran twice"
    assert all(p["generic_plans"] >= 1 for p in checkpoints)
    assert [p for p in prepared if "queued_of_one" in p["statement"]], "so is a claim"
    assert [p["statement"] for p in prepared if p["custom_plans"] > 0] == []


async def test_a_filter_given_is_planned_for_its_value_and_walks_its_own_index(
    db: Database,
) -> None:
    many = await store_suite(db, [scenario("s", [step(0, "a")])])
    few = await store_suite(db, [scenario("s", [step(0, "a")])])
    async with db.connection() as conn:
        await conn.execute(
            "INSERT INTO suite_run (suite_id, status, finished_at)"
            " SELECT %s, 'PASSED', now() FROM generate_series(1, 3000)",
            (many.id,),
        )
        await conn.execute("ANALYZE suite_run", prepare=False)
    mine = (await running.start_suite_run(db, few.id)).id

    async with db.connection() as conn, explained(conn) as plans:
        page = await RunRepository(conn).page(suite_id=few.id, limit=2)

    assert [run.id for run, _ in page] == [mine]
    assert "suite_run_suite_idx" in "\n".join(plans)


async def queued_backlog(db: Database, suite_id: int) -> None:
    """A suite run of the suite's (one-scenario) with 3,000 more runs queued, analyzed."""
    backlog = await running.start_suite_run(db, suite_id)
    async with db.connection() as conn:
        await conn.execute(
            "INSERT INTO test_run (suite_run_id, scenario_id, data_row_index, status, queued_at)"
            " SELECT %s, (SELECT id FROM test_scenario WHERE suite_id = %s), i, 'QUEUED', now()"
            " FROM generate_series(0, 2999) i",
            (backlog.id, suite_id),
        )
        await conn.execute("ANALYZE test_run", prepare=False)


async def test_a_claim_of_one_suite_run_planned_once_walks_only_that_suite_runs_queue(
    db: Database,
) -> None:
    other = await store_suite(db, [scenario("s", [step(0, "a")])])
    mine = await store_suite(db, [scenario(f"s{i}", [step(0, "a")]) for i in range(3)])
    await queued_backlog(db, other.id)
    suite_run = await running.start_suite_run(db, mine.id)

    async with db.connection() as conn, explained(conn, analyze=True) as plans:
        for _ in range(3):  # prepared at the first: planned once, for any suite run
            claimed = await RunRepository(conn).claim("w", 1, 30, suite_run_id=suite_run.id)
            assert [run.suite_run_id for run in claimed] == [suite_run.id]
        cursor = await conn.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%%queued_of_one%%'",
            prepare=False,
        )
        assert await cursor.fetchall() == [{"generic_plans": 3, "custom_plans": 0}]

    last = [plan for plan in plans if "CTE queued_of_one" in plan][-1]
    queue = last.split("CTE queued", 1)[1].split("CTE queued_of_one", 1)[0]
    own = last.split("CTE queued_of_one", 1)[1].split("CTE expired", 1)[0]
    assert "never executed" in queue
    assert "Index Scan using test_run_suite_queued_idx" in own
    assert "Rows Removed" not in own


async def test_a_claim_of_any_suite_run_planned_once_leases_its_runs_by_key(db: Database) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "a")])])
    await queued_backlog(db, suite.id)

    async with db.connection() as conn, explained(conn) as plans:
        for _ in range(3):  # prepared at the second
            assert len(await RunRepository(conn).claim("w", 2, 30)) == 2

    assert "Seq Scan on test_run" not in plans[-1]


async def test_a_urls_own_start_up_options_are_kept_and_ours_added(database_url: str) -> None:
    info = psycopg.conninfo.conninfo_to_dict(database_url)
    url = psycopg.conninfo.make_conninfo("", **{**info, "options": "-c statement_timeout=12345"})

    async with connect_pool(url, upgrade=False) as pool, pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT current_setting('statement_timeout') AS timeout,"
            " current_setting('plan_cache_mode') AS plans, current_setting('TimeZone') AS zone",
            prepare=False,
        )
        row = await cursor.fetchone()

    assert row == {"timeout": "12345ms", "plans": "force_generic_plan", "zone": "UTC"}
