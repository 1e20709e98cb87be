"""Use case: `orchestra test`, from BPMN models to a CI verdict in one call.

It imports the models (the same content is the same version), applies the environment and
imports the data set when given files (names are looked up), generates the suite, or reuses
the stored one generated from the same inputs, starts a suite run of the scenarios, data rows
and repeats asked for, executes it with workers in this process, and writes the reports.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestra.domain.conditions.rows import RowConflict
from orchestra.domain.dependencies import with_dependencies
from orchestra.domain.generation import (
    DEFAULT_LOOP_BOUND,
    DEFAULT_MAX_SCENARIOS,
    Criterion,
    called_keys,
)
from orchestra.domain.records import DataSet, Environment, StoredProcess, StoredSuite
from orchestra.errors import InputRefused, UsageError
from orchestra.runtime.ports import ExecutorFactory
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import config, executing, generating, importing, reporting, running
from orchestra.services.executing import Execution, OnInterrupt
from orchestra.store.database import Database
from orchestra.store.runs import RunSelection

Say = Callable[[str], None]
_FILE_SUFFIXES = (".yaml", ".yml", ".json", ".csv")


@dataclass(frozen=True, slots=True)
class TestPlan:
    """What to test and how: `env` and `data` are each a file (applied, imported) or a name."""

    __test__ = False

    models: tuple[Path, ...]
    bindings: Path | None
    env: str
    data: str | None = None
    process: str | None = None
    criterion: Criterion = Criterion.ALL_FLOWS
    loop_bound: int = DEFAULT_LOOP_BOUND
    max_scenarios: int = DEFAULT_MAX_SCENARIOS
    repeat: int = 1
    scenarios: tuple[str, ...] = ()
    rows: tuple[int, ...] = ()
    workers: int = 2
    concurrency: int = 8
    on_interrupt: OnInterrupt = OnInterrupt.CANCEL
    allow_unbound: bool = False  # run even when tasks have no binding (else UnboundTasks)
    force_rows: bool = False  # run data rows that contradict a scenario's path (else SKIPPED)
    data_values: str = "solved"  # or "boundary": scenarios at both sides of each bound
    reports: dict[str, Path] = field(default_factory=dict)  # format (junit, json, html) -> file


@dataclass(frozen=True, slots=True)
class TestResult:
    __test__ = False

    process: StoredProcess
    suite: dict[str, Any]  # generating.summary, with "reused"
    scenarios: tuple[str, ...]  # the scenarios run (those asked for and their dependencies)
    execution: Execution
    reports: dict[str, str]
    seconds: float

    @property
    def exit_code(self) -> int:
        if self.execution.interrupted:
            return 130
        return 0 if self.execution.passed else 1

    def to_json(self) -> dict[str, Any]:
        return {
            **self.execution.to_json(),
            "process": {"key": self.process.key, "version": self.process.version},
            "suite_reused": self.suite["reused"],
            "scenarios": list(self.scenarios),
            "coverage": self.suite["coverage"],
            "unbound": self.suite["unbound"],
            "unset_variables": self.suite["unset_variables"],
            "row_conflicts": self.suite.get("row_conflicts", []),
            "reports": self.reports,
            "seconds": round(self.seconds, 3),
        }


async def run_test(
    db: Database,
    plan: TestPlan,
    executor_factory: ExecutorFactory,
    *,
    say: Say = lambda _: None,
    on_progress: Callable[[running.Progress, float], None] | None = None,
    interrupt: asyncio.Event | None = None,
) -> TestResult:
    started = time.monotonic()
    _check_files(plan)
    process = await _import_models(db, plan, say)
    environment = await _environment(db, plan.env, say)
    data_set = await _data_set(db, plan.data, say)
    suite, stored = await _suite(db, process, plan, data_set, say)
    selection, scenarios = _selection(stored, plan, data_set)
    await _check_environment(db, environment, executor_factory)
    suite_run = await running.start_suite_run(
        db,
        stored.id,
        suite=stored,
        environment=environment,
        data_set=data_set,
        selection=selection,
        allow_unbound=plan.allow_unbound,
        force_rows=plan.force_rows,
    )
    say(f"suite run {suite_run.id}: {plan.workers} workers x {plan.concurrency} runs each")
    held = reporting.Held(suite=stored, process=process, environment=environment)
    execution = await executing.execute(
        db,
        suite_run.id,
        executor_factory,
        workers=plan.workers,
        options=WorkerOptions(concurrency=plan.concurrency),
        on_progress=on_progress,
        interrupt=interrupt,
        on_interrupt=plan.on_interrupt,
        held=held,
    )
    reports = await reporting.write_reports(db, suite_run.id, plan.reports, held=held)
    return TestResult(process, suite, scenarios, execution, reports, time.monotonic() - started)


NO_MODEL = "no BPMN model: give MODEL.bpmn or `models:` in orchestra.yaml"


def _check_files(plan: TestPlan) -> None:
    """Every file named must be there, before anything is stored: a usage error otherwise."""
    if not plan.models:
        raise UsageError(NO_MODEL)
    named = [*plan.models, *([plan.bindings] if plan.bindings else [])]
    missing = [str(path) for path in named if not path.is_file()]
    if missing:
        raise UsageError(f"no such file: {', '.join(missing)}", details={"missing": missing})
    for what, value in (("environment", plan.env), ("data set", plan.data)):
        if value is not None and _looks_like_file(value) and not Path(value).is_file():
            raise UsageError(f"no such {what} file: {value}", details={"missing": [value]})
    for path in plan.reports.values():  # before the run, not after it
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot write a report to {path}: {exc.strerror}") from exc


def _looks_like_file(value: str) -> bool:
    return "/" in value or value.lower().endswith(_FILE_SUFFIXES)


async def _import_models(db: Database, plan: TestPlan, say: Say) -> StoredProcess:
    """Import every model; the process tested: `plan.process`, or the first model's process
    that no imported process calls (a usage error when that leaves several or none)."""
    imported: list[list[StoredProcess]] = []
    for path in plan.models:
        data = await asyncio.to_thread(importing.read_source, path)
        async with db.reading() as uow:  # one statement finds a file imported before
            processes = await importing.stored_from(uow, data)
        if not processes:
            async with db.transaction() as uow:
                processes = await importing.import_processes(uow, data, source=str(path))
        imported.append(processes)
        shown = ", ".join(f"{p.key}@{p.version}" for p in processes)
        say(f"imported {path.name}: {shown}")
    every = [p for processes in imported for p in processes]
    return _tested_process(plan, imported[0], every)


def _tested_process(
    plan: TestPlan, first: list[StoredProcess], every: list[StoredProcess]
) -> StoredProcess:
    """`plan.process` by its BPMN id, else by its name when no other process has it; without
    one, the first model's process no imported process calls, when that is one."""
    if plan.process is not None:
        found = [p for p in every if p.key == plan.process]
        found = found or [p for p in every if p.name == plan.process]
        if len(found) == 1:
            return found[0]
        if found:
            raise UsageError(
                f"several processes are named {plan.process!r}: {_listed(found)}; "
                "say which by its id with --process KEY"
            )
        raise UsageError(f"no process {plan.process!r} in the models; they hold: {_listed(every)}")
    called = {key for p in every for key in called_keys(p.graph)}
    candidates = [p for p in first if p.graph.nodes and p.key not in called]
    if len(candidates) == 1:
        return candidates[0]
    raise UsageError(
        f"{plan.models[0]} holds the processes {_listed(candidates or first)}: say which to test"
        " with --process KEY or NAME (or `process:` in orchestra.yaml)"
    )


