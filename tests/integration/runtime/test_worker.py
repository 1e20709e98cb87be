"""Workers execute suite runs: order, data passing, branches, barriers, failures, cancellation."""

from __future__ import annotations

import asyncio
import random
import string
import time
from dataclasses import replace

import pytest

from orchestra.domain.statuses import StepStatus, SuiteRunStatus, TestRunStatus
from orchestra.errors import DependencyCycle
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import running
from orchestra.store.commits import GroupCommitter
from orchestra.store.database import Database
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    join,
    scenario,
    shared_barrier,
    step,
    store_suite,
)

FAST = WorkerOptions(concurrency=8, lease_seconds=5, poll_seconds=0.05, sweep_seconds=0.1)


async def run_suite(db: Database, suite_id: int, executor: ScriptedExecutor, **kwargs: object):  # type: ignore[no-untyped-def]
    suite_run = await running.start_suite_run(db, suite_id, **kwargs)  # type: ignore[arg-type]
    result, _ = await asyncio.wait_for(
        running.work_until_done(
            db, suite_run.id, factory_for(executor), workers=2, options=FAST, poll_seconds=0.05
        ),
        timeout=30,
    )
    async with db.transaction() as uow:
        runs = {r.scenario_name: r for r in await uow.runs.test_runs(suite_run.id)}
        results = await uow.runs.step_results([r.id for r in runs.values()])
        final = await uow.runs.get(suite_run.id)
    assert final is not None
    return final, runs, results, result


async def test_every_run_passes_and_each_step_result_is_recorded_once(db: Database) -> None:
    suite = await store_suite(
        db, [scenario(f"s{i}", [step(0, "a"), step(1, "b"), step(2, "c")]) for i in range(10)]
    )
    executor = ScriptedExecutor()
    final, runs, results, progress = await run_suite(db, suite.id, executor)
    assert final.status is SuiteRunStatus.PASSED
    assert final.finished_at is not None
    assert {r.status for r in runs.values()} == {TestRunStatus.PASSED}
    assert len(results) == 30
    assert {(r.test_run_id, r.position) for r in results} == {
        (run.id, pos) for run in runs.values() for pos in range(3)
    }
    assert progress.done == 10
    assert len(executor.calls) == 30


async def test_templates_see_the_environment_without_where_its_file_was_read(
    db: Database,
) -> None:
    configuration = {
        "name": "staging",
        "services": {"api": {"base_url": "http://127.0.0.1:9"}},
        "variables": {"tenant": "t1"},
        "applied_from": {"file": "staging.yaml", "lines": {}},
    }
    async with db.transaction() as uow:
        await uow.config.upsert_environment("staging", configuration, [])
    suite = await store_suite(db, [scenario("one", [step(0, "a")])])
    executor = ScriptedExecutor()
    final, _, _, _ = await run_suite(db, suite.id, executor, environment="staging")
    assert final.status is SuiteRunStatus.PASSED
    (call,) = executor.calls
    assert call.env["variables"] == {"tenant": "t1"}
    assert "applied_from" not in call.env


async def test_a_failing_step_fails_its_run_and_the_suite_and_stops_the_run(db: Database) -> None:
    suite = await store_suite(
        db,
        [
            scenario("ok", [step(0, "a")]),
            scenario("broken", [step(0, "a"), step(1, "pay", result="FAILED"), step(2, "never")]),
            scenario("down", [step(0, "a", result="ERROR")]),
        ],
    )
    final, runs, results, _ = await run_suite(db, suite.id, ScriptedExecutor())
    assert final.status is SuiteRunStatus.FAILED
    assert runs["ok"].status is TestRunStatus.PASSED
    assert runs["broken"].status is TestRunStatus.FAILED
    assert runs["broken"].error == "pay: scripted FAILED"
    assert runs["down"].status is TestRunStatus.ERROR
    broken = [r for r in results if r.test_run_id == runs["broken"].id]
    assert [(r.position, r.status) for r in broken] == [
        (0, StepStatus.PASSED),
        (1, StepStatus.FAILED),
    ]


async def test_depends_on_orders_runs_and_exports_reach_the_dependent(db: Database) -> None:
    suite = await store_suite(
        db,
        [
            scenario("cancel", [step(0, "cancel")], "create"),
            scenario("create", [step(0, "create", sleep=0.2, export={"orderId": "o-42"})]),
        ],
    )
    executor = ScriptedExecutor()
    final, runs, _, _ = await run_suite(db, suite.id, executor)
    assert final.status is SuiteRunStatus.PASSED
    assert final.context == {"orderId": "o-42"}
    create = next(c for c in executor.calls if c.test_run_id == runs["create"].id)
    cancel = next(c for c in executor.calls if c.test_run_id == runs["cancel"].id)
    assert cancel.started >= create.ended
    assert cancel.suite == {"orderId": "o-42"}


