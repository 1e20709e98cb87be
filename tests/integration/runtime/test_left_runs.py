"""Runs a worker leaves while the database is out of reach go back to the queue once it is back,
without losing an attempt: dropped because no heartbeat got through for a whole lease, or left
while the worker stops; and only under the attempt the worker left them, never another's claim.
The database is real; the outage is a double of the pool that refuses (or never answers) every
connection while it lasts. The SUT is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import psycopg
import pytest
from junitparser import JUnitXml
from psycopg_pool import AsyncConnectionPool

from orchestra.binding.factory import executor_factory
from orchestra.domain.records import SuiteRun
from orchestra.domain.statuses import SuiteRunStatus, TestRunStatus
from orchestra.reports import render
from orchestra.reports.text import step_lines
from orchestra.runtime.tally import WorkerStats
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import reporting, running
from orchestra.store.base import Connection
from orchestra.store.commits import GroupCommitter
from orchestra.store.database import Database
from tests.integration.runtime.chaos import OrderSut, order_sut, start_order_suite
from tests.integration.runtime.support import (
    ScriptedExecutor,
    claimed_by_another,
    expire_leases,
    factory_for,
    scenario,
    step,
    store_suite,
    until,
)
from tests.integration.runtime.test_broken_connections import WRITE_MANY, BreakingPool

# The worker drops a run by its own clock, at the first failed heartbeat after which its lease
# would end before the next one (which SQL cannot set): a short lease, so the tests wait for it
# briefly (on a condition). Renewed every half lease, a run is dropped a whole beat before its
# lease ends, when the outage begins right after a renewal (`after_a_renewal`): the next claim
# then has that beat to release it before the lease runs out.
SHORT_LEASE = WorkerOptions(
    concurrency=2, lease_seconds=2, heartbeat_seconds=1, poll_seconds=0.05, sweep_seconds=0.1
)


class OutagePool:
    """psycopg's pool, out of reach while `away` is set: each connection is refused (the
    server down, the network cut), or with `hang` never answers; with `only`, just those of
    the worker's task of that name (e.g. its "heartbeat", whose statement keeps timing out)."""

    def __init__(self, pool: AsyncConnectionPool[Connection], only: str | None = None) -> None:
        self.pool = pool
        self.only = only
        self.away = False
        self.hang = False
        self.renewals = 0  # connections the worker's heartbeat used and gave back

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        task = asyncio.current_task()
        if self.away and (self.only is None or (task and task.get_name() == self.only)):
            if self.hang:
                await asyncio.Event().wait()
            raise psycopg.OperationalError("connection refused: the database is away")
        async with self.pool.connection() as conn:
            yield conn
        if task is not None and task.get_name() == "heartbeat":
            self.renewals += 1


async def after_a_renewal(outage: OutagePool) -> None:
    """Until the worker's heartbeat has renewed its leases once more."""
    renewals = outage.renewals
    await until(lambda: outage.renewals > renewals, "a heartbeat renews the leases")


async def held_through_an_outage(
    db: Database, sut: OrderSut, outage: OutagePool, *, dropped: Callable[[Worker], object]
) -> tuple[SuiteRun, running.Progress, WorkerStats]:
    """An order run waits in its Ship step while the database goes away (`outage`, from just
    after a renewal) until its worker has `dropped` it, then comes back: the suite run, how it
    ended and what the worker (`w1`) did."""
    sut.hold("ship")
    suite_run = await start_order_suite(db, sut, 1)
    worker = Worker(pool_of(outage), executor_factory(), SHORT_LEASE, worker_id="w1")
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await until(lambda: sut.held, "the run is inside its Ship step")
        await after_a_renewal(outage)
        outage.away = True
        await until(lambda: dropped(worker), "the worker drops the run")
        outage.away = False
        final = await ended(db, suite_run.id)
    finally:
        stop.set()
        stats = await asyncio.wait_for(task, timeout=10)
    return suite_run, final, stats


def _heartbeat_dropped(worker: Worker) -> bool:
    return not worker.held.active


def pool_of(double: OutagePool | BreakingPool) -> AsyncConnectionPool[Connection]:
    return cast(AsyncConnectionPool[Connection], double)


