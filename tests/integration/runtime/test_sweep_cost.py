"""The sweep costs what there is to do: over idle suite runs it writes nothing, it never holds a
suite run's row while working on another one, and the barriers that can no longer be met are
found and woken in a constant number of statements."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row

from orchestra.domain.statuses import SuiteRunStatus, TestRunStatus
from orchestra.runtime.sweeper import SweepMemory, sweep
from orchestra.services import running
from orchestra.store.database import Database
from orchestra.store.queries import sql
from orchestra.store.runs import RunRepository
from tests.integration.runtime.support import lock_waiters
from tests.integration.runtime.sweeps import (
    CountingConnection,
    barrier_rows,
    chained_suite,
    claim_all,
    end,
)


class PausingConnection(psycopg.AsyncConnection[DictRow]):
    """Stops before its first statement about suite run `pause_at` until `go` is set."""

    pause_at: int | None = None
    reached: asyncio.Event
    go: asyncio.Event

    async def execute(
        self, query: Any, params: Any = None, **kwargs: Any
    ) -> psycopg.AsyncCursor[DictRow]:
        cls = type(self)
        if isinstance(params, dict) and params.get("suite_run_id") == cls.pause_at:
            cls.pause_at = None
            cls.reached.set()
            await cls.go.wait()
        return await super().execute(query, params, **kwargs)


async def row_versions(db: Database) -> list[tuple[str, int, str]]:
    async with db.pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT 'suite_run' AS t, id, xmin::text AS v FROM suite_run"
            " UNION ALL SELECT 'test_run', id, xmin::text FROM test_run ORDER BY 1, 2"
        )
        return [(row["t"], row["id"], row["v"]) for row in await cursor.fetchall()]


async def lock_waits(db: Database) -> int:
    async with db.pool.connection() as probe:
        return await lock_waiters(probe)


async def advisory_locks(db: Database) -> int:
    async with db.pool.connection() as probe:
        cursor = await probe.execute(
            "SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
            " WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"
        )
        row = await cursor.fetchone()
    return 0 if row is None else int(row["n"])


async def done_or_blocked(db: Database, task: asyncio.Task[Any]) -> None:
    """Until `task` has ended or a statement of this database waits for a lock (bounded)."""
    for _ in range(500):
        if task.done() or await lock_waits(db) > 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the completion neither ended nor waited for a lock")


async def test_a_sweep_over_idle_suite_runs_with_dependencies_writes_nothing(
    db: Database, database_url: str
) -> None:
    suite = await chained_suite(db)
    for _ in range(5):
        await running.start_suite_run(db, suite.id)  # `then` waits for `first`, still queued
    before = await row_versions(db)

    async with await CountingConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    ) as conn:
        assert not await sweep(conn)
        assert not await sweep(conn)

    assert await row_versions(db) == before  # not one row version more


async def test_the_sweep_queues_skips_and_closes_what_completions_left_to_it(
    db: Database,
) -> None:
    suite = await chained_suite(db)
    passing = await running.start_suite_run(db, suite.id)
    failing = await running.start_suite_run(db, suite.id)
    idle = await running.start_suite_run(db, suite.id)
    by_suite_run = {(sid, name): run for (sid, name, _), run in (await claim_all(db)).items()}
    await end(db, by_suite_run[passing.id, "first"], TestRunStatus.PASSED)
    await end(db, by_suite_run[failing.id, "first"], TestRunStatus.FAILED)
    await end(db, by_suite_run[failing.id, "other"], TestRunStatus.PASSED)

    async with db.pool.connection() as conn:
        assert await sweep(conn)
        assert not await sweep(conn)  # done: the next pass finds nothing

    queued = await running.progress(db, passing.id)
    assert queued.counts == {
        TestRunStatus.PASSED: 1,
        TestRunStatus.QUEUED: 1,
        TestRunStatus.RUNNING: 1,
    }
    closed = await running.progress(db, failing.id)
    assert closed.suite_run.status is SuiteRunStatus.FAILED
    assert closed.suite_run.unfinished == 0
    assert closed.counts == {
        TestRunStatus.FAILED: 1,
        TestRunStatus.SKIPPED: 1,
        TestRunStatus.PASSED: 1,
    }
    untouched = await running.progress(db, idle.id)
    assert untouched.counts == {TestRunStatus.PENDING: 1, TestRunStatus.RUNNING: 2}


async def test_a_completion_is_not_blocked_by_a_sweep_busy_with_another_suite_run(
    db: Database, database_url: str
) -> None:
    suite = await chained_suite(db)
    swept_first = await running.start_suite_run(db, suite.id)
    swept_next = await running.start_suite_run(db, suite.id)
    by_suite_run = {(sid, name): run for (sid, name, _), run in (await claim_all(db)).items()}
    # the sweep has to skip `then` of the first (its row is written) and queue that of the next
    await end(db, by_suite_run[swept_first.id, "first"], TestRunStatus.FAILED)
    await end(db, by_suite_run[swept_next.id, "first"], TestRunStatus.PASSED)
    PausingConnection.pause_at = swept_next.id
    PausingConnection.reached, PausingConnection.go = asyncio.Event(), asyncio.Event()

    async with await PausingConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    ) as conn:
        sweeping = asyncio.create_task(sweep(conn))
        await asyncio.wait_for(PausingConnection.reached.wait(), timeout=10)
        # the sweep is inside the next suite run's transaction: the first one's last run ends
        completing = asyncio.create_task(
            end(db, by_suite_run[swept_first.id, "other"], TestRunStatus.PASSED)
        )
        await done_or_blocked(db, completing)
        blocked = not completing.done()
        async with db.pool.connection() as other:
            assert not await sweep(other)  # one sweeper at a time: the other skips its turn
        PausingConnection.go.set()
        assert await asyncio.wait_for(sweeping, timeout=10)
        await asyncio.wait_for(completing, timeout=10)
        assert await advisory_locks(db) == 0  # given back, the connection still open

    assert not blocked
    first = await running.progress(db, swept_first.id)
    assert first.suite_run.unfinished == 0
    assert first.counts == {
        TestRunStatus.FAILED: 1,
        TestRunStatus.SKIPPED: 1,
        TestRunStatus.PASSED: 1,
    }
    assert (await running.progress(db, swept_next.id)).counts[TestRunStatus.QUEUED] == 1


async def test_doomed_barriers_are_all_woken_in_a_constant_number_of_statements(
    db: Database, database_url: str
) -> None:
    runs = await barrier_rows(db, rows=30)
    doomed_rows = set(range(0, 30, 3))
    for row in doomed_rows:  # the other party of these rows ends without arriving
        await end(db, runs["right", row], TestRunStatus.FAILED)

    async with await CountingConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    ) as conn:
        suite_run_ids = [runs["left", 0].suite_run_id]
        CountingConnection.statements = 0
        woken = await RunRepository(conn).wake_doomed_barriers(suite_run_ids)
        assert woken.woken == len(doomed_rows)
        assert CountingConnection.statements == 2  # the wake-up and its notification
        CountingConnection.statements = 0
        woken = await RunRepository(conn).wake_doomed_barriers(suite_run_ids)
        assert woken.woken == 0  # woken already
        assert CountingConnection.statements == 1

    claimable = await claim_all(db, worker="w2")
    assert {(name, row) for _, name, row in claimable} == {("left", row) for row in doomed_rows}


async def test_only_the_barriers_a_party_left_without_arriving_are_woken(db: Database) -> None:
    runs = await barrier_rows(db, rows=3)
    await end(db, runs["right", 1], TestRunStatus.PASSED)  # arrived first, then ended
    async with db.pool.connection() as conn:
        await RunRepository(conn).arrive_at_barrier(
            runs["right", 1].suite_run_id,
            "sync@row2",
            2,
            runs["right", 2].id,
            60,
            worker="w",
            attempt=1,
        )
        woken = await RunRepository(conn).wake_doomed_barriers([runs["right", 1].suite_run_id])
        assert woken.woken == 1  # row 1's only
    claimable = await claim_all(db, worker="w2")
    assert [(name, row) for _, name, row in claimable] == [("left", 1)]


async def test_a_data_row_barrier_is_doomed_by_its_own_row_only(db: Database) -> None:
    runs = await barrier_rows(db, rows=3)
    gone = runs["right", 0]
    await end(db, gone, TestRunStatus.ERROR)
    async with db.pool.connection() as conn:
        repo = RunRepository(conn)
        doomed = await repo.barrier_doomed_by(gone.suite_run_id, "sync@row0")
        assert doomed == [f"right (test run {gone.id}) ended ERROR"]
        assert await repo.barrier_doomed_by(gone.suite_run_id, "sync@row1") == []


async def test_a_sweep_cancelled_midway_gives_its_lock_back(
    db: Database, database_url: str
) -> None:
    suite = await chained_suite(db)
    suite_run = await running.start_suite_run(db, suite.id)
    runs = await claim_all(db)
    await end(db, runs[suite_run.id, "first", None], TestRunStatus.PASSED)
    PausingConnection.pause_at = suite_run.id
    PausingConnection.reached, PausingConnection.go = asyncio.Event(), asyncio.Event()

    async with await PausingConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    ) as conn:
        sweeping = asyncio.create_task(sweep(conn))
        await asyncio.wait_for(PausingConnection.reached.wait(), timeout=10)
        sweeping.cancel()  # a worker stopping
        await asyncio.wait_for(asyncio.wait([sweeping]), timeout=10)
        assert sweeping.cancelled()
        assert await advisory_locks(db) == 0

    async with db.pool.connection() as conn:
        assert await sweep(conn)  # another sweeper takes the turn, and queues `then`
    assert (await running.progress(db, suite_run.id)).counts[TestRunStatus.QUEUED] == 1


async def explain(conn: psycopg.AsyncConnection[DictRow], name: str, **params: Any) -> Any:
    """The plan of named statement `name` run with `params`, with what each node did (the
    statement is executed: EXPLAIN ANALYZE)."""
    cursor = await conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql(name), params)
    row = await cursor.fetchone()
    assert row is not None
    return row["QUERY PLAN"][0]["Plan"]


def nodes(plan: Any) -> list[Any]:
    return [plan, *(node for child in plan.get("Plans", []) for node in nodes(child))]


def loops(plan: Any, *, relations: frozenset[str] = frozenset(), alias: str = "") -> int:
    """How many times the plan's nodes on `relations` (or under `alias`) were run."""
    return sum(
        int(node["Actual Loops"])
        for node in nodes(plan)
        if node.get("Relation Name") in relations or (alias and node.get("Alias") == alias)
    )


