"""A sweeper that remembers what it saw looks only at what changed since, and still loses no
wake-up: a run ended since its last pass queues its dependents, a barrier doomed since wakes its
parties, even one whose party arrived or parked out of the pass's sight; and a suite run whose
transaction fails is logged and tried again, without stopping the pass for the others."""

from __future__ import annotations

import logging

import pytest
from psycopg import sql as pgsql

from orchestra.domain.statuses import TestRunStatus
from orchestra.runtime.sweeper import SweepMemory, sweep
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.runtime.sweeps import (
    arrive,
    barrier_rows,
    chained_suite,
    claim_all,
    claimable,
    end,
    park,
)


async def swept(db: Database, memory: SweepMemory) -> bool:
    async with db.pool.connection() as conn:
        return await sweep(conn, memory)


async def test_a_run_ended_since_the_last_pass_has_its_dependents_queued_by_the_next(
    db: Database,
) -> None:
    suite = await chained_suite(db)
    suite_run = await running.start_suite_run(db, suite.id)
    runs = await claim_all(db)
    memory = SweepMemory()
    assert not await swept(db, memory)

    await end(db, runs[suite_run.id, "first", None], TestRunStatus.PASSED)

    assert await swept(db, memory)
    assert (await running.progress(db, suite_run.id)).counts[TestRunStatus.QUEUED] == 1
    assert not await swept(db, memory)  # nothing new


async def test_a_barrier_doomed_since_the_last_pass_has_its_parked_party_woken(
    db: Database,
) -> None:
    runs = await barrier_rows(db, rows=3)
    memory = SweepMemory()
    assert not await swept(db, memory)

    await end(db, runs["right", 1], TestRunStatus.FAILED)

    assert await swept(db, memory)
    assert await claimable(db) == {("left", 1)}


async def test_a_barrier_of_the_whole_suite_run_is_woken_when_a_party_ends_without_arriving(
    db: Database,
) -> None:
    runs = await barrier_rows(db, rows=None)
    memory = SweepMemory()
    assert not await swept(db, memory)

    await end(db, runs["right", None], TestRunStatus.ERROR)

    assert await swept(db, memory)
    assert await claimable(db) == {("left", None)}


async def test_a_party_that_parks_after_the_pass_that_saw_its_barrier_doomed_is_woken_later(
    db: Database,
) -> None:
    runs = await barrier_rows(db, rows=2, left="arrived")  # not parked yet
    memory = SweepMemory()
    assert not await swept(db, memory)
    await end(db, runs["right", 0], TestRunStatus.FAILED)
    assert not await swept(db, memory)  # doomed, but its party is still on its way to park

    async with db.pool.connection() as conn:
        await park(conn, runs["left", 0])
    assert await swept(db, memory)  # no run ended since: the barrier was kept in sight

    assert await claimable(db) == {("left", 0)}


async def test_a_party_whose_arrival_commits_after_the_pass_that_followed_the_end_is_woken(
    db: Database,
) -> None:
    """The arrival looked for parties that ended before the other party's end committed, and
    committed only after the next pass: that pass could not see the barrier."""
    late = await barrier_rows(db, rows=1, left="running")
    memory = SweepMemory()
    assert not await swept(db, memory)

    async with db.pool.connection() as arriving, arriving.transaction():
        await arrive(arriving, late["left", 0])
        await end(db, late["right", 0], TestRunStatus.FAILED)
        assert not await swept(db, memory)  # the arrival is not committed: nothing to see
    async with db.pool.connection() as conn:
        await park(conn, late["left", 0])
    assert await swept(db, memory)

    assert await claimable(db) == {("left", 0)}


async def refuse_updates_of(db: Database, suite_run_id: int) -> None:
    """A trigger that makes PostgreSQL refuse every update of a run of `suite_run_id`."""
    async with db.pool.connection() as conn:
        await conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
            " $$BEGIN RAISE EXCEPTION 'refused for the test'; END$$"
        )
        await conn.execute(
            pgsql.SQL(
                "CREATE TRIGGER refuse BEFORE UPDATE ON test_run FOR EACH ROW"
                " WHEN (OLD.suite_run_id = {}) EXECUTE FUNCTION refuse()"
            ).format(pgsql.Literal(suite_run_id))
        )


async def test_a_suite_run_whose_transaction_fails_is_logged_and_the_others_are_still_swept(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    suite = await chained_suite(db)
    before, failing, after = [await running.start_suite_run(db, suite.id) for _ in range(3)]
    runs = await claim_all(db)
    for suite_run in (before, failing, after):
        await end(db, runs[suite_run.id, "first", None], TestRunStatus.PASSED)
    await refuse_updates_of(db, failing.id)
    memory = SweepMemory()

    with caplog.at_level(logging.WARNING, logger="orchestra.sweeper"):
        assert await swept(db, memory)

    queued = {
        suite_run.id: (await running.progress(db, suite_run.id)).counts.get(TestRunStatus.QUEUED)
        for suite_run in (before, failing, after)
    }
    assert queued == {before.id: 1, failing.id: None, after.id: 1}
    assert f"suite run {failing.id} failed" in caplog.text
    assert "refused for the test" in caplog.text

    async with db.pool.connection() as conn:
        await conn.execute("DROP TRIGGER refuse ON test_run")
    assert await swept(db, memory)  # nothing ended since, but it was not done: tried again
    assert (await running.progress(db, failing.id)).counts[TestRunStatus.QUEUED] == 1