async def test_a_run_dropped_in_an_outage_longer_than_its_lease_resumes_once_the_database_is_back(
    db: Database,
) -> None:
    async with order_sut() as sut:
        suite_run, final, stats = await held_through_an_outage(
            db, sut, OutagePool(db.pool), dropped=_heartbeat_dropped
        )
        ships = len(sut.arrivals("/ship"))

    assert final.suite_run.status is SuiteRunStatus.PASSED
    async with db.transaction() as uow:
        (run,) = await uow.runs.test_runs(suite_run.id)
        assert await uow.runs.lost_leases([run.id]) == []
    # released at once, claimed again: no lease counted lost, resumed at its Ship step
    assert (run.attempt, run.lost_leases) == (2, 0)
    assert ships == 2
    assert (stats.claimed, stats.released, stats.finished, stats.lost) == (2, 1, 1, 0)


async def test_a_step_in_flight_when_its_run_was_released_is_recorded_as_re_sent(
    db: Database,
) -> None:
    async with order_sut() as sut:
        suite_run, _, _ = await held_through_an_outage(
            db, sut, OutagePool(db.pool), dropped=_heartbeat_dropped
        )

    report = await reporting.load_report(db, suite_run.id)
    (run,) = report.test_runs
    assert run.status is TestRunStatus.PASSED, run.error
    resent = {step.element_id: step.resent_after for step in run.steps if step.resent_after}
    assert resent == {"Ship": 1}  # sent by claim 1, which its worker released
    ship = next(step for step in run.steps if step.element_id == "Ship")
    assert (ship.attempt, ship.resent_cause, ship.resent_by) == (2, "unreachable", "w1")
    said = "re-sent after worker w1 released claim 1, the database out of reach"
    assert said in step_lines(ship)[0]
    document = json.loads(render(report, "json", all_runs=True))
    (ship_json,) = [s for s in document["report"]["test_runs"][0]["steps"] if s["resent_after"]]
    assert (ship_json["resent_cause"], ship_json["resent_by"]) == ("unreachable", "w1")
    assert ">re-sent</span>" in render(report, "html", all_runs=True)
    (case,) = [c for s in JUnitXml.fromstring(render(report, "junit").encode()) for c in s]
    assert said in case.system_out


async def test_a_run_dropped_as_its_heartbeats_failed_for_a_lease_is_released_by_the_next_claim(
    db: Database,
) -> None:
    outage = OutagePool(db.pool, only="heartbeat")  # claims get through, renewals do not
    async with order_sut() as sut:
        suite_run, final, stats = await held_through_an_outage(
            db, sut, outage, dropped=lambda worker: worker.stats.released or worker.stats.lost
        )

    assert final.suite_run.status is SuiteRunStatus.PASSED
    async with db.transaction() as uow:
        (run,) = await uow.runs.test_runs(suite_run.id)
    assert (run.attempt, run.lost_leases) == (2, 0)  # not left to expire, no attempt lost
    assert (stats.claimed, stats.released, stats.finished, stats.lost) == (2, 1, 1, 0)


