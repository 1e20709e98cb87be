"""`orchestra run`, `orchestra worker`, `orchestra status`, `orchestra cancel`."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orchestra.cli import stopping
from orchestra.cli.output import console, emit, json_option, store_description, with_database
from orchestra.cli.params import NAME, SUITE, SUITE_RUN
from orchestra.cli.stopping import INTERRUPTED
from orchestra.cli.waiting import (
    exit_stopped_while_starting,
    on_interrupt_option,
    print_counts,
    print_outcome,
    stop_on_signals,
    unless_stopped,
)
from orchestra.config import Settings
from orchestra.domain.records import Environment, SuiteRun
from orchestra.domain.references import SuiteRef, SuiteRunRef
from orchestra.domain.statuses import FAILING_STATUSES, SuiteRunStatus, TestRunStatus
from orchestra.errors import UnboundTasks, UsageError
from orchestra.runtime.ports import Executor, ExecutorFactory
from orchestra.runtime.tally import WorkerStats
from orchestra.runtime.worker import Worker, WorkerOptions, new_worker_id
from orchestra.services import executing, running
from orchestra.services.executing import OnInterrupt
from orchestra.store.database import Database, open_database

ShowProgress = Callable[[running.Progress, float], None]


def _announce(worker_id: str, metrics_url: str | None) -> None:
    metrics = f", metrics at {metrics_url}" if metrics_url else ""
    console(stderr=True).print(f"worker {worker_id}: waiting for runs{metrics} (Ctrl-C to stop)")


def _executor_factory() -> ExecutorFactory:
    from orchestra.binding.factory import executor_factory  # the HTTP client, templates, checks

    return executor_factory()


def _executor_factory_on_first_use() -> ExecutorFactory:
    """`_executor_factory()`, imported when a worker builds its first executor: a worker
    claims its first run without paying for the HTTP client, templates and checks first.
    Imported in a thread, so the event loop keeps heartbeats going rather than stalling."""
    factories: list[ExecutorFactory] = []

    async def build(environment: Environment | None) -> Executor:
        if not factories:
            factories.append(await asyncio.to_thread(_executor_factory))
        return await factories[0](environment)

    return build


@click.command()
@click.argument("suite", type=SUITE, required=False)
@click.option(
    "--rerun-failed",
    "rerun",
    type=SUITE_RUN,
    metavar="SUITE_RUN",
    help="Instead of a SUITE: run the FAILED, ERROR and FAILED_STUCK runs of this ended suite"
    " run again, each with its data row (and the runs they depend on), on its environment.",
)
@click.option(
    "--env",
    "environment",
    type=NAME,
    help="The environment to run against (orchestra env apply).",
)
@click.option("--data-set", type=NAME, help="Run each scenario once per row of this data set.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1024),
    default=8,
    show_default=True,
    help="Runs each worker executes at once.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(1, 100),
    default=3,
    show_default=True,
    help="Attempts a run gets: each lease it loses (a crashed or hung worker) costs one, "
    "and it is FAILED_STUCK when it loses the last.",
)
@click.option(
    "--wait/--no-wait",
    default=False,
    help="Run workers here until the suite run ends, with a progress bar.",
)
@click.option(
    "--allow-unbound",
    is_flag=True,
    help="Run even when tasks have no binding (their runs end in ERROR there).",
)
@click.option(
    "--force-rows",
    is_flag=True,
    help="Run every data row, even one that contradicts a scenario's path (by default its "
    "run is SKIPPED, saying which condition the row turns).",
)
@on_interrupt_option
@json_option
def run(
    suite: SuiteRef | None,
    rerun: SuiteRunRef | None,
    environment: str | None,
    data_set: str | None,
    workers: int,
    concurrency: int,
    max_attempts: int,
    wait: bool,
    allow_unbound: bool,
    force_rows: bool,
    on_interrupt: str,
    as_json: bool,
) -> None:
    """Start a suite run of SUITE (an id, `latest`, or PROCESS[@VERSION][:CRITERION]: the
    newest such suite); with --wait, execute it here, print one line per failed or errored
    run and exit 1 if it failed (130 if stopped by Ctrl-C or SIGTERM first: the suite run is
    cancelled, or with --on-interrupt leave its runs are released for other workers).
    A suite whose tasks are not all bound is refused (exit 2) unless --allow-unbound.
    A data row that contradicts a scenario's path skips that run unless --force-rows."""
    if not wait:  # a short command: SIGTERM and SIGINT end it as they end any
        stopping.give_back()
    _check_what_to_run(suite, rerun, data_set)
    given = _given("workers", "concurrency", "on_interrupt")
    if given and not wait:
        raise UsageError(
            f"{' and '.join(given)} only apply with --wait; without it, `orchestra worker"
            " --concurrency C` processes execute the run"
        )
    execution = _Execution(workers, concurrency, OnInterrupt(on_interrupt)) if wait else None
    starting = _Starting(environment, data_set, max_attempts, allow_unbound, force_rows)
    result = asyncio.run(_run(suite, rerun, starting, execution, as_json))
    if result is None:
        exit_stopped_while_starting(as_json)
    emit(result, as_json=as_json, human=lambda out: _print_run(out, result))
    if result.get("interrupted"):  # as `status --watch` and any command stopped by Ctrl-C
        raise click.exceptions.Exit(INTERRUPTED)
    if wait and result["status"] != "PASSED":
        raise click.exceptions.Exit(1)


