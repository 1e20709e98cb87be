"""Teardown: a run's undo and cleanup actions run once its scenario ends, whatever the outcome,
are recorded apart in every report, and change the verdict only when strict."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from junitparser import JUnitXml

from orchestra.binding.environment import EnvironmentSpec
from orchestra.binding.factory import executor_factory
from orchestra.config import Settings
from orchestra.domain.records import SuiteRun
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.reports import render
from orchestra.reports.model import TestRunReport
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import executing, reporting, running, watching
from orchestra.services.failures import failures_of, suite_run_failures
from orchestra.store.database import Database
from tests.integration.api.conftest import serving
from tests.integration.runtime.chaos import (
    WorkerProcess,
    orphans_of,
    query,
    wait_for,
    worker_processes,
)
from tests.integration.runtime.cleanup_sut import (
    BROKEN,
    READ_FIRST,
    RESET,
    UNDEFINED,
    ThingsSut,
    bound,
    create,
    start,
    things_sut,
    with_cleanup,
)
from tests.integration.runtime.support import expire_leases, scenario, store_suite

OPTIONS = WorkerOptions(poll_seconds=0.05)


async def run_to_the_end(
    db: Database,
    steps: Sequence[tuple[str, dict[str, Any]]],
    *cleanups: dict[str, Any],
    sut: ThingsSut,
) -> TestRunReport:
    suite_run = await start(db, sut, steps, *cleanups)
    await running.work_until_done(db, suite_run.id, executor_factory({}), options=OPTIONS)
    report = await reporting.load_report(db, suite_run.id)
    (run,) = report.test_runs
    return run


async def test_a_passed_run_undoes_its_tasks_last_first_then_runs_the_scenario_cleanup(
    db: Database,
) -> None:
    async with things_sut() as sut:
        steps = [("first", create("first")), ("second", create("second")), ("read", READ_FIRST)]
        run = await run_to_the_end(db, steps, RESET, sut=sut)

    assert run.status is TestRunStatus.PASSED, run.error
    assert sut.after_creates() == ["GET /things/t1", "DELETE /things/t2", "DELETE /things/t1",
                                   "POST /reset"]  # fmt: skip
    assert sut.things == {}
    assert [(c.position, c.name, c.element_id, c.status) for c in run.cleanup] == [
        (0, "undo second", "second", StepStatus.PASSED),
        (1, "undo first", "first", StepStatus.PASSED),
        (2, "reset", None, StepStatus.PASSED),
    ]
    assert [s.element_id for s in run.steps] == ["first", "second", "read"]  # kept apart
    # each cleanup request has its own idempotency key, none a main step's
    keys = [key for _, _, key in sut.seen]
    assert len(set(keys)) == len(keys)


async def test_a_failed_run_is_cleaned_up_and_keeps_its_verdict(db: Database) -> None:
    async with things_sut() as sut:
        steps = [("first", create("first")), ("second", create("second", status=200))]
        run = await run_to_the_end(db, steps, RESET, sut=sut)

    assert run.status is TestRunStatus.FAILED
    assert run.error is not None
    assert "expected 200" in run.error
    # the failed create reached the SUT: undone too, from its response
    assert sut.after_creates() == ["DELETE /things/t2", "DELETE /things/t1", "POST /reset"]
    assert [c.status for c in run.cleanup] == [StepStatus.PASSED] * 3


async def test_an_errored_step_gets_no_undo_but_the_tasks_before_it_do(db: Database) -> None:
    async with things_sut() as sut:
        steps = [("first", create("first")), ("lost", UNDEFINED), ("second", create("second"))]
        run = await run_to_the_end(db, steps, RESET, sut=sut)

    assert run.status is TestRunStatus.ERROR
    assert run.error is not None
    assert "never_saved" in run.error
    assert sut.after_creates() == ["DELETE /things/t1", "POST /reset"]
    assert [c.name for c in run.cleanup] == ["undo first", "reset"]


async def test_a_failed_cleanup_is_reported_without_changing_the_verdict(db: Database) -> None:
    async with things_sut() as sut:
        broken = {"name": "check nothing is left", **BROKEN}
        run = await run_to_the_end(db, [("first", create("first"))], broken, RESET, sut=sut)
        suite_run_id = await _suite_run_of(db, run.id)
        report = await reporting.load_report(db, suite_run_id)
        summary = await suite_run_failures(db, suite_run_id)  # the run passed: read for it

    assert run.status is TestRunStatus.PASSED
    assert run.error is None
    assert [(c.name, c.status, c.strict) for c in run.cleanup] == [
        ("undo first", StepStatus.PASSED, False),
        ("check nothing is left", StepStatus.FAILED, False),
        ("reset", StepStatus.PASSED, False),  # one failing does not stop the others
    ]
    (failure,) = failures_of(report.test_runs)
    assert summary == [failure]
    assert failure.line() == (
        "PASSED things: cleanup: 1 of 3 actions did not pass (check nothing is left: FAILED)"
    )
    document = json.loads(render(report, "json", all_runs=True))
    cleanup = document["report"]["test_runs"][0]["cleanup"]
    assert [(c["name"], c["status"], c["strict"]) for c in cleanup] == [
        ("undo first", "PASSED", False),
        ("check nothing is left", "FAILED", False),
        ("reset", "PASSED", False),
    ]
    (case,) = [c for s in JUnitXml.fromstring(render(report, "junit").encode()) for c in s]
    assert case.is_passed  # not a test failure: only reported
    assert "cleanup (3 actions):" in case.system_out
    assert "cleanup: 1 of 3 actions did not pass" in case.system_out
    html = render(report, "html", all_runs=True)
    assert '<div class="cleanup-title">Cleanup</div>' in html
    assert "check nothing is left: FAILED" in html
    detail = await watching.test_run(db, run.id)  # GET /test-runs/ID
    assert [c.name for c in detail.report.cleanup] == [c.name for c in run.cleanup]


async def test_a_failed_cleanup_of_a_passed_run_is_in_the_execution_of_its_suite_run(
    db: Database,
) -> None:
    async with things_sut() as sut:
        broken = {"name": "check nothing is left", **BROKEN}
        suite_run = await start(db, sut, [("first", create("first"))], broken)
        async with db.transaction() as uow:
            suite = await uow.suites.get(suite_run.suite_id)
        execution = await executing.execute(
            db,
            suite_run.id,
            executor_factory({}),
            workers=1,
            options=OPTIONS,
            held=reporting.Held(suite=suite),
        )

    assert execution.passed
    assert [failure.line() for failure in execution.failures] == [
        "PASSED things: cleanup: 1 of 2 actions did not pass (check nothing is left: FAILED)"
    ]


async def test_the_web_ui_shows_a_test_runs_cleanup_under_its_steps(
    db: Database, settings: Settings
) -> None:
    async with things_sut() as sut:
        audit = {"name": "audit", **BROKEN}
        run = await run_to_the_end(db, [("first", create("first"))], audit, sut=sut)
    async with serving(settings, token=None) as client:
        page = (await client.get(f"/ui/test-runs/{run.id}")).body.decode()

    cleanup = page[page.index("<h2>Cleanup</h2>") :]
    assert "cleanup: 1 of 2 actions did not pass (audit: FAILED)" in cleanup
    assert cleanup.index('id="cleanup-0"') < cleanup.index('id="cleanup-1"')
    assert "undo first" in cleanup


async def test_a_strict_cleanup_that_fails_fails_a_run_that_passed(db: Database) -> None:
    async with things_sut() as sut:
        strict = {"name": "nothing left", "strict": True, **BROKEN}
        run = await run_to_the_end(db, [("first", create("first"))], strict, sut=sut)
        report = await reporting.load_report(db, await _suite_run_of(db, run.id))

    assert run.status is TestRunStatus.FAILED
    assert run.error is not None
    assert run.error.startswith("strict cleanup did not pass: cleanup 1 (scenario 'nothing left')")
    assert [(c.status, c.strict) for c in run.cleanup] == [
        (StepStatus.PASSED, False),
        (StepStatus.FAILED, True),
    ]
    (failure,) = failures_of(report.test_runs)
    assert failure.step == 1
    assert failure.check == "status eq"
    (case,) = [c for s in JUnitXml.fromstring(render(report, "junit").encode()) for c in s]
    assert not case.is_passed
    assert "nothing left" in case.result[0].message


async def _suite_run_of(db: Database, test_run_id: int) -> int:
    async with db.transaction() as uow:
        run = await uow.runs.test_run(test_run_id)
    assert run is not None
    return run.suite_run_id


async def test_a_worker_killed_during_the_cleanup_leaves_the_rest_to_the_next_claim_once(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    async with things_sut() as sut, worker_processes() as started:
        gate = sut.hold("reset")  # the scenario's cleanup hangs, after both undo actions
        steps = [("first", create("first")), ("second", create("second"))]
        suite_run = await start(db, sut, steps, RESET)
        worker = WorkerProcess(database_url, tmp_path / "logs", name="doomed", lease=30)
        started.append(worker)
        await wait_for(lambda: _is_set(sut), 60, "the cleanup's reset reaches the SUT")
        await worker.kill()
        (orphan,) = await orphans_of(database_url, worker)
        await expire_leases(db, orphan["id"])
        gate.set()
        await running.work_until_done(db, suite_run.id, executor_factory({}), options=OPTIONS)
        report = await reporting.load_report(db, suite_run.id)

    (run,) = report.test_runs
    assert run.status is TestRunStatus.PASSED, run.error
    assert run.attempts == 2
    assert [s.status for s in run.steps] == [StepStatus.PASSED] * 2
    # each undo ran once; the reset in flight was sent again, with the same key
    assert sorted(path for _, path, _ in sut.requests("DELETE")) == ["/things/t1", "/things/t2"]
    resets = sut.requests("POST", "/reset")
    assert len(resets) == 2
    assert resets[0][2] == resets[1][2]
    assert [(c.name, c.status) for c in run.cleanup] == [
        ("undo second", StepStatus.PASSED),
        ("undo first", StepStatus.PASSED),
        ("reset", StepStatus.PASSED),
    ]
    assert [c.attempt for c in run.cleanup] == [1, 1, 2]
    rows = await query(
        database_url,
        "SELECT phase, position, count(*) AS n FROM step_result WHERE test_run_id = %s"
        " GROUP BY phase, position ORDER BY phase, position",
        run.id,
    )
    assert [(r["phase"], r["position"], r["n"]) for r in rows] == [
        ("cleanup", 0, 1), ("cleanup", 1, 1), ("cleanup", 2, 1), ("main", 0, 1), ("main", 1, 1),
    ]  # fmt: skip


async def _is_set(sut: ThingsSut) -> bool:
    return sut.held.is_set()


async def test_a_cancelled_run_that_had_started_still_cleans_up_and_one_queued_does_not(
    db: Database,
) -> None:
    async with things_sut() as sut:
        gate = sut.hold("read")  # the run is cancelled while it reads its thing
        steps = bound([("first", create("first")), ("read", READ_FIRST)])
        suite = await store_suite(
            db,
            [
                with_cleanup(scenario("things", steps), RESET),
                with_cleanup(scenario("later", steps, "things"), RESET),  # PENDING behind it
            ],
        )
        suite_run = await _start_suite(db, suite.id, sut)
        working = asyncio.create_task(
            running.work_until_done(db, suite_run.id, executor_factory({}), options=OPTIONS)
        )
        await wait_for(lambda: _is_set(sut), 30, "the read reaches the SUT")
        await running.cancel(db, suite_run.id)
        gate.set()  # its answer comes too late: the run was cancelled
        await working  # its workers may have claimed the cleanup before they stopped
        left = await running.clean_up_owed(db, suite_run.id, executor_factory({}), options=OPTIONS)
        report = await reporting.load_report(db, suite_run.id)

    assert left == 0
    first, later = report.test_runs
    assert (first.status, later.status) == (TestRunStatus.CANCELLED, TestRunStatus.CANCELLED)
    assert [(c.name, c.status) for c in first.cleanup] == [
        ("undo first", StepStatus.PASSED),
        ("reset", StepStatus.PASSED),
    ]
    assert [c.attempt for c in first.cleanup] == [2, 2]  # claimed again for its cleanup
    assert later.cleanup == ()  # it never started: nothing to undo
    assert [path for _, path, _ in sut.requests("DELETE")] == ["/things/t1"]
    assert len(sut.requests("POST", "/reset")) == 1
    rows = await _pending(db, suite_run.id)
    assert rows == [False, False]


async def test_a_run_stopped_by_ctrl_c_is_cancelled_and_cleaned_up_before_the_command_ends(
    db: Database,
) -> None:
    async with things_sut() as sut:
        gate = sut.hold("read")
        steps = [("first", create("first")), ("read", READ_FIRST), ("again", READ_FIRST)]
        suite_run = await start(db, sut, steps, RESET)
        interrupt = asyncio.Event()
        executing_task = asyncio.create_task(
            executing.execute(
                db,
                suite_run.id,
                executor_factory({}),
                workers=1,
                options=OPTIONS,
                interrupt=interrupt,
            )
        )
        await wait_for(lambda: _is_set(sut), 30, "the read reaches the SUT")
        interrupt.set()  # Ctrl-C: the read finishes, the run is released, then cancelled
        gate.set()
        execution = await executing_task
        report = await reporting.load_report(db, suite_run.id)

    assert execution.interrupted
    (run,) = report.test_runs
    assert run.status is TestRunStatus.CANCELLED
    assert [(c.name, c.status) for c in run.cleanup] == [
        ("undo first", StepStatus.PASSED),
        ("reset", StepStatus.PASSED),
    ]
    assert [c.attempt for c in run.cleanup] == [2, 2]
    assert sut.things == {}


async def _start_suite(db: Database, suite_id: int, sut: ThingsSut) -> SuiteRun:
    spec = EnvironmentSpec.model_validate(
        {"name": "things", "services": {"api": {"base_url": sut.base_url}}}
    )
    async with db.transaction() as uow:
        await uow.config.upsert_environment(
            "things", spec.model_dump(mode="json"), spec.references()
        )
    return await running.start_suite_run(db, suite_id, environment="things")


async def _pending(db: Database, suite_run_id: int) -> list[bool]:
    async with db.transaction() as uow:
        return [run.cleanup_pending for run in await uow.runs.test_runs(suite_run_id)]
