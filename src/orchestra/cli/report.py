"""`orchestra report SUITE_RUN --format junit|json|html [-o PATH]`."""

from __future__ import annotations

from pathlib import Path

import click

from orchestra.cli.output import emit, json_option, with_database
from orchestra.reports import ReportFormat
from orchestra.services import reporting


@click.command()
@click.argument("suite_run_id", type=int)
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
    help="Where to write it (default: orchestra-report-ID.xml|.json|.html here).",
)
@json_option
def report(suite_run_id: int, format_name: str, output: Path | None, as_json: bool) -> None:
    """Write the report of a suite run: JUnit XML, JSON, or a self-contained HTML page."""
    path = output or reporting.default_path(suite_run_id, format_name)

    written = with_database(lambda db: reporting.write_report(db, suite_run_id, format_name, path))
    emit(
        {"suite_run": suite_run_id, "format": format_name, "path": str(written.absolute())},
        as_json=as_json,
        human=lambda out: out.print(f"{format_name} report written to {written}"),
    )