def _print_run(out: Console, result: dict[str, Any]) -> None:
    rerun = result.get("rerun")
    if rerun:
        brought = rerun["dependencies"]
        out.print(
            f"suite run {result['suite_run']} runs again the {rerun['failed']} failed runs of"
            f" suite run {rerun['of']}"
            + (f", with the {brought} runs they depend on" if brought else "")
        )
    print_outcome(out, result)


def _check_what_to_run(
    suite: SuiteRef | None, rerun: SuiteRunRef | None, data_set: str | None
) -> None:
    if (suite is None) == (rerun is None):
        raise UsageError("give a SUITE to run, or --rerun-failed SUITE_RUN (not both)")
    if rerun is not None and data_set is not None:
        raise UsageError(
            "--data-set does not apply with --rerun-failed: each failed run runs again with"
            " the data row it ran with"
        )


def _given(*names: str) -> list[str]:
    """The options among `names` the user set on the command line (not left at default)."""
    context = click.get_current_context()
    return [
        f"--{name}"
        for name in names
        if context.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
    ]


@dataclass(frozen=True, slots=True)
class _Starting:
    """How `run` starts the suite run."""

    environment: str | None
    data_set: str | None
    max_attempts: int
    allow_unbound: bool = False
    force_rows: bool = False


async def _start(db: Database, suite_id: int, starting: _Starting) -> SuiteRun:
    try:
        return await running.start_suite_run(
            db,
            suite_id,
            environment=starting.environment,
            data_set=starting.data_set,
            max_attempts=starting.max_attempts,
            allow_unbound=starting.allow_unbound,
            force_rows=starting.force_rows,
        )
    except UnboundTasks as exc:
        raise exc.advised(
            "bind them in the binding file, or give --allow-unbound to run anyway"
        ) from None


@dataclass(frozen=True, slots=True)
class _Execution:
    """How `run --wait` executes the suite run here."""

    workers: int
    concurrency: int
    on_interrupt: OnInterrupt


