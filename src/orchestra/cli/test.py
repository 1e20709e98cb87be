"""`orchestra test`: from BPMN models to a CI verdict in one command.

Flags win over the project file (`orchestra.yaml` in the working directory, or `-c FILE`).
Heavy modules (the runtime, the executor, the reports) are imported inside the command.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from orchestra import collector
from orchestra.cli.output import console, emit, json_option
from orchestra.cli.stopping import INTERRUPTED
from orchestra.cli.waiting import on_interrupt_option, print_outcome

if TYPE_CHECKING:
    from rich.console import Console

    from orchestra.cli.run import ShowProgress
    from orchestra.project import ProjectFile
    from orchestra.services.testing import TestPlan, TestResult

_COVERAGES = ("all-flows", "all-nodes", "all-paths")


@click.command("test")
@click.argument(
    "models", nargs=-1, type=click.Path(dir_okay=False, path_type=Path), metavar="[MODEL.bpmn]..."
)
@click.option("--bindings", type=click.Path(dir_okay=False, path_type=Path), help="Binding file.")
@click.option("--env", help="An environment file to apply, or the name of one applied before.")
@click.option("--data", help="A data set file (imported as its file name's stem), or a name.")
@click.option(
    "--data-values",
    type=click.Choice(["solved", "boundary"]),
    help="solved: each scenario's data takes its path; boundary: each scenario also at both "
    "sides of each bound on its path [default: solved].",
)
@click.option(
    "--process", help="The process to test (its BPMN id, or its name) when the models hold several."
)
@click.option("--coverage", type=click.Choice(_COVERAGES), help="[default: all-flows]")
@click.option("--loop-bound", type=click.IntRange(0, 50), help="all-paths: loop bound.")
@click.option("--max-scenarios", type=click.IntRange(1, 100_000), help="all-paths: cap.")
@click.option("--repeat", type=click.IntRange(1, 10_000), help="Runs of each scenario (x row).")
@click.option("--scenario", "scenarios", multiple=True, help="Only this scenario (repeat).")
@click.option(
    "--row", "rows", type=click.IntRange(min=0), multiple=True, help="Only this data row, from 0."
)
@click.option("--workers", type=click.IntRange(1, 64), help="[default: 2]")
@click.option("--concurrency", type=click.IntRange(1, 1024), help="Runs per worker [default: 8].")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML.")
@click.option(
    "--html", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML report."
)
@click.option(
    "--report-json", type=click.Path(dir_okay=False, path_type=Path), help="Write the JSON report."
)
@click.option(
    "-c",
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The project file [default: ./orchestra.yaml when there is one].",
)
@click.option(
    "--allow-unbound",
    is_flag=True,
    default=None,
    help="Run even when tasks have no binding (their runs end in ERROR there).",
)
@click.option(
    "--force-rows",
    is_flag=True,
    default=None,
    help="Run every data row, even one that contradicts a scenario's path (by default its "
    "run is SKIPPED, saying which condition the row turns).",
)
@on_interrupt_option
@json_option
def test(config_file: Path | None, as_json: bool, **flags: Any) -> None:
    """Import MODELs, generate (or reuse) a suite, run it here and write the reports.

    Exit 0 when every run passed, 1 when any failed or errored, 2 on a usage or configuration
    error, 130 when stopped by Ctrl-C (the suite run is cancelled unless --on-interrupt leave).
    A suite whose tasks are not all bound is refused (exit 2) unless --allow-unbound.
    """
    with collector.paused_during_start_up():
        given = _given_flags(flags)
        plan = _plan(_project(config_file), given)
        result = _run(plan, as_json)
    if result is None:
        from orchestra.cli.waiting import exit_stopped_while_starting

        exit_stopped_while_starting(as_json)
    emit(result.to_json(), as_json=as_json, human=lambda out: _print(out, result))
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


def _given_flags(flags: dict[str, Any]) -> dict[str, Any]:
    """The flags set on the command line (not left at their default)."""
    context = click.get_current_context()
    source = click.core.ParameterSource.COMMANDLINE
    return {name: v for name, v in flags.items() if context.get_parameter_source(name) is source}


def _project(config_file: Path | None) -> ProjectFile:
    from orchestra.errors import UsageError
    from orchestra.project import PROJECT_FILE, load_project, project_defaults

    if config_file is not None:
        if not config_file.is_file():
            raise UsageError(f"no project file {config_file}")
        return load_project(config_file)
    default = Path(PROJECT_FILE)
    return load_project(default) if default.is_file() else project_defaults()


def _plan(project: ProjectFile, given: dict[str, Any]) -> TestPlan:
    from orchestra.domain.generation import Criterion
    from orchestra.errors import UsageError
    from orchestra.services.executing import OnInterrupt
    from orchestra.services.testing import NO_MODEL, TestPlan

    models = tuple(given.get("models") or (Path(m) for m in project.models))
    if not models:  # the first thing missing, said first
        raise UsageError(NO_MODEL)
    env = given.get("env", project.env)
    if env is None:
        raise UsageError("no environment: give --env FILE|NAME or `env:` in orchestra.yaml")
    plan = TestPlan(
        models=models,
        bindings=given.get("bindings") or _path(project.bindings),
        env=str(env),
        data=given.get("data", project.data),
        process=given.get("process", project.process),
        criterion=Criterion(given.get("coverage", project.coverage)),
        repeat=given.get("repeat", project.repeat),
        scenarios=tuple(given.get("scenarios") or project.scenarios),
        rows=tuple(given.get("rows") or project.rows),
        workers=given.get("workers", project.workers),
        concurrency=given.get("concurrency", project.concurrency),
        on_interrupt=OnInterrupt(given.get("on_interrupt", project.on_interrupt)),
        allow_unbound=bool(given.get("allow_unbound", project.allow_unbound)),
        force_rows=bool(given.get("force_rows", project.force_rows)),
        data_values=given.get("data_values", project.data_values),
        reports=_reports(project, given),
    )
    loop_bound = given.get("loop_bound", project.loop_bound)
    max_scenarios = given.get("max_scenarios", project.max_scenarios)
    if loop_bound is not None:
        plan = replace(plan, loop_bound=loop_bound)
    if max_scenarios is not None:
        plan = replace(plan, max_scenarios=max_scenarios)
    return plan


def _path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


def _reports(project: ProjectFile, given: dict[str, Any]) -> dict[str, Path]:
    wanted = {
        "junit": given.get("junit") or _path(project.reports.junit),
        "html": given.get("html") or _path(project.reports.html),
        "json": given.get("report_json") or _path(project.reports.json_report),
    }
    return {fmt: path for fmt, path in wanted.items() if path is not None}


def _run(plan: TestPlan, as_json: bool) -> TestResult | None:
    """How the test went; None when stopped before it had connected, nothing run."""
    from orchestra.errors import UnboundTasks

    try:
        return _run_here(plan, as_json)
    except UnboundTasks as exc:
        raise exc.advised(
            "bind them in the binding file, or give --allow-unbound"
            " (`allow_unbound: true` in orchestra.yaml) to run anyway"
        ) from None


def _run_here(plan: TestPlan, as_json: bool) -> TestResult | None:
    from orchestra.binding.factory import executor_factory
    from orchestra.cli.waiting import stop_on_signals, unless_stopped
    from orchestra.config import Settings
    from orchestra.services.testing import run_test
    from orchestra.store.database import open_database

    collector.resume_after_start_up()  # every module the run needs is in, but the HTTP client's
    say = (lambda _: None) if as_json else _say_on_stderr()

    async def go() -> TestResult | None:
        size = 2 + 3 * plan.workers  # all opened while the suite is prepared, before the runs
        interrupt = stop_on_signals()
        opening = open_database(Settings.from_env(), max_size=size, min_size=size)
        async with unless_stopped(opening, interrupt) as db:
            if db is None:
                return None
            with _progress(shown=not as_json) as show:
                return await run_test(
                    db, plan, executor_factory(), say=say, on_progress=show, interrupt=interrupt
                )

    return asyncio.run(go())


def _say_on_stderr() -> Callable[[str], None]:
    from rich.markup import escape

    err = console(stderr=True)
    return lambda line: err.print(f"[cyan]•[/] {escape(line)}")


@contextmanager
def _progress(*, shown: bool) -> Iterator[ShowProgress | None]:
    """The progress bar on stderr; none with --json (nor the counting that feeds it)."""
    if not shown:
        yield None
        return
    from orchestra.cli.run import showing_progress

    with showing_progress("running", disable=False) as show:
        yield show


def _print(out: Console, result: TestResult) -> None:
    from rich.markup import escape

    shown = result.to_json()
    print_outcome(out, shown)
    for fmt, path in result.reports.items():
        out.print(f"{fmt:>6} report: {escape(path)}")
    if result.exit_code == INTERRUPTED:
        return
    verdict = "[green]PASSED[/]" if result.exit_code == 0 else "[red]FAILED[/]"
    out.print(f"{verdict} in {result.seconds:.1f} s")
