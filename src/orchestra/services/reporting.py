"""Use cases: a suite run's report, loaded from the store and rendered in one format; a suite's
coverage page (HTML), before any run."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from orchestra import collector
from orchestra.domain.records import (
    Environment,
    StepResult,
    StoredProcess,
    StoredSuite,
    SuiteRun,
    TestRun,
)
from orchestra.domain.scenario import TestScenario
from orchestra.domain.statuses import TestRunStatus
from orchestra.domain.trusted import trusted
from orchestra.errors import NotFound, UsageError
from orchestra.reports import ReportFormat, RunReport, render, render_suite_html
from orchestra.reports.assemble import run_report
from orchestra.reports.model import (
    ProcessInfo,
    SuiteInfo,
    SuiteReport,
    SuiteRunInfo,
    TestRunReport,
)
from orchestra.reports.outcomes import Tally, tally
from orchestra.store.database import Database
from orchestra.store.repositories import UnitOfWork

if TYPE_CHECKING:
    from orchestra.domain.history import LostLease, ReleasedClaim

ROWS_KEY = "rows"
"""Where a suite run's context keeps each data row's and repeat's exports (`rows.<index>`; in
a suite run that repeats its runs `rows.<index>#<repeat>`, `rows.#<repeat>`: see claims.sql)."""


@dataclass(frozen=True, slots=True)
class Held:
    """What the caller holds of a suite run, not read again for its report: its suite, the
    suite's process, its environment (each used only when the suite run names it)."""

    suite: StoredSuite | None = None
    process: StoredProcess | None = None
    environment: Environment | None = None


async def load_report(db: Database, suite_run_id: int, *, held: Held | None = None) -> RunReport:
    """The suite run's report; `held`: what the caller holds of it (not read again)."""
    with collector.paused():
        async with db.transaction() as uow:
            header = await _header(uow, suite_run_id, held=held)
            runs = await uow.runs.test_runs(suite_run_id)
            results = await uow.runs.step_results([run.id for run in runs])
            lost = await uow.runs.lost_leases([run.id for run in runs])
            released = await uow.runs.released_claims([run.id for run in runs])
        return _report(header, runs, results, lost, released)


def _report(
    header: Header,
    runs: Sequence[TestRun],
    results: list[StepResult],
    lost: list[LostLease],
    released: list[ReleasedClaim],
) -> RunReport:
    return trusted(
        RunReport,
        {
            "suite_run": header.suite_run,
            "process": header.process,
            "suite": header.suite,
            "test_runs": header.reports(runs, results, lost, released),
            "generated_at": datetime.now(UTC),
        },
    )


@dataclass(frozen=True)
class Header:
    """What a report says of a suite run before its test runs, and its suite's scenarios."""

    suite_run: SuiteRunInfo
    process: ProcessInfo
    suite: SuiteInfo
    scenarios: dict[int, TestScenario]

    def reports(
        self,
        runs: Sequence[TestRun],
        results: list[StepResult],
        lost: list[LostLease],
        released: list[ReleasedClaim],
    ) -> tuple[TestRunReport, ...]:
        by_run, lost_by_run, released_by_run = _by_run(results), _by_run(lost), _by_run(released)
        return tuple(
            run_report(
                run,
                self.scenarios.get(run.scenario_id),
                by_run.get(run.id, []),
                lost_by_run.get(run.id, []),
                released_by_run.get(run.id, []),
            )
            for run in runs
        )


async def _header(uow: UnitOfWork, suite_run_id: int, *, held: Held | None = None) -> Header:
    """`held`: what the caller holds of the suite run (not read again)."""
    held = held or Held()
    suite_run = await uow.runs.get(suite_run_id)
    if suite_run is None:
        raise NotFound("suite run", suite_run_id)
    suite = held.suite
    if suite is None or suite.id != suite_run.suite_id:
        suite = await uow.suites.get(suite_run.suite_id)
    assert suite is not None, "a suite run keeps its suite (ON DELETE RESTRICT)"
    process = held.process
    if process is None or process.id != suite.process_id:
        process = await uow.processes.get_by_id(suite.process_id)
    assert process is not None, "a suite keeps its process"
    environment = held.environment
    if suite_run.environment_id is None:
        environment = None
    elif environment is None or environment.id != suite_run.environment_id:
        environment = await uow.config.environment_by_id(suite_run.environment_id)
    return Header(
        suite_run=trusted(
            SuiteRunInfo,
            {
                "id": suite_run.id,
                "status": suite_run.status,
                "started_at": suite_run.started_at,
                "finished_at": suite_run.finished_at,
                "environment": environment.name if environment else None,
                "context_keys": _exported_names(suite_run),
            },
        ),
        process=await _process_info(uow, process, suite),
        suite=_suite_info(suite),
        scenarios={stored.id: stored.scenario for stored in suite.scenarios},
    )