async def _run(
    suite: SuiteRef | None,
    rerun: SuiteRunRef | None,
    starting: _Starting,
    execution: _Execution | None,
    as_json: bool,
) -> dict[str, Any] | None:
    """What `run` prints; None when stopped before it could start the suite run."""
    from orchestra.services import references, rerunning  # what the command uses only

    settings = Settings.from_env()
    factory = _executor_factory()
    workers = execution.workers if execution else 1
    environment, max_attempts = starting.environment, starting.max_attempts
    size = 2 + 3 * workers  # executing here: all opened before the runs start (`connect_pool`)
    interrupt = stop_on_signals() if execution else asyncio.Event()  # from now to the end
    opening = open_database(settings, max_size=size, min_size=size if execution else 1)
    async with unless_stopped(opening, interrupt) as db:
        if db is None:
            return None
        if rerun is not None:
            original = await references.suite_run_id(db, rerun)
            environment = environment or await rerunning.environment_of(db, original)
        if execution:  # a missing secret is this command's configuration error, not ERRORs
            await running.check_environment(db, environment, factory)
        if rerun is not None:
            again = await rerunning.rerun_failed(
                db, original, environment=environment, max_attempts=max_attempts
            )
            suite_run, started = again.suite_run, {"rerun": again.to_json()}
        else:
            assert suite is not None
            suite_run = await _start(db, await references.suite_id(db, suite), starting)
            started = {}
        if execution is None:
            return (await running.progress(db, suite_run.id)).to_json() | started
        with showing_progress(f"suite run {suite_run.id}", disable=as_json) as show:
            done = await executing.execute(
                db,
                suite_run.id,
                factory,
                workers=execution.workers,
                options=WorkerOptions(concurrency=execution.concurrency),
                on_progress=show,
                interrupt=interrupt,
                on_interrupt=execution.on_interrupt,
            )
        return done.to_json() | started


def set_on_signals() -> asyncio.Event:
    """An event SIGTERM or SIGINT sets (instead of ending the process) while the loop runs,
    or set already when one came while the command was starting (`stopping`)."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, event.set)
    if stopping.caught() is not None:
        event.set()
    return event


def progress_stats(current: running.Progress, elapsed: float) -> str:
    """What the progress bar shows beside the runs done: passed, failed (FAILED, a check said
    no) and errors (ERROR, FAILED_STUCK: the run could not tell) apart, skipped (SKIPPED,
    CANCELLED) when any, and steps/s when this process's workers execute them."""
    counts = current.counts
    rate = "" if current.steps is None else f" {current.steps / max(elapsed, 1e-3):.0f} steps/s"
    skipped = sum(counts.get(status, 0) for status in _NOT_RUN)
    errors = sum(counts.get(status, 0) for status in _ERRORS)
    return (
        f"[green]{counts.get(TestRunStatus.PASSED, 0)} passed[/] "
        f"[red]{counts.get(TestRunStatus.FAILED, 0)} failed[/]"
        + (f" [magenta]{errors} errors[/]" if errors else "")
        + (f" [yellow]{skipped} skipped[/]" if skipped else "")
        + rate
    )


_NOT_RUN = (TestRunStatus.SKIPPED, TestRunStatus.CANCELLED)
_ERRORS = (TestRunStatus.ERROR, TestRunStatus.FAILED_STUCK)


def failed_count(counts: dict[TestRunStatus, int]) -> int:
    """Runs that failed as the reports count them: a skipped or cancelled run did not fail."""
    return sum(n for status, n in counts.items() if status in FAILING_STATUSES)


@contextmanager
def showing_progress(title: str, *, disable: bool) -> Iterator[ShowProgress]:
    """A progress bar on stderr; what it yields shows a suite run's progress on it. The bar
    appears with the first progress shown, so that what comes before (the set-up's lines, a
    refusal) is not printed under an empty bar."""
    bar = progress_bar(disable=disable)
    task = bar.add_task(title, total=None, stats="")

    def show(current: running.Progress, elapsed: float) -> None:
        if not bar.live.is_started:
            bar.start()
        stats = progress_stats(current, elapsed)
        bar.update(task, total=current.total, completed=current.done, stats=stats)

    try:
        yield show
    finally:
        if bar.live.is_started:
            bar.stop()


def progress_bar(*, disable: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(),
        console=console(stderr=True),
        disable=disable,
        transient=False,
    )


