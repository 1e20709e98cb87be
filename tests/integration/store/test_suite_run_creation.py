"""Creating a suite run: every test run in one statement, and statistics the claim can trust."""

from __future__ import annotations

import asyncio

import psycopg

from orchestra.services import running
from orchestra.store.database import Database
from orchestra.store.queries import sql
from tests.integration.runtime.support import scenario, step, store_suite


async def test_each_scenario_gets_a_run_per_data_row_with_that_rows_data(db: Database) -> None:
    suite = await store_suite(
        db, [scenario("first", [step(0, "a")]), scenario("second", [step(0, "b")], "first")]
    )
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("people", [{"name": "Ann"}, {"name": "Bob"}])
    suite_run = await running.start_suite_run(db, suite.id, data_set="people")
    async with db.transaction() as uow:
        runs = await uow.runs.test_runs(suite_run.id)
    by_key = {(r.scenario_name, r.data_row_index): r for r in runs}
    assert sorted(by_key) == [("first", 0), ("first", 1), ("second", 0), ("second", 1)]
    assert by_key[("second", 1)].data_row == {"name": "Bob"}
    assert by_key[("first", 0)].status.value == "QUEUED"
    assert by_key[("second", 0)].status.value == "PENDING"  # waits for "first" of row 0
    async with db.connection() as conn:
        cursor = await conn.execute(
            "SELECT count(*) AS n FROM test_run_dependency d"
            " JOIN test_run r ON r.id = d.test_run_id WHERE r.suite_run_id = %s",
            (suite_run.id,),
        )
        assert (await cursor.fetchone()) == {"n": 2}  # row by row, not across rows


async def test_the_claim_walks_its_index_on_a_table_a_suite_run_just_filled(db: Database) -> None:
    # On a table the planner never analyzed, it guessed a handful of queued runs and scanned
    # and sorted all of them at every claim (O(n) per claim, 4 ms at 20,000 runs).
    suite = await store_suite(db, [scenario("one", [step(0, "a")])])
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("rows", [{"i": i} for i in range(2000)])
    await running.start_suite_run(db, suite.id, data_set="rows")
    params = {"worker": "w", "limit": 8, "lease_seconds": 30, "suite_run_id": None}
    async with db.connection() as conn:
        cursor = await conn.execute("EXPLAIN " + sql("claim_runs"), params)
        plan = "\n".join(str(row["QUERY PLAN"]) for row in await cursor.fetchall())
    assert "Index Scan using test_run_queued_idx" in plan, plan


async def test_a_creation_never_waits_for_another_creation_s_statistics_lock(db: Database) -> None:
    # ANALYZE holds its lock on test_run until its transaction ends: a second creation (or an
    # autovacuum that cannot be cancelled) must not make a suite run's creation wait on it.
    suite = await store_suite(db, [scenario("one", [step(0, "a")])])
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("rows", [{"i": i} for i in range(300)])
    async with db.transaction() as uow:
        rows = await uow.config.data_set("rows")
        stored = await uow.suites.get(suite.id)
        assert rows is not None
        assert stored is not None
        first = await uow.runs.create(stored, environment_id=None, data_set=rows)  # analyzes
        second = await asyncio.wait_for(
            running.start_suite_run(db, suite.id, data_set="rows"), timeout=10
        )
    async with db.transaction() as uow:
        assert len(await uow.runs.test_runs(first.id)) == 300
        assert len(await uow.runs.test_runs(second.id)) == 300


async def test_creating_a_suite_run_wakes_the_workers(db: Database, database_url: str) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a")])])
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as listener:
        await listener.execute("LISTEN orchestra_runs")
        await running.start_suite_run(db, suite.id)
        woken = [n.channel async for n in listener.notifies(timeout=5, stop_after=1)]
    assert woken == ["orchestra_runs"]
