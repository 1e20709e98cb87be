"""`orchestra bindings init PROCESS[@VERSION]`: a binding file's skeleton to fill in."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from orchestra.cli.output import emit, json_option, with_database
from orchestra.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from orchestra.services.scaffolding import ScaffoldedBindings


@click.group()
def bindings() -> None:
    """Binding files: what each element of a model does against the SUT."""


@bindings.command()
@click.argument("process_ref", metavar="PROCESS_KEY[@VERSION]")
@click.option(
    "--openapi",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="OpenAPI 3.0/3.1 file (YAML or JSON): match each task to an operation and fill it.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the file here (default: stdout).",
)
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@json_option
def init(
    process_ref: str, openapi: Path | None, output: Path | None, force: bool, as_json: bool
) -> None:
    """Write a skeleton binding file for an imported process: every task, end event and
    gateway flow, with TODO markers; with --openapi, requests and checks filled in."""
    from orchestra.services.scaffolding import scaffold_bindings

    if output is not None and output.exists() and not force:
        raise UsageError(f"{output} exists: give --force to overwrite it")
    result = with_database(lambda db: scaffold_bindings(db, process_ref, openapi=openapi))
    text = result.scaffold.text
    if output is not None:
        output.write_text(text, encoding="utf-8")
    elif not as_json:
        click.echo(text, nl=False)
        return
    payload = result.to_json() | {"written": str(output) if output else None}
    if output is None:
        payload["text"] = text
    emit(payload, as_json=as_json, human=lambda out: _print_written(out, result, output))


def _print_written(out: Console, result: ScaffoldedBindings, output: Path | None) -> None:
    from rich.markup import escape

    tasks = result.scaffold.tasks
    matched = [task for task in tasks if task.operation is not None]
    counts = ", ".join(
        _counted(len(items), what)
        for items, what in ((tasks, "task"), (result.scaffold.events, "end event"))
    )
    flows = _counted(len(result.scaffold.flows), "gateway flow")
    out.print(f"wrote {escape(str(output))}: {counts}, {flows}")
    if not any(task.why_unmatched for task in tasks) and not matched:  # no description
        out.print("TODO: each task's request (see the comments)")
        return
    out.print(f"matched {len(matched)} of {len(tasks)} tasks to operations")
    for task in tasks:
        if task.why_unmatched:
            out.print(f"  {escape(task.element_id)}: {escape(task.why_unmatched)}")
        for todo in task.todo:
            out.print(f"  {escape(task.element_id)}: TODO {escape(todo)}")


def _counted(count: int, what: str) -> str:
    return f"{count} {what}{'' if count == 1 else 's'}"
