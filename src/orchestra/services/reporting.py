"""Use cases: a suite run's report, loaded from the store and rendered in one format; a suite's
coverage page (HTML), before any run."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Collection,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

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
    MAX_DETAILED_RUNS,
    ProcessInfo,
    RunOrder,
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
    """The suite run's report, every run with its steps; `held`: what the caller holds of it
    (not read again)."""
    with collector.paused():
        async with db.transaction() as uow:
            header = await _header(uow, suite_run_id, held=held)
            runs = await uow.runs.test_runs(suite_run_id)
            results = await uow.runs.step_results([run.id for run in runs])
            lost = await uow.runs.lost_leases([run.id for run in runs])
            released = await uow.runs.released_claims([run.id for run in runs])
        return _report_of(header, header.reports(runs, results, lost, released))


async def load_failing(
    db: Database, suite_run_id: int, *, held: Held | None = None
) -> tuple[TestRunReport, ...]:
    """The runs a failure summary lists, with their steps, in the report's order: those that
    failed, errored or were given up on, and those an undo or cleanup action of which did not
    pass. As large as they are, whatever the suite run's size."""
    async with db.transaction() as uow:
        header = await _header(uow, suite_run_id, held=held)
        runs = await uow.runs.failing_runs(suite_run_id)
        ids = [run.id for run in runs]
        results = await uow.runs.step_results(ids)
        lost = await uow.runs.lost_leases(ids)
        released = await uow.runs.released_claims(ids)
    return header.reports(runs, results, lost, released)