@click.command()
@click.argument("suite_run", type=SUITE_RUN, required=False)
@click.option("--suite", type=SUITE, help="List only the runs of this suite.")
@click.option(
    "--status",
    "statuses",
    type=click.Choice([s.value for s in SuiteRunStatus], case_sensitive=False),
    multiple=True,
    help="List only runs in this status (repeat for several).",
)
@click.option(
    "--limit",
    type=click.IntRange(1, running.MAX_PAGE),
    help=f"Suite runs to list  [default: {running.DEFAULT_PAGE}]",
)
@click.option(
    "--before",
    type=click.IntRange(min=1),
    help="List only runs with a smaller id: the next page.",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Follow SUITE_RUN with a progress bar until it ends; exit 1 unless it PASSED.",
)
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 60),
    default=1.0,
    show_default=True,
    help="Seconds between looks, with --watch.",
)
@json_option
def status(
    suite_run: SuiteRunRef | None,
    suite: SuiteRef | None,
    statuses: tuple[str, ...],
    limit: int | None,
    before: int | None,
    watch: bool,
    interval: float,
    as_json: bool,
) -> None:
    """Show how far SUITE_RUN is (an id, `latest`, or a suite's reference: its newest suite
    run); without it, list suite runs, newest first."""
    listing = suite is not None or statuses or limit is not None or before is not None
    if suite_run is not None and listing:
        raise UsageError("--suite, --status, --limit and --before list suite runs: drop the id")
    if _given("interval") and not watch:
        raise UsageError("--interval only applies with --watch")
    if watch:
        if suite_run is None:
            raise UsageError("--watch follows one suite run: name it (its id, `latest`...)")
        _watch(suite_run, interval, as_json)
        return
    if suite_run is None:
        chosen = [SuiteRunStatus(s.upper()) for s in statuses]
        _list(suite, chosen, before, limit or running.DEFAULT_PAGE, as_json)
        return

    async def look(db: Database) -> dict[str, Any]:
        from orchestra.services import references

        return await _progress_with_failures(db, await references.suite_run_id(db, suite_run))

    result = with_database(look)
    emit(result, as_json=as_json, human=lambda out: print_outcome(out, result))


async def _progress_with_failures(db: Database, suite_run_id: int) -> dict[str, Any]:
    """A suite run's progress; once it has ended, with its `failures` too."""
    current = await running.progress(db, suite_run_id)
    result = current.to_json()
    if current.suite_run.status.is_terminal:
        failures = await executing.failures_if_any(db, current)
        result["failures"] = [failure.to_json() for failure in failures]
    return result


def _list(
    suite: SuiteRef | None,
    statuses: list[SuiteRunStatus],
    before: int | None,
    limit: int,
    as_json: bool,
) -> None:
    async def page(db: Database) -> running.SuiteRunPage:
        from orchestra.services import references

        suite_id = None if suite is None else await references.suite_id(db, suite)
        return await running.list_suite_runs(
            db, suite_id=suite_id, statuses=statuses, before=before, limit=limit
        )

    listed = with_database(page).to_json()
    where = store_description(Settings.from_env())
    emit(listed, as_json=as_json, human=lambda out: _print_page(out, listed, where))


def _watch(suite_run: SuiteRunRef, interval: float, as_json: bool) -> None:
    async def follow(db: Database) -> dict[str, Any]:
        from orchestra.services import references

        suite_run_id = await references.suite_run_id(db, suite_run)
        interrupt = set_on_signals()
        with showing_progress(f"suite run {suite_run_id}", disable=as_json) as show:
            final = await running.watch(
                db, suite_run_id, show, poll_seconds=interval, interrupt=interrupt
            )
        result = final.to_json()
        if not final.suite_run.status.is_terminal:
            result["interrupted"] = True  # the suite run goes on; only the watching stopped
        else:
            failures = await executing.failures_if_any(db, final)
            result["failures"] = [failure.to_json() for failure in failures]
        return result

    result = with_database(follow)
    emit(result, as_json=as_json, human=lambda out: print_outcome(out, result))
    if result.get("interrupted"):
        raise click.exceptions.Exit(INTERRUPTED)
    if result["status"] != SuiteRunStatus.PASSED.value:
        raise click.exceptions.Exit(1)


