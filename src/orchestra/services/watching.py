"""Use cases of watching suite runs: their test runs as resources, one test run with its steps
(as the reports assemble it), the events of a suite run as they happen, and the gauges a
metrics scrape reads.

A suite run's event stream reads every test run's status once, at its first look, and then at
each look (every second, or at each notification naming the suite run) only the runs whose
status changed since the one before: each run keeps the transaction that last set its status
(`test_run.status_changed`), and a look reads those its predecessor's snapshot did not see
(`test_run_changes`). The stream keeps the status of each run not ended yet (an ended run's
never changes) and the counts by status, moved by each change. So a look costs the runs that
changed, not every run: on a suite run of 100,000 runs, a look that read every run took 0.8 s
and 100,000 rows (2,300 buffers), one after 100 changes takes 1.5 ms and 100 rows (240
buffers), after none 15 buffers; the first look reads 100,000 ids and statuses in 0.35 s
(`python -m bench bench_event_look`). The marker is written only where a status changes, by
the statements that change it, and is a key of an index those writes update anyway
(test_run_suite_run_idx, whose key holds the status): a checkpoint writes nothing more, its
rows are only 8 bytes wider (`python -m bench.status_marker_cost`). A snapshot rather than a
counter tells what is new, because transactions commit out of the order of their ids: one that
took its id before a look and committed after it is seen by the next look, not lost; and it
needs no write of its own, unlike counts kept per suite run (which every claim would lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from orchestra.domain.records import SuiteRun
from orchestra.domain.statuses import TestRunStatus
from orchestra.domain.timestamps import rfc3339_or_none
from orchestra.errors import NotFound, UsageError
from orchestra.reports.assemble import run_report
from orchestra.reports.model import TestRunReport
from orchestra.services.running import Progress
from orchestra.store.database import Database
from orchestra.store.notifications import Wakeups
from orchestra.store.watching import Gauges, RunChanges, RunState, RunStatuses, StepsState

DEFAULT_PAGE = 50
MAX_PAGE = 500
LookT = TypeVar("LookT")


@dataclass(frozen=True, slots=True)
class TestRunPage:
    """Test runs of a suite run in id order, without their steps; `next_after` is the `after`
    of the next page (None: this page is the last)."""

    __test__ = False
    suite_run_id: int
    test_runs: list[TestRunReport]
    next_after: int | None


async def list_test_runs(
    db: Database,
    suite_run_id: int,
    *,
    statuses: Sequence[TestRunStatus] = (),
    after: int | None = None,
    limit: int = DEFAULT_PAGE,
) -> TestRunPage:
    if not 1 <= limit <= MAX_PAGE:
        raise UsageError(f"a page holds 1 to {MAX_PAGE} test runs, not {limit}")
    async with db.transaction() as uow:
        if await uow.runs.get(suite_run_id) is None:
            raise NotFound("suite run", suite_run_id)
        found = await uow.watch.test_run_page(
            suite_run_id, statuses=statuses, after=after, limit=limit + 1
        )
    page = [run_report(run, None, ()) for run in found[:limit]]
    return TestRunPage(suite_run_id, page, page[-1].id if len(found) > limit else None)


@dataclass(frozen=True, slots=True)
class TestRunDetail:
    """One test run as a report shows it: its steps (request, response, checks) and the
    leases it lost."""

    __test__ = False
    suite_run_id: int
    report: TestRunReport
    recorded: int = 0
    """Its step results (cleanup included): what its event stream counts as `steps`."""


async def test_run(db: Database, test_run_id: int) -> TestRunDetail:
    async with db.transaction() as uow:
        run = await uow.runs.test_run(test_run_id)
        if run is None:
            raise NotFound("test run", test_run_id)
        stored = await uow.suites.scenario(run.scenario_id)
        results = await uow.runs.step_results([run.id])
        lost = await uow.runs.lost_leases([run.id])
        released = await uow.runs.released_claims([run.id])
    scenario = stored.scenario if stored is not None else None
    report = run_report(run, scenario, results, lost, released)
    return TestRunDetail(run.suite_run_id, report, len(results))


async def gauges(db: Database) -> Gauges:
    async with db.transaction() as uow:
        return await uow.watch.gauges()


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a suite run's stream: `progress` (its status and counts), `test-run` (a
    test run's status changed), `end` (it ended, or was deleted: the stream's last)."""

    name: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventTimes:
    poll_seconds: float = 1.0  # a look without a notification, at the latest
    settle_seconds: float = 0.05  # notifications coming together are one look
    keepalive_seconds: float = 15.0  # a `progress` even when nothing changed


