"""Use cases of running suites: start one, look at it, list them, cancel it, work on it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from orchestra.domain.conditions.rows import RowChecker, RowConflict
from orchestra.domain.records import DataSet, Environment, StoredSuite, SuiteRun
from orchestra.domain.scenario import TestScenario
from orchestra.domain.statuses import SuiteRunStatus, TestRunStatus
from orchestra.domain.timestamps import rfc3339, rfc3339_or_none
from orchestra.domain.unbound import unbound_tasks
from orchestra.errors import Conflict, NotFound, UnboundTasks, UsageError
from orchestra.runtime.ports import ExecutorFactory
from orchestra.runtime.tally import WorkerStats
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.store.base import CONFLICTS
from orchestra.store.commits import GroupCommitter
from orchestra.store.database import Database
from orchestra.store.repositories import UnitOfWork
from orchestra.store.runs import RunSelection


async def start_suite_run(
    db: Database,
    suite_id: int,
    *,
    suite: StoredSuite | None = None,
    environment: str | Environment | None = None,
    data_set: str | DataSet | None = None,
    max_attempts: int = 3,
    selection: RunSelection | None = None,
    allow_unbound: bool = False,
    force_rows: bool = False,
) -> SuiteRun:
    """Create a SuiteRun and its TestRuns (those `selection` keeps: all by default); refuses
    a cyclic dependsOn, naming the cycle, and runs reaching tasks without a binding unless
    `allow_unbound` (UnboundTasks, naming them). A run whose data row contradicts its
    scenario's path is created SKIPPED, saying why, unless `force_rows`. `suite`: the suite
    with id `suite_id` when the caller holds it already (not read again); `environment` and
    `data_set` likewise, each by its name or as the caller holds it."""
    if max_attempts < 1:
        raise UsageError("--max-attempts must be at least 1")
    assert suite is None or suite.id == suite_id, "the suite given is the suite named"
    async with db.transaction() as uow:
        suite = suite or await uow.suites.get(suite_id)
        if suite is None:
            raise NotFound("suite", suite_id)
        if not allow_unbound:
            refuse_unbound(suite, selection)
        env = await _environment(uow, environment)
        rows = await _data_set(uow, data_set)
        if rows is not None and not rows.rows:
            raise UsageError(f"data set {rows.name!r} has no rows")
        skips = None if rows is None or force_rows else data_skips(suite, rows, selection)
        return await uow.runs.create(
            suite,
            environment_id=env.id if env else None,
            data_set=rows,
            max_attempts=max_attempts,
            selection=selection,
            data_skips=skips,
        )


async def _environment(
    uow: UnitOfWork, environment: str | Environment | None
) -> Environment | None:
    if environment is None or isinstance(environment, Environment):
        return environment
    found = await uow.config.environment(environment)
    if found is None:
        raise NotFound("environment", environment)
    return found


async def _data_set(uow: UnitOfWork, data_set: str | DataSet | None) -> DataSet | None:
    if data_set is None or isinstance(data_set, DataSet):
        return data_set
    found = await uow.config.data_set(data_set)
    if found is None:
        raise NotFound("data set", data_set)
    return found


def data_skips(
    suite: StoredSuite, data_set: DataSet, selection: RunSelection | None = None
) -> dict[tuple[str, int], str]:
    """(scenario, row) -> why, for each data row that contradicts a scenario's path."""
    scenarios = [stored.scenario for stored in suite.scenarios]
    return {
        (conflict.scenario, conflict.row): conflict.describe()
        for conflict in row_conflicts(scenarios, data_set.rows, selection)
    }


def row_conflicts(
    scenarios: Sequence[TestScenario],
    rows: Sequence[Mapping[str, Any]],
    selection: RunSelection | None = None,
) -> list[RowConflict]:
    """Each (scenario, row) pair, of those `selection` keeps, whose row contradicts the
    scenario's path."""
    checker = RowChecker()
    indexes = (selection or RunSelection()).row_indexes or range(len(rows))
    found = []
    for scenario in scenarios:
        if selection is not None and not selection.keeps(scenario.name):
            continue
        for index in indexes:
            conflict = checker.conflict(scenario, index, rows[index])
            if conflict is not None:
                found.append(conflict)
    return found


def refuse_unbound(suite: StoredSuite, selection: RunSelection | None = None) -> None:
    """UnboundTasks when a scenario `selection` keeps reaches a task without a binding: its
    runs would act on the SUT up to that task, then end in ERROR there."""
    kept = [
        stored.scenario
        for stored in suite.scenarios
        if selection is None or selection.keeps(stored.scenario.name)
    ]
    unbound = unbound_tasks(kept)
    if not unbound:
        return
    count = f"{len(unbound)} tasks have" if len(unbound) > 1 else "1 task has"
    raise UnboundTasks(
        f"suite {suite.id}: {count} no binding, and runs would end in ERROR there: "
        + ", ".join(task.label() for task in unbound),
        details={"suite": suite.id, "unbound": [task.to_json() for task in unbound]},
    )