def _print_page(out: Console, page: dict[str, Any], where: str) -> None:
    if not page["suite_runs"]:
        out.print(escape(f"no suite runs in {where}"))
        return
    table = Table()
    for column in ("suite run", "suite", "status", "done", "created", "finished"):
        table.add_column(column)
    for run in page["suite_runs"]:
        table.add_row(
            str(run["suite_run"]),
            str(run["suite"]),
            run["status"],
            f"{run['done']}/{run['total']}",
            _when(run["created_at"]),
            _when(run["finished_at"]),
        )
    out.print(table)
    if page["next_before"] is not None:
        out.print(f"more: add --before {page['next_before']}")


def _when(iso: str | None) -> str:
    return "" if iso is None else iso[:19] + "Z"  # RFC 3339, to the second


@click.command()
@click.argument("suite_run", type=SUITE_RUN)
@json_option
def cancel(suite_run: SuiteRunRef, as_json: bool) -> None:
    """Cancel SUITE_RUN (an id, `latest`, or a suite's reference: its newest suite run): its
    unfinished runs end CANCELLED, workers drop them."""

    async def cancel_it(db: Database) -> running.Progress:
        from orchestra.services import references

        return await running.cancel(db, await references.suite_run_id(db, suite_run))

    result = with_database(cancel_it).to_json()
    emit(result, as_json=as_json, human=lambda out: print_counts(out, result))


@click.command()
@click.option("--concurrency", type=click.IntRange(1, 1024), default=8, show_default=True)
@click.option(
    "--lease",
    "lease_seconds",
    type=click.FloatRange(1, 3600),
    default=10,
    show_default=True,
    help="Seconds a claim holds a run between heartbeats.",
)
@click.option(
    "--drain",
    "drain_seconds",
    type=click.FloatRange(0, 3600),
    default=10,
    show_default=True,
    help="Seconds given to running steps on SIGTERM.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve this worker's Prometheus metrics on this port (0: a free one).",
)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    help="The address --metrics-port listens on.",
)
@json_option
def worker(
    concurrency: int,
    lease_seconds: float,
    drain_seconds: float,
    metrics_port: int | None,
    metrics_host: str,
    as_json: bool,
) -> None:
    """Execute queued runs until SIGTERM or SIGINT, then drain and exit 0."""
    options = WorkerOptions(
        concurrency=concurrency, lease_seconds=lease_seconds, drain_seconds=drain_seconds
    )
    worker_id = new_worker_id()

    async def work() -> tuple[WorkerStats | None, str | None]:
        """What the worker did (None: stopped before it had connected, nothing claimed),
        and where it served its metrics."""
        stop = set_on_signals()
        with ExitStack() as stack:
            observer, metrics_url = None, None
            if metrics_port is not None:
                from orchestra.metrics.worker import WorkerMetrics, serving

                observer = WorkerMetrics()
                metrics_url = stack.enter_context(serving(observer, metrics_host, metrics_port))
            opening = open_database(Settings.from_env(), max_size=4)
            async with unless_stopped(opening, stop) as db:
                if db is None:
                    return None, metrics_url
                w = Worker(
                    db.pool,
                    _executor_factory_on_first_use(),
                    options,
                    worker_id=worker_id,
                    listen_url=db.server.url,
                    observer=observer,
                )
                if not as_json:
                    _announce(w.id, metrics_url)
                return await w.run(stop), metrics_url

    worked, metrics_url = asyncio.run(work())
    stats = worked or WorkerStats()
    result = {
        "worker": worker_id,
        "claimed": stats.claimed,
        "finished": stats.finished,
        "released": stats.released,
        "lost": stats.lost,
        "cancelled": stats.cancelled,
        "metrics": metrics_url,
    }
    emit(
        result,
        as_json=as_json,
        human=lambda out: out.print(
            f"worker {worker_id} stopped: {stats.finished} runs finished, "
            f"{stats.released} released, {stats.lost} lost, {stats.cancelled} cancelled"
            if worked is not None
            else f"worker {worker_id} stopped while starting: no runs claimed"
        ),
    )
