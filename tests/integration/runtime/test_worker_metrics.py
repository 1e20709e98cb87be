"""A worker's own Prometheus metrics, scraped over HTTP from the server `orchestra worker
--metrics-port` starts, parsed with prometheus_client's parser."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from orchestra.errors import UsageError
from orchestra.metrics.worker import WorkerMetrics, serving
from orchestra.runtime.sweeper import sweep
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database
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

OPTIONS = WorkerOptions(concurrency=4, lease_seconds=30, poll_seconds=0.05, sweep_seconds=0.1)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(url: str) -> Samples:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@contextmanager
def metrics_served() -> Iterator[tuple[WorkerMetrics, str]]:
    metrics = WorkerMetrics()
    with serving(metrics, "127.0.0.1", 0) as url:
        assert url.startswith("http://127.0.0.1:")
        yield metrics, url


async def test_a_worker_counts_claims_steps_by_status_their_durations_and_run_ends(
    db: Database,
) -> None:
    suite = await store_suite(
        db,
        [
            scenario("passes", [step(0, "a", sleep=0.02), step(1, "b")]),
            scenario("fails", [step(0, "c"), step(1, "d", result="FAILED")]),
        ],
    )
    suite_run = await running.start_suite_run(db, suite.id)
    with metrics_served() as (metrics, url):
        worker = Worker(db.pool, factory_for(ScriptedExecutor()), OPTIONS, observer=metrics)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            await running.watch(db, suite_run.id, lambda *_: None, poll_seconds=0.05)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
        samples = await scrape(url)

    assert samples[("orchestra_claims_total", ())] == 2
    assert samples[("orchestra_test_runs_ended_total", (("status", "PASSED"),))] == 1
    assert samples[("orchestra_test_runs_ended_total", (("status", "FAILED"),))] == 1
    assert samples[("orchestra_test_runs_ended_total", (("status", "ERROR"),))] == 0
    assert samples[("orchestra_step_results_total", (("status", "PASSED"),))] == 3
    assert samples[("orchestra_step_results_total", (("status", "FAILED"),))] == 1
    assert samples[("orchestra_step_duration_seconds_count", ())] == 4
    assert samples[("orchestra_step_duration_seconds_sum", ())] >= 0.02
    assert samples[("orchestra_step_duration_seconds_bucket", (("le", "0.005"),))] <= 3
    assert samples[("orchestra_lost_leases_total", ())] == 0
    assert samples[("orchestra_failed_stuck_total", ())] == 0
    assert samples[("process_resident_memory_bytes", ())] > 0


async def test_a_lease_taken_over_is_counted_lost_by_the_worker_that_lost_it(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("slow", [step(0, "a", sleep=30)])])
    await running.start_suite_run(db, suite.id)
    executor = ScriptedExecutor()
    options = WorkerOptions(
        concurrency=1, lease_seconds=30, heartbeat_seconds=0.2, poll_seconds=0.05, drain_seconds=1
    )  # a lease no busy machine lets run out by itself; heartbeats often, to see it taken
    with metrics_served() as (metrics, url):
        worker = Worker(db.pool, factory_for(executor), options, observer=metrics)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            await until(lambda: executor.calls, "the run is inside its step")
            await expire_leases(db)  # its lease ran out: another takes it
            await claimed_by_another(db, "thief")
            await until(lambda: worker.stats.lost, "the heartbeat sees the lease gone")
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
        samples = await scrape(url)

    assert samples[("orchestra_lost_leases_total", ())] == 1


async def test_runs_a_sweep_gives_up_on_are_counted_failed_stuck(db: Database) -> None:
    suite = await store_suite(db, [scenario("one", [step(0, "a")])])
    await running.start_suite_run(db, suite.id, max_attempts=2)
    for worker in ("w1", "w2"):  # each loses its lease: the second loss is the last allowed
        async with db.transaction() as uow:
            assert await uow.runs.claim(worker, 1, lease_seconds=30)
        await expire_leases(db)
    with metrics_served() as (metrics, url):
        async with db.pool.connection() as conn:
            assert await sweep(conn, on_stuck=metrics.stuck)
        samples = await scrape(url)

    assert samples[("orchestra_failed_stuck_total", ())] == 1


def test_a_port_already_taken_is_a_usage_error_naming_the_options() -> None:
    with metrics_served() as (_, url):
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        with (
            pytest.raises(UsageError, match="--metrics-port"),
            serving(WorkerMetrics(), "127.0.0.1", port),
        ):
            pass