def _suite_info(suite: StoredSuite) -> SuiteInfo:
    return trusted(
        SuiteInfo, {"id": suite.id, "criterion": suite.criterion, "coverage": suite.coverage}
    )


@dataclass(frozen=True)
class Overview:
    """A suite run at a glance, whatever its size: its header, its test runs counted by
    status, its diagram's counts, and its first test runs, those that failed first."""

    header: Header
    counts: dict[TestRunStatus, int]
    elements: Tally
    test_runs: tuple[TestRunReport, ...]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def load_overview(db: Database, suite_run_id: int, *, runs: int) -> Overview:
    """The suite run's overview with its first `runs` test runs (those ended unpassed with
    their steps, for their failure). Nothing in it grows with the suite run but the counts:
    the diagram is counted over one run per group of runs that colour it alike."""
    async with db.transaction() as uow:
        header = await _header(uow, suite_run_id)
        counts = await uow.runs.counts(suite_run_id)
        elements = await _tally(uow, header, suite_run_id)
        shown = await uow.watch.failures_first(suite_run_id, runs)
        passed = TestRunStatus.PASSED
        unpassed = [r.id for r in shown if r.status.is_terminal and r.status is not passed]
        results = await uow.runs.step_results(unpassed)
        lost = await uow.runs.lost_leases(unpassed)
        released = await uow.runs.released_claims(unpassed)
    return Overview(header, counts, elements, header.reports(shown, results, lost, released))


async def element_tally(db: Database, suite_run_id: int) -> Tally:
    """The suite run's diagram's counts: the runs that passed and failed at each element."""
    async with db.transaction() as uow:
        return await _tally(uow, await _header(uow, suite_run_id), suite_run_id)


async def _tally(uow: UnitOfWork, header: Header, suite_run_id: int) -> Tally:
    groups = await uow.watch.outcome_groups(suite_run_id)
    ids = [group.test_run_id for group in groups]
    firsts = header.reports(
        await uow.watch.test_runs(ids),
        await uow.runs.step_results(ids),
        await uow.runs.lost_leases(ids),
        await uow.runs.released_claims(ids),
    )
    sizes = {group.test_run_id: group.runs for group in groups}
    return tally((run, sizes[run.id]) for run in firsts)


def _exported_names(suite_run: SuiteRun) -> tuple[str, ...]:
    """The names the runs exported: with a data set or repeats, `rows` holds each row's or
    repeat's own values (the store's `rows.<lane>`), no name a run exported."""
    names = set(suite_run.context)
    if suite_run.data_set_id is not None or suite_run.summary.get("repeat"):
        names.discard(ROWS_KEY)
    return tuple(sorted(names))


async def _process_info(uow: UnitOfWork, process: StoredProcess, suite: StoredSuite) -> ProcessInfo:
    """The suite's process with the processes its generation inlined (the suite's parameters
    `inlined_calls`), each in the version it inlined (`called_versions`; the newest for suites
    generated before those were kept, or when that version is gone)."""
    info = trusted(
        ProcessInfo,
        {
            "key": process.key,
            "version": process.version,
            "name": process.name,
            "graph": process.graph,
            "calls": (),
        },
    )
    inlined = suite.parameters.get("inlined_calls") or []
    if not inlined:
        return info
    from orchestra.reports.calls import Imported, called_processes

    versions: dict[str, int] = suite.parameters.get("called_versions") or {}
    called: dict[str, Imported] = {}
    for key in inlined:
        stored = await uow.processes.get(key, versions.get(key))
        if stored is None and key in versions:
            stored = await uow.processes.get(key)
        if stored is not None:
            called[key] = Imported(stored.key, stored.version, stored.name, stored.graph)
    if not called:
        return info
    return info.model_copy(update={"calls": called_processes(process.graph, called)})


RecordT = TypeVar("RecordT", StepResult, "LostLease", "ReleasedClaim")