def _listed(processes: list[StoredProcess]) -> str:
    return ", ".join(f"{p.key} ({p.name!r})" if p.name else p.key for p in processes)


async def _environment(db: Database, env: str, say: Say) -> Environment:
    if await asyncio.to_thread(Path(env).is_file):
        applied = await config.environment_from_file(db, Path(env))
        say(f"environment {applied.name!r} applied from {env}")
        return applied
    async with db.reading() as uow:
        found = await uow.config.environment(env)
    if found is None:
        raise UsageError(
            f"no environment file or applied environment named {env!r}",
            details={"environment": env},
        )
    return found


async def _data_set(db: Database, data: str | None, say: Say) -> DataSet | None:
    """The data set imported from file `data` (named after its stem), or named `data`."""
    if data is None:
        return None
    path = Path(data)
    name = data
    if await asyncio.to_thread(path.is_file):
        name = path.stem
        imported = await config.data_set_from_file(db, name, path)
        say(f"data set {name!r} imported from {data}: {len(imported.rows)} rows")
        return imported
    async with db.reading() as uow:
        found = await uow.config.data_set(name)
    if found is None:
        raise UsageError(
            f"no data set file or imported data set named {data!r}", details={"data_set": data}
        )
    return found


async def _suite(
    db: Database, process: StoredProcess, plan: TestPlan, data_set: DataSet | None, say: Say
) -> tuple[dict[str, Any], StoredSuite]:
    """The suite generated, or reused, with its summary."""
    rows = None if data_set is None else data_set.rows
    summary, suite = await generating.generate_for_run(
        db,
        f"{process.key}@{process.version}",
        criterion=plan.criterion,
        loop_bound=plan.loop_bound,
        max_scenarios=plan.max_scenarios,
        bindings=plan.bindings,
        data_rows=rows,
        data_values=plan.data_values,
    )
    how = "reused" if summary["reused"] else "generated"
    say(f"suite {summary['suite']} {how}: {summary['scenarios']} scenarios ({plan.criterion})")
    if summary["unbound"]:
        say(f"warning: no binding for {', '.join(summary['unbound'])}")
    if summary["unset_variables"]:
        from orchestra.binding.variables import UnsetRead  # Jinja's parser: only to word them

        for read in summary["unset_variables"]:
            say(f"warning: {UnsetRead(**read).describe()}")
    unless = "" if plan.force_rows else ": its run is SKIPPED unless --force-rows"
    for conflict in summary.get("row_conflicts", ()):
        say(f"warning: {RowConflict(**conflict).describe()}{unless}")
    return summary, suite