async def suite_run_events(
    db: Database,
    suite_run_id: int,
    wakeups: Wakeups | None = None,
    times: EventTimes = EventTimes(),
    stopping: asyncio.Event | None = None,
) -> AsyncIterator[Event]:
    """The suite run's events from now until it has ended: first its `progress`, then a
    `test-run` for each status change (its status as of the look before in `previous`) and a
    `progress` after them, and `end`. Each look reads the test runs whose status changed
    since the one before (`_looks` says when). When `stopping` is set (the server stops), the
    events end without `end`."""
    runs: _Runs | None = None
    last_sent = 0.0

    async def look() -> tuple[SuiteRun, list[_Moved]] | None:
        nonlocal runs
        async with db.reading() as uow:
            suite_run = await uow.runs.get(suite_run_id)
            if suite_run is None:
                return None
            if runs is None:
                runs = _Runs.of(await uow.watch.run_statuses(suite_run_id))
                return suite_run, []
            return suite_run, runs.advance(await uow.watch.run_changes(suite_run_id, runs.since))

    looks = _looks(look, suite_run_id, wakeups, times, stopping)
    first = True
    async with contextlib.aclosing(looks):
        async for seen in looks:
            if seen is None:
                yield Event("end", {"suite_run": suite_run_id, "deleted": True})
                return
            suite_run, moved = seen
            assert runs is not None  # read by the look
            for state, previous in moved:
                yield Event("test-run", _run_event(suite_run_id, state, previous))
            ended = suite_run.status.is_terminal
            if first or moved or ended or _due(last_sent, times):
                progress = Progress(suite_run, dict(runs.counts), runs.total)
                yield Event("end" if ended else "progress", progress.to_json())
                last_sent = time.monotonic()
            if ended:
                return
            first = False


_Moved = tuple[RunState, TestRunStatus | None]  # a run whose status changed, and its previous