def _by_run(records: list[RecordT]) -> dict[int, list[RecordT]]:
    """Records of several test runs, grouped by run (their order kept)."""
    grouped: dict[int, list[RecordT]] = {}
    for record in records:
        grouped.setdefault(record.test_run_id, []).append(record)
    return grouped


def default_path(suite_run_id: int, format_name: str) -> Path:
    try:
        chosen = ReportFormat(format_name.lower())
    except ValueError:
        known = ", ".join(f.value for f in ReportFormat)
        raise UsageError(f"unknown report format {format_name!r} (one of {known})") from None
    return Path(f"orchestra-report-{suite_run_id}{chosen.suffix}")


async def render_report(
    db: Database, suite_run_id: int, format_name: str, *, all_runs: bool = False
) -> str:
    """The suite run's report as text in one format (rendered off the event loop); the HTML
    and JSON detail the steps of 1,000 runs, failures first, or of every run with `all_runs`."""
    report = await load_report(db, suite_run_id)
    return await asyncio.to_thread(lambda: render(report, format_name, all_runs=all_runs))


async def write_report(
    db: Database, suite_run_id: int, format_name: str, path: Path, *, all_runs: bool = False
) -> Path:
    """Render the suite run's report into `path` (written whole, then moved into place)."""
    text = await render_report(db, suite_run_id, format_name, all_runs=all_runs)
    await _write(path, text)
    return path


async def write_reports(
    db: Database,
    suite_run_id: int,
    paths: Mapping[str, Path],
    *,
    held: Held | None = None,
    report: RunReport | None = None,
) -> dict[str, str]:
    """The suite run's report in several formats (format: path), loaded once (`held`: as
    `load_report`), or not at all when the caller loaded it (`report`)."""
    if not paths:
        return {}
    with collector.paused():
        # a report loaded here is gone when the collector resumes: its next collection would
        # walk every one of its objects (it holds tens of thousands), all of them alive
        return await _write_all(db, suite_run_id, paths, held, report)


async def _write_all(
    db: Database,
    suite_run_id: int,
    paths: Mapping[str, Path],
    held: Held | None,
    report: RunReport | None,
) -> dict[str, str]:
    if report is None or report.suite_run.id != suite_run_id:
        report = await load_report(db, suite_run_id, held=held)
    written: dict[str, str] = {}
    for format_name, path in paths.items():
        text = await asyncio.to_thread(_render_handed, [report], format_name)
        await _write(path, text)
        written[format_name] = str(path)
    return written


def _render_handed(handed: list[RunReport], format_name: str) -> str:
    """`render` of the report `handed` over (taken out of the list): the worker thread may hold
    its task's arguments a moment after the result is back, and must not hold the report."""
    return render(handed.pop(), format_name)


async def load_suite_report(db: Database, suite_id: int) -> SuiteReport:
    async with db.transaction() as uow:
        suite = await uow.suites.get(suite_id)
        if suite is None:
            raise NotFound("suite", suite_id)
        process = await uow.processes.get_by_id(suite.process_id)
        assert process is not None, "a suite keeps its process"
        info = await _process_info(uow, process, suite)
    return SuiteReport(
        process=info,
        suite=_suite_info(suite),
        parameters=suite.parameters,
        unbound=suite.unbound,
        scenarios=tuple(stored.scenario for stored in suite.scenarios),
        created_at=suite.created_at,
        generated_at=datetime.now(UTC),
    )


def default_suite_path(suite_id: int) -> Path:
    return Path(f"orchestra-suite-{suite_id}.html")


async def render_suite_report(db: Database, suite_id: int) -> str:
    """The suite's coverage page as HTML (rendered off the event loop)."""
    report = await load_suite_report(db, suite_id)
    return await asyncio.to_thread(render_suite_html, report)


async def write_suite_report(db: Database, suite_id: int, path: Path) -> dict[str, Any]:
    """Write the suite's coverage page into `path`; its figures, with the path written."""
    report = await load_suite_report(db, suite_id)
    text = await asyncio.to_thread(render_suite_html, report)
    await _write(path, text)
    from orchestra.reports.coverage import coverage_summary

    summary = coverage_summary(report)
    return {**summary, "format": ReportFormat.HTML.value, "path": str(path)}


async def _write(path: Path, text: str) -> None:
    try:
        await asyncio.to_thread(_write_whole, path, text)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {path}: {exc.strerror or exc}") from exc


def _write_whole(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
