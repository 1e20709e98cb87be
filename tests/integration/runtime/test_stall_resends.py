"""In one process: a step whose request timed out while the worker's event loop was blocked
(a stall, made here by blocking it) is sent again with the stall recorded; one that timed out
while the worker ran is the SUT's and ends in ERROR; a step stalling at every send is sent
again three times at most."""

from __future__ import annotations

import asyncio
import time

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.records import Environment
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.metrics.worker import WorkerMetrics
from orchestra.runtime.ports import Executor
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import reporting, running
from orchestra.store.database import Database
from tests.integration.runtime.support import scenario, step, store_suite

BLOCKED = 0.8  # the event loop blocked this long: more than the detector's 0.5 s threshold


class TimingOut:
    """An executor whose first `stalls` sends block the event loop (the whole worker stalls)
    and time out meanwhile; `timeouts` more time out without a stall; then it answers."""

    def __init__(
        self, *, stalls: int = 0, timeouts: int = 0, status: StepStatus = StepStatus.ERROR
    ) -> None:
        """`status`: what a timed-out send ends (FAILED: an `eventually` still failing)."""
        self.stalls, self.timeouts, self.status = stalls, timeouts, status
        self.contexts: list[StepContext] = []

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        self.contexts.append(ctx)
        started = time.time()
        if self.stalls:
            self.stalls -= 1
            time.sleep(BLOCKED)  # noqa: ASYNC251 - the point: the worker cannot run
            return _timed_out(started, time.monotonic() - BLOCKED / 2, self.status)
        if self.timeouts:
            self.timeouts -= 1
            return _timed_out(started, time.monotonic(), self.status)
        return StepOutcome(status=StepStatus.PASSED, started_at=started, duration_ms=1.0)

    async def aclose(self) -> None:
        return None


def _timed_out(started: float, ran_out: float, status: StepStatus) -> StepOutcome:
    return StepOutcome(
        status=status,
        started_at=started,
        duration_ms=(time.time() - started) * 1000,
        error="GET http://sut/: no response within 2 s"
        if status is StepStatus.ERROR
        else "check failed (still failing: 8 polls in 2 s)",
        timeout_ran_out=ran_out,
    )


async def _run_one_step(
    db: Database, executor: TimingOut, metrics: WorkerMetrics | None = None
) -> tuple[TestRunStatus, float | None]:
    suite = await store_suite(db, [scenario("s", [step(0, "Task")])])
    suite_run = await running.start_suite_run(db, suite.id)

    async def factory(environment: Environment | None) -> Executor:
        del environment
        return executor

    worker = Worker(db.pool, factory, WorkerOptions(poll_seconds=0.05), observer=metrics)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await running.watch(db, suite_run.id, lambda *_: None, poll_seconds=0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    report = await reporting.load_report(db, suite_run.id)
    (run,) = report.test_runs
    (result,) = run.steps
    return run.status, result.stalled_ms


async def test_a_step_timed_out_in_a_stall_of_the_worker_is_sent_again_and_passes(
    db: Database,
) -> None:
    executor = TimingOut(stalls=1)
    metrics = WorkerMetrics()

    status, stalled_ms = await _run_one_step(db, executor, metrics)

    assert status is TestRunStatus.PASSED
    first, again = executor.contexts
    assert first.stalled_ms is None
    assert again.stalled_ms is not None
    assert again.stalled_ms >= (BLOCKED - 0.1) * 1000  # late by that, less a tick's 0.1 s
    assert stalled_ms == again.stalled_ms
    counted = metrics.registry.get_sample_value
    assert counted("orchestra_stalls_total") == 1
    assert (counted("orchestra_stall_seconds_total") or 0) >= BLOCKED - 0.1
    assert counted("orchestra_stall_resends_total") == 1


async def test_a_step_timed_out_while_the_worker_ran_ends_in_error_sent_once(
    db: Database,
) -> None:
    executor = TimingOut(timeouts=1)

    status, stalled_ms = await _run_one_step(db, executor)

    assert status is TestRunStatus.ERROR
    assert (len(executor.contexts), stalled_ms) == (1, None)


async def test_a_step_stalling_at_every_send_is_sent_again_three_times_at_most(
    db: Database,
) -> None:
    executor = TimingOut(stalls=10)

    status, stalled_ms = await _run_one_step(db, executor)

    assert status is TestRunStatus.ERROR
    assert len(executor.contexts) == 4
    assert stalled_ms is not None
    assert stalled_ms >= 3 * (BLOCKED - 0.1) * 1000  # the three stalls behind it


async def test_a_step_whose_polls_a_stall_cut_short_is_polled_again_and_passes(
    db: Database,
) -> None:
    executor = TimingOut(stalls=1, status=StepStatus.FAILED)

    status, stalled_ms = await _run_one_step(db, executor)

    assert status is TestRunStatus.PASSED
    assert len(executor.contexts) == 2
    assert stalled_ms is not None