async def test_a_failed_dependency_skips_its_dependents_transitively(db: Database) -> None:
    suite = await store_suite(
        db,
        [
            scenario("create", [step(0, "create", result="FAILED")]),
            scenario("pay", [step(0, "pay")], "create"),
            scenario("ship", [step(0, "ship")], "pay"),
            scenario("cleanup", [step(0, "cleanup")], "create", outcome="FAILED"),
        ],
    )
    final, runs, _, _ = await run_suite(db, suite.id, ScriptedExecutor())
    assert final.status is SuiteRunStatus.FAILED
    assert runs["pay"].status is TestRunStatus.SKIPPED
    assert runs["pay"].error is not None
    assert "create" in runs["pay"].error
    assert "FAILED" in runs["pay"].error
    assert runs["ship"].status is TestRunStatus.SKIPPED
    assert runs["cleanup"].status is TestRunStatus.PASSED


async def test_a_cyclic_depends_on_is_refused_and_nothing_is_created(db: Database) -> None:
    suite = await store_suite(
        db, [scenario("a", [step(0, "a")], "b"), scenario("b", [step(0, "b")], "a")]
    )
    with pytest.raises(DependencyCycle, match=r"a -> b -> a|b -> a -> b"):
        await running.start_suite_run(db, suite.id)
    async with db.transaction() as uow:
        assert await uow.runs.page() == []


async def test_parallel_branches_run_concurrently_and_meet_at_their_barrier(db: Database) -> None:
    steps = [
        step(0, "start"),
        step(1, "reserve", "/G#1", sleep=0.3),
        step(2, "charge", "/G#2", sleep=0.3),
        join(3, ["/G#1", "/G#2"]),
        step(4, "ship"),
    ]
    executor = ScriptedExecutor()
    final, runs, results, _ = await run_suite(
        db, (await store_suite(db, [scenario("s", steps)])).id, executor
    )
    assert final.status is SuiteRunStatus.PASSED
    by_position = {c.position: c for c in executor.calls}
    reserve, charge, ship = by_position[1], by_position[2], by_position[4]
    assert abs(reserve.started - charge.started) < 0.2  # concurrent, not one after the other
    assert ship.started >= max(reserve.ended, charge.ended)
    assert [r.position for r in results] == [0, 1, 2, 3, 4]
    assert runs["s"].status is TestRunStatus.PASSED


async def test_a_shared_barrier_parks_early_runs_until_the_last_party_arrives(
    db: Database,
) -> None:
    suite = await store_suite(
        db,
        [
            scenario("early", [step(0, "a"), shared_barrier(1, "sync", 2, 10), step(2, "after")]),
            scenario("late", [step(0, "b", sleep=0.5), shared_barrier(1, "sync", 2, 10)]),
        ],
    )
    executor = ScriptedExecutor()
    final, runs, _, _ = await run_suite(db, suite.id, executor)
    assert final.status is SuiteRunStatus.PASSED
    late_b = next(c for c in executor.calls if c.test_run_id == runs["late"].id)
    after = next(c for c in executor.calls if c.position == 2)
    assert after.started >= late_b.ended
    assert runs["early"].attempt >= 2  # parked (released) and claimed again


async def test_a_shared_barrier_times_out_with_the_reason(db: Database) -> None:
    suite = await store_suite(
        db, [scenario("alone", [step(0, "a"), shared_barrier(1, "sync", 2, 0.5)])]
    )
    final, runs, _, _ = await run_suite(db, suite.id, ScriptedExecutor())
    assert final.status is SuiteRunStatus.FAILED
    assert runs["alone"].status is TestRunStatus.FAILED
    assert runs["alone"].error is not None
    assert "timed out" in runs["alone"].error
    assert "1 of 2" in runs["alone"].error


async def test_a_run_arriving_after_another_party_failed_fails_at_once_naming_it(
    db: Database,
) -> None:
    suite = await store_suite(
        db,
        [
            scenario("broken", [step(0, "a", result="FAILED"), shared_barrier(1, "sync", 2, 60)]),
            scenario("waiting", [step(0, "b", sleep=0.5), shared_barrier(1, "sync", 2, 60)]),
        ],
    )
    started = time.monotonic()
    final, runs, _, _ = await run_suite(db, suite.id, ScriptedExecutor())
    assert time.monotonic() - started < 20  # not the 60 s timeout
    assert final.status is SuiteRunStatus.FAILED
    waiting = runs["waiting"]
    assert waiting.status is TestRunStatus.FAILED
    assert waiting.error is not None
    assert "barrier 'sync' can no longer be met: 1 of 2 parties arrived" in waiting.error
    assert f"broken (test run {runs['broken'].id}) ended FAILED" in waiting.error