@dataclass(slots=True)
class _Runs:
    """A suite run's test runs as its event stream saw them at its last look: the snapshot it
    read them in (the next look reads what changed since), the status of each run not ended
    (an ended run's never changes), and how many there are by status."""

    since: str
    unfinished: dict[int, TestRunStatus]
    counts: dict[TestRunStatus, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @classmethod
    def of(cls, read: RunStatuses) -> _Runs:
        runs = cls(read.snapshot, {})
        for run_id, status in read.statuses.items():
            runs._count(run_id, status)
        return runs

    def advance(self, changes: RunChanges) -> list[_Moved]:
        """Takes in the runs read as changed since the last look: those whose status is not
        the one known, each with the one known (None: a run created since)."""
        self.since = changes.snapshot
        moved: list[_Moved] = []
        for state in changes.states:
            previous = self.unfinished.get(state.id)
            if previous is state.status:
                continue  # it changed and changed back since the last look
            if previous is not None:
                self._uncount(previous)
            self._count(state.id, state.status)
            moved.append((state, previous))
        return moved

    def _count(self, run_id: int, status: TestRunStatus) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        if status.is_terminal:
            self.unfinished.pop(run_id, None)
        else:
            self.unfinished[run_id] = status

    def _uncount(self, status: TestRunStatus) -> None:
        left = self.counts[status] - 1
        if left:
            self.counts[status] = left
        else:
            del self.counts[status]


async def step_state(db: Database, test_run_id: int) -> StepsState:
    """The test run's status and how many steps it recorded."""
    async with db.transaction() as uow:
        state = await uow.watch.steps_state(test_run_id)
    if state is None:
        raise NotFound("test run", test_run_id)
    return state


async def step_events(
    db: Database,
    test_run_id: int,
    wakeups: Wakeups | None = None,
    times: EventTimes = EventTimes(),
    stopping: asyncio.Event | None = None,
) -> AsyncIterator[Event]:
    """The test run's events from now until it has ended: `progress` (its status and its
    recorded steps) first and whenever either changes, then `end`. It is looked at as its
    suite run's stream looks at the suite run (woken by the same notifications)."""
    try:
        first = await step_state(db, test_run_id)
    except NotFound:
        yield Event("end", {"test_run": test_run_id, "deleted": True})
        return
    known: StepsState | None = None
    last_sent = 0.0
    looks = _looks(
        lambda: _steps_look(db, test_run_id), first.suite_run_id, wakeups, times, stopping
    )
    async with contextlib.aclosing(looks):
        async for state in looks:
            if state is None:
                yield Event("end", {"test_run": test_run_id, "deleted": True})
                return
            ended = state.status.is_terminal
            if state != known or ended or _due(last_sent, times):
                yield Event("end" if ended else "progress", _steps_event(test_run_id, state))
                last_sent = time.monotonic()
            if ended:
                return
            known = state


async def _steps_look(db: Database, test_run_id: int) -> StepsState | None:
    async with db.transaction() as uow:
        return await uow.watch.steps_state(test_run_id)


def _steps_event(test_run_id: int, state: StepsState) -> dict[str, Any]:
    return {
        "test_run": test_run_id,
        "suite_run": state.suite_run_id,
        "status": state.status.value,
        "steps": state.steps,
    }


async def _looks(
    look: Callable[[], Awaitable[LookT]],
    suite_run_id: int,
    wakeups: Wakeups | None,
    times: EventTimes,
    stopping: asyncio.Event | None,
) -> AsyncGenerator[LookT, None]:
    """`look()` now, then each time a notification names the suite run (a hint: the sweeper
    sends one when runs of it ended) or after `poll_seconds`, until the consumer stops or
    `stopping` is set (the server stops)."""
    stopping = stopping or asyncio.Event()
    with contextlib.ExitStack() as stack:
        woken = stack.enter_context(wakeups.subscribe(suite_run_id)) if wakeups else None
        while True:
            yield await look()
            await _wait(woken, stopping, times)
            if stopping.is_set():
                return


def _run_event(
    suite_run_id: int, state: RunState, previous: TestRunStatus | None
) -> dict[str, Any]:
    return {
        "test_run": state.id,
        "suite_run": suite_run_id,
        "scenario": state.scenario,
        "data_row_index": state.data_row_index,
        "status": state.status.value,
        "previous": previous.value if previous is not None else None,
        "error": state.error,
        "started_at": rfc3339_or_none(state.started_at),
        "finished_at": rfc3339_or_none(state.finished_at),
    }


def _due(last_sent: float, times: EventTimes) -> bool:
    return time.monotonic() - last_sent >= times.keepalive_seconds


async def _wait(woken: asyncio.Event | None, stopping: asyncio.Event, times: EventTimes) -> None:
    """Until a notification (then a little more, for those coming with it), the server
    stopping, or the poll interval."""
    signals = [asyncio.ensure_future(stopping.wait())]
    if woken is not None:
        signals.append(asyncio.ensure_future(woken.wait()))
    try:
        await asyncio.wait(signals, timeout=times.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for signal in signals:
            signal.cancel()
    if woken is not None and woken.is_set() and not stopping.is_set():
        await asyncio.sleep(times.settle_seconds)
        woken.clear()
