"""Use case: execute one suite run in this process until it ends, and say how it went.

What `orchestra run --wait` and `orchestra test` share: in-process workers on the suite run's
runs (`running.work_until_done`), and what to do when the person stops them (Ctrl-C): cancel
the suite run, its in-flight steps finishing within the drain's deadline and its unfinished
runs ending CANCELLED (those that had started running their cleanup here), or leave it in
progress for other workers. Ended, it comes with its
failure summary.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from orchestra.domain.statuses import FAILING_STATUSES, SuiteRunStatus, TestRunStatus
from orchestra.errors import Conflict
from orchestra.runtime.cleanup import may_clean_up
from orchestra.runtime.ports import ExecutorFactory
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database

if TYPE_CHECKING:  # the summary loads reports (renderers, templates): only when a run failed
    from orchestra.domain.records import StoredSuite
    from orchestra.services.failures import Failure
    from orchestra.services.reporting import Held


class OnInterrupt(StrEnum):
    """What a Ctrl-C (or SIGTERM) does to the suite run being executed."""

    CANCEL = "cancel"  # its unfinished runs end CANCELLED
    LEAVE = "leave"  # its runs are released, for `orchestra worker` to finish


@dataclass(frozen=True, slots=True)
class Execution:
    """How a suite run executed here stands at the end: `interrupted` when stopped first,
    with `cancelled` runs ended CANCELLED by the stop (LEAVE: none, it is still in progress)."""

    progress: running.Progress
    failures: list[Failure] = field(default_factory=list)
    interrupted: bool = False
    on_interrupt: OnInterrupt = OnInterrupt.CANCEL
    cancelled: int = 0

    @property
    def passed(self) -> bool:
        return self.progress.suite_run.status is SuiteRunStatus.PASSED

    @property
    def left_running(self) -> bool:
        return self.interrupted and not self.progress.suite_run.status.is_terminal

    def to_json(self) -> dict[str, Any]:
        result = self.progress.to_json()
        result["failures"] = [failure.to_json() for failure in self.failures]
        if self.interrupted:
            result["interrupted"] = True
            result["on_interrupt"] = self.on_interrupt.value
            result["cancelled"] = self.cancelled
        return result


async def execute(
    db: Database,
    suite_run_id: int,
    executor_factory: ExecutorFactory,
    *,
    workers: int,
    options: WorkerOptions,
    on_progress: Callable[[running.Progress, float], None] | None = None,
    interrupt: asyncio.Event | None = None,
    on_interrupt: OnInterrupt = OnInterrupt.CANCEL,
    held: Held | None = None,
) -> Execution:
    """Work on the suite run here until it ends or `interrupt` is set; then, with CANCEL,
    cancel what is left of it once the workers have drained. The cleanup the runs still owe
    (cancelled ones that had started, stuck ones) is run before it returns, unless the
    interrupt leaves the runs to other workers. `held`: what the caller holds of the suite run
    (its suite, process, environment: the failure summary's report does not read them again)."""
    final, _ = await running.work_until_done(
        db,
        suite_run_id,
        executor_factory,
        workers=workers,
        options=options,
        on_progress=on_progress,
        interrupt=interrupt,
    )
    interrupted = interrupt is not None and interrupt.is_set()
    cancelled = 0
    if interrupted and on_interrupt is OnInterrupt.CANCEL:
        final, cancelled = await _cancel(db, final)
    if (not interrupted or on_interrupt is OnInterrupt.CANCEL) and _may_owe_cleanup(final):
        # the runs that had started still clean up (their undo and cleanup actions)
        await running.clean_up_owed(
            db, suite_run_id, executor_factory, workers=workers, options=options
        )
    failures = await failures_if_any(db, final, held=held)
    return Execution(final, failures, interrupted, on_interrupt, cancelled)


def _may_owe_cleanup(progress: running.Progress) -> bool:
    """Whether some run may still owe its cleanup: only cancelled and stuck ones do."""
    return any(progress.counts.get(status) for status in _OWING_CLEANUP)


_OWING_CLEANUP = (TestRunStatus.CANCELLED, TestRunStatus.FAILED_STUCK)


async def _cancel(db: Database, before: running.Progress) -> tuple[running.Progress, int]:
    """Cancel the suite run; how it stands then, and how many runs the cancel ended."""
    if before.suite_run.status.is_terminal:
        return before, 0
    try:
        after = await running.cancel(db, before.suite_run.id)
    except Conflict:  # it ended on its own meanwhile
        return await running.progress(db, before.suite_run.id), 0
    was = before.counts.get(TestRunStatus.CANCELLED, 0)
    return after, after.counts.get(TestRunStatus.CANCELLED, 0) - was


async def failures_if_any(
    db: Database, progress: running.Progress, *, held: Held | None = None
) -> list[Failure]:
    """The failure summary, loading the runs it lists only when some run failed or errored,
    or some cleanup did not pass (`held`: what the caller holds of the suite run)."""
    if not any(progress.counts.get(status) for status in FAILING_STATUSES):
        if held is not None and held.suite is not None and not _has_cleanup(held.suite):
            return []  # no run had an undo or cleanup action to fail
        async with db.reading() as uow:
            if not await uow.runs.cleanup_failed(progress.suite_run.id):
                return []
    from orchestra.services.failures import suite_run_failures

    return await suite_run_failures(db, progress.suite_run.id, held=held)


def _has_cleanup(suite: StoredSuite) -> bool:
    """Whether a scenario of the suite may clean up (as the suite is held: one without its
    scenarios may)."""
    if not suite.scenarios:
        return True
    return any(
        may_clean_up(stored.scenario, [*stored.scenario.steps, *(s.step for s in stored.steps)])
        for stored in suite.scenarios
    )