def _selection(
    suite: StoredSuite, plan: TestPlan, data_set: DataSet | None
) -> tuple[RunSelection, tuple[str, ...]]:
    scenarios = [stored.scenario for stored in suite.scenarios]
    try:
        kept = with_dependencies(scenarios, plan.scenarios) if plan.scenarios else None
    except InputRefused as exc:
        raise UsageError(exc.message, details=exc.details) from exc
    rows = _rows(plan.rows, data_set)
    names = tuple(kept) if kept is not None else tuple(s.name for s in scenarios)
    selection = RunSelection(
        scenarios=frozenset(kept) if kept is not None else None,
        row_indexes=rows,
        repeat=plan.repeat,
    )
    return selection, names


def _rows(rows: tuple[int, ...], data_set: DataSet | None) -> tuple[int, ...] | None:
    """The data rows asked for, counted from 0, each checked against the data set."""
    if not rows:
        return None
    if data_set is None:
        raise UsageError("--row picks rows of a data set: give --data too")
    count = len(data_set.rows)
    outside = [row for row in rows if not 0 <= row < count]
    if outside:
        raise UsageError(
            f"data set {data_set.name!r} has {count} rows, numbered 0 to {count - 1}: no row "
            + ", ".join(map(str, outside)),
            details={"rows": count, "outside": outside},
        )
    return tuple(dict.fromkeys(rows))


async def _check_environment(
    db: Database, environment: Environment, executor_factory: ExecutorFactory
) -> None:
    await running.check_environment(db, environment, executor_factory)