async def test_an_idle_pass_of_a_sweeper_that_remembers_reads_no_run_and_no_barrier(
    db: Database, database_url: str
) -> None:
    suite = await chained_suite(db)
    for _ in range(5):
        await running.start_suite_run(db, suite.id)  # `then` waits for `first`, still queued
    await barrier_rows(db, rows=10)  # ten runs parked at barriers that can still be met
    memory = SweepMemory()

    async with await CountingConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    ) as conn:
        assert not await sweep(conn, memory)  # a new sweeper's pass looks at everything
        CountingConnection.statements = 0
        assert not await sweep(conn, memory)
        # the lock, the stuck runs, what changed, the unlock: no barrier is looked at
        assert CountingConnection.statements == 4
        plan = await explain(
            conn,
            "suite_runs_to_sweep",
            known_ids=list(memory.seen),
            known_unfinished=list(memory.seen.values()),
        )

    assert (
        loops(plan, relations=frozenset({"test_run", "test_run_dependency"})) == 0
    )  # no run is read
    assert len(memory.seen) == 6


async def test_the_parties_of_a_barrier_are_looked_up_only_when_a_run_of_its_row_ended(
    db: Database,
) -> None:
    runs = await barrier_rows(db, rows=30)
    await end(db, runs["right", 7], TestRunStatus.FAILED)

    async with db.pool.connection() as conn:
        plan = await explain(
            conn, "wake_doomed_barriers", suite_run_ids=[runs["left", 7].suite_run_id]
        )

    assert loops(plan, alias="parties") == 1  # row 7's barrier, not the 29 others