async def test_a_run_dropped_so_that_another_worker_took_meanwhile_is_left_to_it(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a", sleep=30), step(1, "b")])])
    suite_run = await running.start_suite_run(db, suite.id)
    executor = ScriptedExecutor()
    outage = OutagePool(db.pool)
    worker = Worker(pool_of(outage), factory_for(executor), SHORT_LEASE, worker_id="w1")
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await until(lambda: executor.calls, "the run is inside its first step")
        outage.away = True
        await until(lambda: not worker.held.active, "the heartbeat drops the run")
        await expire_leases(db)
        taken = await claimed_by_another(db, "w2")
        outage.away = False
        await until(lambda: worker.stats.lost, "the worker sees the run is no longer its own")
    finally:
        stop.set()
        stats = await asyncio.wait_for(task, timeout=10)

    async with db.transaction() as uow:
        (run,) = await uow.runs.test_runs(suite_run.id)
    assert (run.status, run.locked_by, run.attempt) == (TestRunStatus.RUNNING, "w2", 2)
    assert taken.attempt == 2
    assert (stats.claimed, stats.released, stats.lost) == (1, 0, 1)


async def test_releasing_orphans_tells_a_newer_claim_of_a_run_from_the_attempt_it_executes(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a")])])
    await running.start_suite_run(db, suite.id)
    async with db.transaction() as uow:
        (first,) = await uow.runs.claim("w", 1, lease_seconds=30)
    await expire_leases(db)
    # its lease expires and the same worker claims it again, that claim's answer lost
    again = await claimed_by_another(db, "w")
    assert again.attempt == first.attempt + 1
    async with db.transaction() as uow:
        assert await uow.runs.release_orphans("w", [(again.id, again.attempt)]) == []
        # executing the first attempt only: the newer claim is nobody's, and is released
        assert await uow.runs.release_orphans("w", [(first.id, first.attempt)]) == [first.id]
        run = await uow.runs.test_run(first.id)
    assert run is not None
    assert (run.status, run.attempt) == (TestRunStatus.QUEUED, again.attempt)


async def test_a_run_left_while_the_worker_stops_is_released_after_the_drain(
    db: Database,
) -> None:
    async with order_sut() as sut:
        gate = sut.hold("create")
        suite_run = await start_order_suite(db, sut, 1, max_attempts=1)
        pool = BreakingPool(db.pool, WRITE_MANY, committed=False)  # no checkpoint gets through
        async with GroupCommitter(pool_of(pool)) as committer:
            committer.reconnect_seconds = 0
            options = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.05)
            worker = Worker(pool_of(pool), executor_factory(), options, committer=committer)
            stop = asyncio.Event()
            task = asyncio.create_task(worker.run(stop))
            try:
                await until(lambda: sut.held, "the run is inside its Create step")
                stop.set()
                await until(worker._draining.is_set, "the worker drains")
                gate.set()  # the step ends; its checkpoint cannot be written: the run is left
            finally:
                stop.set()
                stats = await asyncio.wait_for(task, timeout=20)

    async with db.transaction() as uow:
        (run,) = await uow.runs.test_runs(suite_run.id)
    # back in the queue at once, as its last checkpoint left it, no attempt lost
    assert (run.status, run.attempt, run.lost_leases) == (TestRunStatus.QUEUED, 1, 0)
    assert run.execution_context.get("done", {}) == {}
    assert (stats.claimed, stats.released, stats.lost) == (1, 1, 0)


async def test_a_release_at_stop_the_database_cannot_take_is_logged_and_counted_lost(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with order_sut() as sut:
        gate = sut.hold("create")
        suite_run = await start_order_suite(db, sut, 1)
        outage = OutagePool(db.pool)
        async with GroupCommitter(pool_of(outage)) as committer:
            committer.reconnect_seconds = 0
            options = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.05)
            worker = Worker(pool_of(outage), executor_factory(), options, committer=committer)
            stop = asyncio.Event()
            task = asyncio.create_task(worker.run(stop))
            try:
                await until(lambda: sut.held, "the run is inside its Create step")
                outage.away = True
                stop.set()
                await until(worker._draining.is_set, "the worker drains")
                gate.set()
            finally:
                stop.set()
                stats = await asyncio.wait_for(task, timeout=20)  # no exception

    async with db.transaction() as uow:
        (run,) = await uow.runs.test_runs(suite_run.id)
    assert run.status is TestRunStatus.RUNNING  # left to its lease
    assert (stats.claimed, stats.released, stats.lost) == (1, 0, 1)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith("runs left to their lease, their release failed") for m in warnings)


async def test_the_release_at_stop_waits_for_a_database_that_does_not_answer_until_the_deadline(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a")])])
    await running.start_suite_run(db, suite.id)
    async with db.transaction() as uow:
        (claimed,) = await uow.runs.claim("w", 1, lease_seconds=30)
    outage = OutagePool(db.pool)
    worker = Worker(pool_of(outage), factory_for(ScriptedExecutor()), SHORT_LEASE, worker_id="w")
    worker.tally.left(claimed, None)  # as when its checkpoint failed while the worker stopped
    outage.away = outage.hang = True
    deadline = asyncio.get_running_loop().time() + 0.2
    await asyncio.wait_for(worker._release_left(deadline), timeout=10)
    assert (worker.stats.released, worker.stats.lost) == (0, 1)


async def ended(db: Database, suite_run_id: int) -> running.Progress:
    for _ in range(1000):  # bounded: 20 s
        progress = await running.progress(db, suite_run_id)
        if progress.suite_run.status.is_terminal:
            return progress
        await asyncio.sleep(0.02)
    raise AssertionError(f"suite run {suite_run_id} did not end")
