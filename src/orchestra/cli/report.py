"""`orchestra report SUITE_RUN --format junit|json|html [-o PATH] [--all-runs]`: a suite run's
report (SUITE_RUN an id, `latest` or a suite's name);
`orchestra report --suite SUITE [-o PATH]`: a suite's coverage page (HTML), before any run.
`-o -` writes either on stdout."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from orchestra.cli.output import emit, json_option, with_database
from orchestra.cli.params import SUITE, SUITE_RUN
from orchestra.domain.references import SuiteRef, SuiteRunRef
from orchestra.errors import UsageError
from orchestra.reports import ReportFormat
from orchestra.services import reporting

if TYPE_CHECKING:
    from orchestra.store.database import Database

T = TypeVar("T")


@click.command()
@click.argument("suite_run", type=SUITE_RUN, required=False)
@click.option(
    "--suite",
    type=SUITE,
    help="Instead of a suite run: the suite's coverage on the diagram, before any run (HTML).",
)
@click.option(
    "--format",
    "format_name",
    type=click.Choice([f.value for f in ReportFormat]),
    default=ReportFormat.HTML.value,
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: orchestra-report-ID.xml|.json|.html, or"
    " orchestra-suite-ID.html, here); `-` writes it on stdout.",
)
@click.option(
    "--all-runs",
    is_flag=True,
    help="Detail the steps of every run: the HTML and JSON reports detail 1,000 runs, failures"
    " first, and count or list the others without their steps.",
)
@json_option
def report(
    suite_run: SuiteRunRef | None,
    suite: SuiteRef | None,
    format_name: str,
    output: Path | None,
    all_runs: bool,
    as_json: bool,
) -> None:
    """Write the report of SUITE_RUN (JUnit XML, JSON, or a self-contained HTML page), or with
    --suite the coverage page of a suite: its diagram coloured by the scenarios through each
    element, the uncovered and unbound ones marked, and its scenarios. SUITE_RUN is an id,
    `latest`, or a suite's reference (its newest suite run); SUITE an id, `latest`, or
    PROCESS[@VERSION][:CRITERION]."""
    if output == STDOUT and as_json:
        raise UsageError("-o - writes the report on stdout, where --json prints too: give one")
    if suite is not None and suite_run is None:
        if all_runs:
            raise UsageError("--all-runs is for a suite run's report; a suite's page has no runs")
        _suite_page(suite, format_name, output, as_json)
    elif suite_run is not None and suite is None:
        _run_report(suite_run, format_name, output, as_json, all_runs=all_runs)
    else:
        raise UsageError("give a SUITE_RUN, or --suite SUITE for a suite's coverage page")


STDOUT = Path("-")


def _to_stdout(write: Callable[[Path], T]) -> T:
    """Let `write` write into a file of its own, then copy that file to stdout: the report
    services write whole files (moved into place), and `-o -` must not leave one named `-`."""
    with tempfile.TemporaryDirectory(prefix="orchestra-report-") as folder:
        path = Path(folder) / "report"
        done = write(path)
        with path.open("rb") as written:
            shutil.copyfileobj(written, sys.stdout.buffer)
        sys.stdout.flush()
    return done


def _run_report(
    suite_run: SuiteRunRef,
    format_name: str,
    output: Path | None,
    as_json: bool,
    *,
    all_runs: bool,
) -> None:
    def run(into: Path | None) -> tuple[int, Path]:
        async def write(db: Database) -> tuple[int, Path]:
            from orchestra.services import references

            suite_run_id = await references.suite_run_id(db, suite_run)
            path = into or reporting.default_path(suite_run_id, format_name)
            written = await reporting.write_report(
                db, suite_run_id, format_name, path, all_runs=all_runs
            )
            return suite_run_id, written

        return with_database(write)

    if output == STDOUT:
        _to_stdout(run)
        return
    suite_run_id, written = run(output)
    emit(
        {"suite_run": suite_run_id, "format": format_name, "path": str(written.absolute())},
        as_json=as_json,
        human=lambda out: out.print(f"{format_name} report written to {escape(str(written))}"),
    )


def _suite_page(suite: SuiteRef, format_name: str, output: Path | None, as_json: bool) -> None:
    if format_name != ReportFormat.HTML.value:
        raise UsageError(f"a suite's coverage page is HTML only, not {format_name}")

    def run(into: Path | None) -> dict[str, Any]:
        async def write(db: Database) -> dict[str, Any]:
            from orchestra.services import references

            suite_id = await references.suite_id(db, suite)
            path = (into or reporting.default_suite_path(suite_id)).absolute()
            return await reporting.write_suite_report(db, suite_id, path)

        return with_database(write)

    if output == STDOUT:
        _to_stdout(run)
        return
    written = run(output)
    emit(written, as_json=as_json, human=lambda out: _print_written(out, written))


def _print_written(out: Console, written: dict[str, Any]) -> None:
    cov = written["coverage"]
    out.print(f"suite {written['suite']} coverage page written to {escape(written['path'])}")
    out.print(
        f"{written['scenarios']} scenarios, flows {cov['flows_covered']}/{cov['flows_total']},"
        f" nodes {cov['nodes_covered']}/{cov['nodes_total']}, {len(written['unbound'])} unbound"
    )