@dataclass(frozen=True, slots=True)
class Progress:
    suite_run: SuiteRun
    counts: dict[TestRunStatus, int]
    total: int
    steps: int | None = None  # steps executed by this process's workers, when it runs some

    @property
    def done(self) -> int:
        return sum(n for status, n in self.counts.items() if status.is_terminal)

    def to_json(self) -> dict[str, Any]:
        """The summary `GET /suite-runs/{id}` answers too (`api.schemas.SuiteRunPublic`)."""
        run = self.suite_run
        return {
            "suite_run": run.id,
            "suite": run.suite_id,
            "status": run.status.value,
            "total": self.total,
            "done": self.done,
            "counts": {status.value: n for status, n in sorted(self.counts.items())},
            "created_at": rfc3339(run.created_at),
            "started_at": rfc3339_or_none(run.started_at),
            "finished_at": rfc3339_or_none(run.finished_at),
        }


async def progress(db: Database, suite_run_id: int) -> Progress:
    async with db.reading() as uow:
        suite_run = await uow.runs.get(suite_run_id)
        if suite_run is None:
            raise NotFound("suite run", suite_run_id)
        counts = await uow.runs.counts(suite_run_id)
    return Progress(suite_run, counts, sum(counts.values()))


async def watch(
    db: Database,
    suite_run_id: int,
    on_progress: Callable[[Progress, float], None],
    *,
    poll_seconds: float = 1.0,
    interrupt: asyncio.Event | None = None,
) -> Progress:
    """Follow a suite run that workers elsewhere execute until it has ended (or `interrupt` is
    set); returns how it stands then."""
    interrupt = interrupt or asyncio.Event()
    started = time.monotonic()
    while True:
        current = await progress(db, suite_run_id)
        on_progress(current, time.monotonic() - started)
        if current.suite_run.status.is_terminal or interrupt.is_set():
            return current
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(interrupt.wait(), poll_seconds)


DEFAULT_PAGE = 50
MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class SuiteRunPage:
    """Suite runs, newest first; `next_before` is the `before` of the next page (None: this
    page is the last)."""

    suite_runs: list[Progress]
    next_before: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "suite_runs": [progress.to_json() for progress in self.suite_runs],
            "next_before": self.next_before,
        }


async def list_suite_runs(
    db: Database,
    *,
    suite_id: int | None = None,
    statuses: Sequence[SuiteRunStatus] = (),
    before: int | None = None,
    limit: int = DEFAULT_PAGE,
    process: str | None = None,
) -> SuiteRunPage:
    """A page of suite runs, newest first: of one suite, in some statuses, of a process's
    suites (its key), below an id."""
    if not 1 <= limit <= MAX_PAGE:
        raise UsageError(f"a page holds 1 to {MAX_PAGE} suite runs, not {limit}")
    async with db.transaction() as uow:
        found = await uow.runs.page(
            suite_id=suite_id, statuses=statuses, before=before, limit=limit + 1, process=process
        )
    page = [Progress(run, counts, sum(counts.values())) for run, counts in found[:limit]]
    next_before = page[-1].suite_run.id if len(found) > limit else None
    return SuiteRunPage(page, next_before)


_CANCEL_TRIES = 3


async def cancel(db: Database, suite_run_id: int) -> Progress:
    """Cancel a suite run. A worker's batch locks a run's row, then the suite run's; the
    cancel locks them in the other order, so the two may deadlock: the cancel, rolled back
    whole, is tried again (and then waits for the batch) rather than refused."""
    for attempt in range(1, _CANCEL_TRIES + 1):
        try:
            return await _cancel(db, suite_run_id)
        except Conflict as exc:
            if not isinstance(exc.__cause__, CONFLICTS) or attempt == _CANCEL_TRIES:
                raise
    raise AssertionError("unreachable")


async def _cancel(db: Database, suite_run_id: int) -> Progress:
    async with db.transaction() as uow:
        suite_run = await uow.runs.get(suite_run_id)
        if suite_run is None:
            raise NotFound("suite run", suite_run_id)
        cancelled = await uow.runs.cancel(suite_run_id)
        ended = await uow.runs.get(suite_run_id) or suite_run  # as the cancel found it
    if not cancelled:  # raised once committed: the cancel may have closed it as it ended
        raise Conflict(f"suite run {suite_run_id} has already ended {ended.status.value}")
    return await progress(db, suite_run_id)


_CLEANUP_POLL_SECONDS = 0.05  # how often the cleanup still owed is counted


