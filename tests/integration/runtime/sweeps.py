"""What the sweep tests share: a connection that counts statements, suites whose runs depend on
each other or meet at barriers, and runs claimed and ended as a worker would."""

from __future__ import annotations

import time
from typing import Any, Literal

import psycopg
from psycopg.rows import DictRow

from orchestra.domain.records import StoredSuite
from orchestra.domain.statuses import TestRunStatus
from orchestra.services import running
from orchestra.store.base import Connection
from orchestra.store.database import Database
from orchestra.store.runs import ClaimedRun, RunRepository
from tests.integration.runtime.support import scenario, shared_barrier, step, store_suite

PARKED_FOR = 3600.0


class CountingConnection(psycopg.AsyncConnection[DictRow]):
    """Counts the statements its repositories send (they all go through `execute`)."""

    statements = 0

    async def execute(
        self, query: Any, params: Any = None, **kwargs: Any
    ) -> psycopg.AsyncCursor[DictRow]:
        type(self).statements += 1
        return await super().execute(query, params, **kwargs)


async def chained_suite(db: Database) -> StoredSuite:
    """`then` waits for `first` to pass; `other` depends on nothing."""
    return await store_suite(
        db,
        [
            scenario("first", [step(0, "a")]),
            scenario("then", [step(0, "b")], "first"),
            scenario("other", [step(0, "c")]),
        ],
    )


Key = tuple[int, str, int | None]  # suite run id, scenario name, data row index


async def claim_all(db: Database, worker: str = "w") -> dict[Key, ClaimedRun]:
    """Every claimable run, by suite run, scenario name and data row index."""
    async with db.pool.connection() as conn:
        claimed = await RunRepository(conn).claim(worker, 1000, lease_seconds=60)
        names = {}
        for run in claimed:
            stored = await RunRepository(conn).test_run(run.id)
            assert stored is not None
            names[run.id] = stored.scenario_name
    return {(run.suite_run_id, names[run.id], run.data_row_index): run for run in claimed}


async def end(db: Database, run: ClaimedRun, status: TestRunStatus) -> None:
    """A completion that leaves its dependents and its suite run to the sweep."""
    async with db.pool.connection() as conn:
        ended = await RunRepository(conn).complete(
            run.id, "w", run.attempt, status, None, {}, close_suite_run=False
        )
    assert ended == run.suite_run_id


async def barrier_rows(
    db: Database, rows: int | None, *, left: Literal["parked", "arrived", "running"] = "parked"
) -> dict[tuple[str, int | None], ClaimedRun]:
    """A suite run of `rows` data rows whose `left` and `right` runs meet at barrier 'sync'
    (one per row; with `rows` None, no data set and one barrier for the whole suite run),
    every run claimed by 'w' and every `left` run parked at its barrier (or arrived there and
    still running, or not arrived yet, as `left` says)."""
    barrier = shared_barrier(1, "sync", 2, PARKED_FOR)
    suite = await store_suite(
        db,
        [scenario("left", [step(0, "l"), barrier]), scenario("right", [step(0, "r"), barrier])],
    )
    data_set = None
    if rows is not None:
        data_set = "rows"
        async with db.transaction() as uow:
            await uow.config.upsert_data_set(data_set, [{"i": i} for i in range(rows)])
    await running.start_suite_run(db, suite.id, data_set=data_set)
    runs = {(name, row): run for (_, name, row), run in (await claim_all(db)).items()}
    async with db.pool.connection() as conn:
        for (name, _), run in runs.items():
            if name == "left" and left != "running":
                await arrive(conn, run)
                if left == "parked":
                    await park(conn, run)
    return runs


async def arrive(conn: Connection, run: ClaimedRun) -> None:
    """`run` arrives at its barrier ('sync', or its data row's)."""
    name = "sync" if run.data_row_index is None else f"sync@row{run.data_row_index}"
    arrived = await RunRepository(conn).arrive_at_barrier(
        run.suite_run_id, name, 2, run.id, PARKED_FOR, worker="w", attempt=run.attempt
    )
    assert arrived is not None


async def park(conn: Connection, run: ClaimedRun) -> None:
    """`run` waits at the barrier it arrived at: back to the queue until its timeout."""
    assert await RunRepository(conn).release(run.id, "w", run.attempt, {}, time.time() + PARKED_FOR)


async def claimable(db: Database) -> set[tuple[str, int | None]]:
    """The runs another worker can claim now (claimed by it), by scenario name and data row."""
    return {(name, row) for _, name, row in await claim_all(db, worker="w2")}
