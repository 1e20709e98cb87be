"""`orchestra demo`: the whole product on the bundled example."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestra.cli.output import console, emit, json_option
from orchestra.cli.run import showing_progress
from orchestra.config import Settings

if TYPE_CHECKING:
    from orchestra.services import demo as demo_service


@click.command()
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("orchestra-demo"),
    show_default=True,
    help="Where the reports go.",
)
@click.option("--workers", type=click.IntRange(1, 16), default=3, show_default=True)
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True)
@json_option
def demo(out_dir: Path, workers: int, concurrency: int, as_json: bool) -> None:
    """Import the example order process, generate a covering suite, run it against the example
    service on several workers, and write JUnit, JSON and HTML reports and a coverage page."""
    from orchestra.services import demo as demo_service  # the example SUT: FastAPI, uvicorn

    err = console(stderr=True)
    say = (lambda _: None) if as_json else (lambda line: err.print(f"[cyan]•[/] {escape(line)}"))
    with showing_progress("running", disable=as_json) as show:
        result = asyncio.run(
            demo_service.run_demo(
                Settings.from_env(),
                out_dir,
                workers=workers,
                concurrency=concurrency,
                say=say,
                on_progress=show,
            )
        )
    emit(result.to_json(), as_json=as_json, human=lambda out: _summary(out, result))


def _summary(out: Console, result: demo_service.DemoResult) -> None:
    coverage = result.coverage
    table = Table(title=f"suite run {result.suite_run_id}", show_header=False)
    table.add_row("scenarios", f"{result.scenarios} (all-flows)")
    table.add_row("flows covered", f"{coverage['flows_covered']} / {coverage['flows_total']}")
    table.add_row("nodes covered", f"{coverage['nodes_covered']} / {coverage['nodes_total']}")
    for status, n in sorted(result.counts.items()):
        colour = "green" if status == "PASSED" else "red"
        table.add_row("runs " + status.lower(), f"[{colour}]{n}[/]")
    table.add_row("time", f"{result.seconds:.1f} s")
    out.print(table)
    for failure in result.failures:
        out.print(f"[red]✗[/] {escape(failure.line())}")
    if result.failures:
        out.print("  (the example's planted defect: cancelling an order keeps its stock reserved)")
    for fmt, path in result.reports.items():
        out.print(f"{fmt:>8} report: {escape(str(path))}")