async def test_a_parked_run_is_woken_to_fail_when_the_last_party_fails_before_arriving(
    db: Database,
) -> None:
    suite = await store_suite(
        db,
        [
            scenario("early", [step(0, "a"), shared_barrier(1, "sync", 2, 60)]),
            scenario(
                "broken",
                [step(0, "b", sleep=1.0, result="ERROR"), shared_barrier(1, "sync", 2, 60)],
            ),
        ],
    )
    started = time.monotonic()
    final, runs, _, _ = await run_suite(db, suite.id, ScriptedExecutor())
    assert time.monotonic() - started < 20  # the sweep woke it, not the 60 s timeout
    early = runs["early"]
    assert early.status is TestRunStatus.FAILED
    assert early.attempt >= 2  # it parked, then was woken and claimed again
    assert early.error is not None
    assert f"broken (test run {runs['broken'].id}) ended ERROR without reaching it" in early.error
    assert final.status is SuiteRunStatus.FAILED


async def test_a_run_past_one_released_barrier_stays_parked_at_the_next_one(
    db: Database,
) -> None:
    # "both" passes "first" with "other", then waits alone at "second" until it times out:
    # parked there, not woken again and again because "first" was released
    suite = await store_suite(
        db,
        [
            scenario(
                "both",
                [
                    step(0, "a"),
                    shared_barrier(1, "first", 2, 10),
                    shared_barrier(2, "second", 2, 1),
                ],
            ),
            scenario("other", [step(0, "b"), shared_barrier(1, "first", 2, 10)]),
        ],
    )
    final, runs, _, _ = await run_suite(db, suite.id, ScriptedExecutor())
    assert final.status is SuiteRunStatus.FAILED
    assert runs["other"].status is TestRunStatus.PASSED
    assert runs["both"].error is not None
    assert "barrier 'second' timed out after 1s with 1 of 2 parties" in runs["both"].error
    assert runs["both"].attempt <= 3  # claimed, maybe parked at "first", parked at "second"


async def test_a_barrier_name_too_large_for_its_index_ends_the_run_error_not_stuck(
    db: Database,
) -> None:
    # PostgreSQL refuses the key (class 54, which psycopg files under OperationalError): the
    # run's data, not a lost server, so the run ends ERROR at once instead of left to expire
    name = "".join(random.choices(string.ascii_letters, k=20_000))  # incompressible
    suite = await store_suite(db, [scenario("s", [step(0, "a"), shared_barrier(1, name, 2, 5)])])
    final, runs, _, _ = await run_suite(db, suite.id, ScriptedExecutor())
    assert final.status is SuiteRunStatus.FAILED
    assert runs["s"].status is TestRunStatus.ERROR
    assert runs["s"].error is not None
    assert runs["s"].error.count("PostgreSQL refused") == 1
    assert "in arrive_at_barrier" in runs["s"].error  # the statement, named once
    assert runs["s"].attempt == 1


async def test_data_rows_give_one_run_each_with_its_data(db: Database) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "a")])])
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("people", [{"name": "Ann"}, {"name": "Bob"}])
    executor = ScriptedExecutor()
    suite_run = await running.start_suite_run(db, suite.id, data_set="people")
    await running.work_until_done(db, suite_run.id, factory_for(executor), options=FAST)
    assert sorted(c.data["name"] for c in executor.calls) == ["Ann", "Bob"]


async def test_cancelling_a_suite_run_cancels_its_unfinished_runs(db: Database) -> None:
    suite = await store_suite(db, [scenario(f"s{i}", [step(0, "a")]) for i in range(3)])
    suite_run = await running.start_suite_run(db, suite.id)
    cancelled = await running.cancel(db, suite_run.id)
    assert cancelled.suite_run.status is SuiteRunStatus.CANCELLED
    assert cancelled.counts == {TestRunStatus.CANCELLED: 3}


async def test_workers_of_one_process_can_share_one_group_committer(db: Database) -> None:
    steps = [step(0, "a", sleep=0.02), step(1, "b", sleep=0.02)]
    suite = await store_suite(db, [scenario(f"s{i}", steps) for i in range(12)])
    suite_run = await running.start_suite_run(db, suite.id)
    executor = ScriptedExecutor()
    stop = asyncio.Event()
    options = replace(FAST, suite_run_id=suite_run.id, concurrency=3)
    async with GroupCommitter(db.pool) as committer:
        workers = [
            Worker(db.pool, factory_for(executor), options, committer=committer) for _ in range(2)
        ]
        tasks = [asyncio.create_task(w.run(stop)) for w in workers]
        for _ in range(300):
            if (await running.progress(db, suite_run.id)).suite_run.status.is_terminal:
                break
            await asyncio.sleep(0.05)
        stop.set()
        stats = await asyncio.gather(*tasks)

    assert (await running.progress(db, suite_run.id)).suite_run.status is SuiteRunStatus.PASSED
    assert all(s.finished > 0 for s in stats)  # both worked
    # every step's checkpoint (the last one with its run's completion) went through it
    assert committer.writes == 12 * 2