async def work_until_done(
    db: Database,
    suite_run_id: int,
    executor_factory: ExecutorFactory,
    *,
    workers: int = 2,
    options: WorkerOptions | None = None,
    on_progress: Callable[[Progress, float], None] | None = None,
    poll_seconds: float = 0.3,
    interrupt: asyncio.Event | None = None,
) -> tuple[Progress, list[WorkerStats]]:
    """Run `workers` workers in this process on this suite run's runs (only those) until it
    has ended, or until `interrupt` is set: then they drain and release what they hold, no
    run starting a step after the interrupt.

    The suite run is looked at when a worker here ended its last run, when `interrupt` is
    set, when a worker stopped, and otherwise every `poll_seconds` (an end elsewhere: a
    cancel, another process's workers, the reaper)."""
    stop = asyncio.Event()
    wake = _Wake(interrupt, stop)
    scoped = replace(options or WorkerOptions(), suite_run_id=suite_run_id)

    def ended_here(ended_id: int) -> None:
        if ended_id == suite_run_id:
            wake.set()

    # One group committer for them all: per worker, each would commit smaller batches (4 x 8
    # cost 2.4x the PostgreSQL CPU per step of 1 x 32, and 35% of the steps/s).
    async with GroupCommitter(db.pool, on_last_run=ended_here) as committer, wake:
        pool_workers = [
            Worker(db.pool, executor_factory, scoped, listen_url=db.server.url, committer=committer)
            for _ in range(workers)
        ]
        tasks = [asyncio.create_task(w.run(stop)) for w in pool_workers]
        for task in tasks:
            task.add_done_callback(lambda _: wake.set())
        started = time.monotonic()
        try:
            while True:
                if on_progress is not None:
                    current = await progress(db, suite_run_id)
                    current = replace(current, steps=sum(w.steps_done for w in pool_workers))
                    on_progress(current, time.monotonic() - started)
                    ended = current.suite_run.status.is_terminal
                else:
                    ended = await _has_ended(db, suite_run_id)
                if ended or (interrupt and interrupt.is_set()):
                    break
                failed = [t for t in tasks if t.done()]
                if failed:  # a worker died: surface its exception
                    await failed[0]
                await wake.wait(poll_seconds)
        finally:
            stop.set()
            stats = await asyncio.gather(*tasks)
    current = await progress(db, suite_run_id)  # as it ended, or as the drain left it
    current = replace(current, steps=sum(w.steps_done for w in pool_workers))
    if on_progress is not None:
        on_progress(current, time.monotonic() - started)
    return current, list(stats)


class _Wake:
    """What wakes `work_until_done` before its next look is due: `set()`, or `interrupt`,
    which also sets the workers' `stop` at once: a step ending while the suite run is looked
    at must not start the next one."""

    def __init__(self, interrupt: asyncio.Event | None, stop: asyncio.Event) -> None:
        self._event = asyncio.Event()
        self._interrupt = interrupt
        self._stop = stop
        self._relay: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Wake:
        if self._interrupt is not None:
            self._relay = asyncio.create_task(self._relayed(self._interrupt))
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._relay is not None:  # not awaited: a cancel of the caller is not swallowed
            self._relay.cancel()

    async def _relayed(self, interrupt: asyncio.Event) -> None:
        await interrupt.wait()
        self._stop.set()
        self._event.set()

    def set(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> None:
        """Until set, or `seconds`; cleared for the next wait."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)
        self._event.clear()


async def clean_up_owed(
    db: Database,
    suite_run_id: int,
    executor_factory: ExecutorFactory,
    *,
    workers: int = 1,
    options: WorkerOptions | None = None,
    within: float = 60.0,
) -> int:
    """Run here the cleanup that the ended runs of the suite run still owe (cancelled ones that
    had started, stuck ones), until none is left or `within` seconds have passed (then
    `orchestra worker` finishes it); how many runs still owe theirs."""
    left = await _cleanup_left(db, suite_run_id)
    if not left:
        return 0
    stop = asyncio.Event()
    scoped = replace(options or WorkerOptions(), suite_run_id=suite_run_id)
    deadline = time.monotonic() + within
    async with GroupCommitter(db.pool) as committer:
        pool_workers = [
            Worker(db.pool, executor_factory, scoped, listen_url=db.server.url, committer=committer)
            for _ in range(workers)
        ]
        tasks = [asyncio.create_task(w.run(stop)) for w in pool_workers]
        try:
            while left and time.monotonic() < deadline:
                failed = [t for t in tasks if t.done()]
                if failed:  # a worker died: surface its exception
                    await failed[0]
                await asyncio.sleep(_CLEANUP_POLL_SECONDS)
                left = await _cleanup_left(db, suite_run_id)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
    return left


async def _cleanup_left(db: Database, suite_run_id: int) -> int:
    async with db.reading() as uow:
        return await uow.runs.cleanup_pending(suite_run_id)


async def _has_ended(db: Database, suite_run_id: int) -> bool:
    async with db.reading() as uow:
        suite_run = await uow.runs.get(suite_run_id)
    if suite_run is None:
        raise NotFound("suite run", suite_run_id)
    return suite_run.status.is_terminal


async def check_environment(
    db: Database, environment: str | Environment | None, executor_factory: ExecutorFactory
) -> None:
    """Build the environment's executor once (the environment by its name, or as the caller
    holds it), so a missing secret is a configuration error now rather than an ERROR in every
    run."""
    if isinstance(environment, str):
        async with db.reading() as uow:
            environment = await _environment(uow, environment)
    executor = await executor_factory(environment)
    await executor.aclose()
