"""Finished suite runs of a stored suite, aged at will, and what the store holds."""

from __future__ import annotations

from orchestra.runtime.worker import WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    step,
    store_suite,
)

OPTIONS = WorkerOptions(poll_seconds=0.05)


async def finished_runs(db: Database, days_ago: list[int]) -> tuple[int, list[int]]:
    """A new suite and its id, with one finished suite run per item of `days_ago` (2 test runs,
    3 step results each), that one ended so many days ago; their ids."""
    suite = await store_suite(
        db, [scenario("a", [step(0, "a"), step(1, "b")]), scenario("b", [step(0, "c")])]
    )
    ids = []
    for days in days_ago:
        suite_run = await running.start_suite_run(db, suite.id)
        await running.work_until_done(
            db, suite_run.id, factory_for(ScriptedExecutor()), options=OPTIONS
        )
        async with db.pool.connection() as conn:
            await conn.execute(
                "UPDATE suite_run SET finished_at = now() - make_interval(days => %s)"
                " WHERE id = %s",
                (days, suite_run.id),
            )
        ids.append(suite_run.id)
    return suite.id, ids


async def table_counts(db: Database) -> dict[str, int]:
    async with db.pool.connection() as conn:
        counts = {}
        for table in ("suite_run", "test_run", "step_result"):
            row = await (await conn.execute(f"SELECT count(*) FROM {table}")).fetchone()
            assert row is not None
            counts[table] = int(row["count"])
        return counts