def _report_of(header: Header, runs: Sequence[TestRunReport]) -> RunReport:
    return trusted(
        RunReport,
        {
            "suite_run": header.suite_run,
            "process": header.process,
            "suite": header.suite,
            "test_runs": tuple(runs),
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
    """The diagram's counts from the first run of each group (`outcome_groups`), a page of
    them at a time, each with the outline of its steps (the outcomes are all it reads)."""
    groups = await uow.watch.outcome_groups(suite_run_id)
    sizes = {group.test_run_id: group.runs for group in groups}
    counted = Tally()
    for start in range(0, len(groups), PAGE_RUNS):
        ids = [group.test_run_id for group in groups[start : start + PAGE_RUNS]]
        firsts = await _load_runs(uow, header, ids, detailed=())
        tally(((run, sizes[run.id]) for run in firsts), into=counted)
    return counted


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
    return Path(f"orchestra-report-{suite_run_id}{_format(format_name).suffix}")


def _format(format_name: str) -> ReportFormat:
    try:
        return ReportFormat(format_name.lower())
    except ValueError:
        known = ", ".join(f.value for f in ReportFormat)
        raise UsageError(f"unknown report format {format_name!r} (one of {known})") from None


PAGE_RUNS = 500
"""Test runs a report loads at a time, with their steps, where it goes through every run."""


async def render_report(
    db: Database, suite_run_id: int, format_name: str, *, all_runs: bool = False
) -> str:
    """The suite run's report as text in one format (rendered off the event loop); the HTML
    and JSON detail the steps of 1,000 runs, failures first, or of every run with `all_runs`."""
    pieces = await open_report(db, suite_run_id, format_name, all_runs=all_runs)
    async with contextlib.aclosing(pieces):
        return "".join([piece async for piece in pieces])


async def open_report(
    db: Database, suite_run_id: int, format_name: str, *, all_runs: bool = False
) -> AsyncGenerator[str, None]:
    """The suite run's report in one format, piece by piece as `write_report` writes it, its
    first piece made already: an unknown format or suite run raises here, not once it is
    read. Closed (`aclose`) if left unread: a JUnit document holds its snapshot to its end."""
    pieces = _report_pieces(db, suite_run_id, _format(format_name), all_runs=all_runs)
    first = await anext(pieces)
    return _resumed(first, pieces)


async def _resumed(first: str, rest: AsyncGenerator[str, None]) -> AsyncGenerator[str, None]:
    async with contextlib.aclosing(rest):
        yield first
        async for piece in rest:
            yield piece


async def write_report(
    db: Database, suite_run_id: int, format_name: str, path: Path, *, all_runs: bool = False
) -> Path:
    """Render the suite run's report into `path` (written aside as it comes, then moved into
    place whole)."""
    chosen = _format(format_name)
    await _write_streamed(path, _report_pieces(db, suite_run_id, chosen, all_runs=all_runs))
    return path


@dataclass(frozen=True)
class _Snapshot:
    """A suite run as one REPEATABLE READ transaction reads it: its header and its test runs
    in report order, and the transaction to read their steps in."""

    uow: UnitOfWork
    header: Header
    order: RunOrder


@contextlib.asynccontextmanager
async def _snapshot(
    db: Database, suite_run_id: int, held: Held | None = None
) -> AsyncIterator[_Snapshot]:
    async with db.transaction() as uow:
        await uow.runs.read_one_snapshot()
        header = await _header(uow, suite_run_id, held=held)
        order = RunOrder(*_unzip(await uow.runs.report_order(suite_run_id)))
        yield _Snapshot(uow, header, order)


async def _report_pieces(
    db: Database, suite_run_id: int, chosen: ReportFormat, *, all_runs: bool
) -> AsyncGenerator[str, None]:
    """The report, whatever the suite run's size, in memory bounded by what the format shows:
    the JUnit document a page of runs at a time; the HTML and JSON with the steps of the runs
    they detail only (the diagram counted over groups of runs that colour it alike, as the
    live page does), rendered once the snapshot is let go."""
    async with _snapshot(db, suite_run_id) as read:
        if chosen is ReportFormat.JUNIT:
            async for piece in _junit_pieces(read):
                yield piece
            return
        rendering = await _shown(read, chosen, all_runs=all_runs)
    async for piece in _rendered(rendering):
        yield piece


async def _shown(read: _Snapshot, chosen: ReportFormat, *, all_runs: bool) -> Iterator[str]:
    """What the HTML or JSON report shows, read a page of runs at a time (the steps of those it
    details only), as the pieces that render it (see `_rendered`)."""
    order = read.order
    to_detail = order.to_detail(len(order) if all_runs else MAX_DETAILED_RUNS)
    detailed = frozenset(to_detail)
    paged = chosen is ReportFormat.HTML  # lists every run, detailed or not
    listed = order.ids if paged else to_detail
    runs: list[TestRunReport] = []
    left_out_steps: dict[int, int] = {}
    for start in range(0, len(listed), PAGE_RUNS):
        page = listed[start : start + PAGE_RUNS]
        with collector.paused():
            loaded = await _load_runs(read.uow, read.header, page, detailed=detailed)
        runs += _summaries(loaded, detailed, left_out_steps) if paged else loaded
    if len(detailed) == len(order):
        elements = tally((run, 1) for run in runs)
    else:
        elements = await _tally(read.uow, read.header, read.header.suite_run.id)
    handed = [_report_of(read.header, runs)]
    del runs
    return await asyncio.to_thread(
        _render_bounded, chosen, handed, order, elements, detailed, left_out_steps
    )


async def _rendered(pieces: Iterator[str]) -> AsyncGenerator[str, None]:
    """The pieces drawn off the event loop, about a megabyte at a time."""
    while text := await asyncio.to_thread(_next_text, pieces):
        yield text


TEXT_PIECE = 1 << 20
"""Characters a report's text is drawn, written or sent at a time, about."""


def _next_text(pieces: Iterator[str]) -> str:
    """The next pieces joined, TEXT_PIECE characters or a little more; empty once none is
    left."""
    taken: list[str] = []
    length = 0
    for piece in pieces:
        taken.append(piece)
        length += len(piece)
        if length >= TEXT_PIECE:
            break
    return "".join(taken)


def _summaries(
    runs: Sequence[TestRunReport], detailed: Collection[int], left_out_steps: dict[int, int]
) -> list[TestRunReport]:
    """The runs as a page lists them: those not `detailed` with what their summary line reads
    only (`html.summary_only`), the steps of those left without any counted in
    `left_out_steps`."""
    from orchestra.reports.html import summary_only

    listed = []
    for run in runs:
        if run.id not in detailed:
            run, left_out_steps[run.id] = summary_only(run)
        listed.append(run)
    return listed


def _render_bounded(
    chosen: ReportFormat,
    handed: list[RunReport],
    order: RunOrder,
    elements: Tally,
    detailed: frozenset[int],
    left_out_steps: dict[int, int],
) -> Iterator[str]:
    """The HTML or JSON of the report `handed` over (see `_render_handed`), piece by piece:
    the page as its template writes it, the JSON document made whole, then cut (sent, each
    piece is encoded on its own, not the whole document at once)."""
    report = handed.pop()
    if chosen is ReportFormat.HTML:
        from orchestra.reports.html import html_report_pieces

        return html_report_pieces(report, order, elements, detailed, left_out_steps)
    from orchestra.reports.json_report import document, document_text

    text = document_text(document(report, order, elements))
    return (text[start : start + TEXT_PIECE] for start in range(0, len(text), TEXT_PIECE))


async def _junit_pieces(read: _Snapshot) -> AsyncGenerator[str, None]:
    """The JUnit document: its totals counted first, then its test cases a page of runs at a
    time."""
    from orchestra.reports.junit import JUNIT_TAIL, junit_head, junit_testcases

    report = _report_of(read.header, [])
    yield junit_head(report, read.order.counts())
    ids = read.order.ids
    for start in range(0, len(ids), PAGE_RUNS):
        with collector.paused():
            runs = await _load_runs(read.uow, read.header, ids[start : start + PAGE_RUNS])
            text = await asyncio.to_thread(junit_testcases, report, runs)
        del runs  # not held while the page is written
        yield text
    yield JUNIT_TAIL


async def _load_runs(
    uow: UnitOfWork,
    header: Header,
    ids: Sequence[int],
    *,
    detailed: Collection[int] | None = None,
) -> tuple[TestRunReport, ...]:
    """The test runs `ids` in that order, with their steps: in detail, or for those not
    `detailed` (when given) with only what a run's summary line says (`step_outlines`)."""
    by_id = {run.id: run for run in await uow.runs.test_runs_by_id(ids)}
    full = ids if detailed is None else [i for i in ids if i in detailed]
    results = await uow.runs.step_results(full) if full else []
    if detailed is not None and len(full) < len(ids):
        results += await uow.runs.step_outlines([i for i in ids if i not in detailed])
    lost = await uow.runs.lost_leases(ids)
    released = await uow.runs.released_claims(ids)
    runs = [by_id[i] for i in ids if i in by_id]  # one pruned meanwhile is gone
    return header.reports(runs, results, lost, released)


def _unzip(
    pairs: list[tuple[int, TestRunStatus]],
) -> tuple[tuple[int, ...], tuple[TestRunStatus, ...]]:
    return tuple(i for i, _ in pairs), tuple(status for _, status in pairs)


async def write_reports(
    db: Database,
    suite_run_id: int,
    paths: Mapping[str, Path],
    *,
    held: Held | None = None,
) -> dict[str, str]:
    """The suite run's report in several formats (format: path), its header read once
    (`held`: as `load_report`): loaded whole once, or, for a suite run of more runs than the
    HTML and JSON detail, each format read from one snapshot as `write_report` reads it."""
    if not paths:
        return {}
    async with db.reading() as uow:
        runs = await uow.runs.counts(suite_run_id)
    if sum(runs.values()) > MAX_DETAILED_RUNS:
        return await _write_bounded(db, suite_run_id, paths, held)
    with collector.paused():
        # a report loaded here is gone when the collector resumes: its next collection would
        # walk every one of its objects (it holds tens of thousands), all of them alive
        return await _write_all(db, suite_run_id, paths, held)


async def _write_bounded(
    db: Database, suite_run_id: int, paths: Mapping[str, Path], held: Held | None
) -> dict[str, str]:
    written: dict[str, str] = {}
    async with _snapshot(db, suite_run_id, held) as read:
        for format_name, path in paths.items():
            await _write_streamed(path, _pieces(read, _format(format_name)))
            written[format_name] = str(path)
    return written


async def _pieces(read: _Snapshot, chosen: ReportFormat) -> AsyncGenerator[str, None]:
    """The report as `_report_pieces` makes it, all of it in the snapshot `read`."""
    if chosen is ReportFormat.JUNIT:
        pieces = _junit_pieces(read)
    else:
        pieces = _rendered(await _shown(read, chosen, all_runs=False))
    async with contextlib.aclosing(pieces):
        async for piece in pieces:
            yield piece


async def _write_all(
    db: Database, suite_run_id: int, paths: Mapping[str, Path], held: Held | None
) -> dict[str, str]:
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


async def _write_streamed(path: Path, pieces: AsyncGenerator[str, None]) -> None:
    """The `pieces` written into `path`: into a file aside as they come, then moved into
    place whole (none is left aside when making them fails)."""
    async with contextlib.aclosing(pieces):
        try:
            partial = await asyncio.to_thread(_open_partial, path)
        except OSError as exc:
            raise UsageError(f"cannot write the report to {path}: {exc.strerror or exc}") from exc
        try:
            with partial:
                async for text in pieces:
                    await asyncio.to_thread(partial.write, text)
            await asyncio.to_thread(os.replace, partial.name, path)
        except BaseException as exc:
            _discard(partial)
            if isinstance(exc, OSError):
                raise UsageError(
                    f"cannot write the report to {path}: {exc.strerror or exc}"
                ) from exc
            raise


def _open_partial(path: Path) -> TextIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(path.name + ".partial").open("w", encoding="utf-8")


def _discard(partial: TextIO) -> None:
    partial.close()
    Path(partial.name).unlink(missing_ok=True)
