"""`orchestra import FILE...`, `orchestra processes list`, `orchestra processes show KEY`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestra.cli.output import emit, json_option
from orchestra.config import Settings
from orchestra.domain.process import EventDetail
from orchestra.errors import BpmnRefused
from orchestra.services import importing
from orchestra.store.database import open_database


@click.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse models only partly testable too: no start event, unreachable nodes, "
    "gateways leading nowhere (otherwise warnings).",
)
@json_option
def import_command(files: tuple[Path, ...], strict: bool, as_json: bool) -> None:
    """Import BPMN files; each process becomes a new version unless its content is stored.

    Each file is imported on its own: a refused file stores nothing, the others are kept.
    Exit 1 when any file is refused.
    """
    result = asyncio.run(_import_files(Settings.from_env(), files, strict=strict))
    emit(result, as_json=as_json, human=lambda out: _print_import(out, result))
    if result["refused"]:
        raise click.exceptions.Exit(1)


async def _import_files(
    settings: Settings, files: tuple[Path, ...], *, strict: bool
) -> dict[str, Any]:
    imported: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    async with open_database(settings) as db:
        for path in files:
            try:
                data = importing.read_source(path)
                async with db.transaction() as uow:
                    outcome = await importing.import_bpmn(
                        uow, data, source=str(path), strict=strict
                    )
            except BpmnRefused as exc:
                refused.append({"file": str(path), **exc.to_json()})
                continue
            imported.append(_describe_import(outcome))
    return {"imported": imported, "refused": refused}


def _describe_import(outcome: importing.FileImport) -> dict[str, Any]:
    return {
        "file": outcome.source,
        "processes": [
            {
                "key": item.stored.key,
                "version": item.stored.version,
                "name": item.stored.name,
                "created": item.created,
                "checksum": item.stored.checksum,
                "counts": item.stored.graph.counts_by_category(),
            }
            for item in outcome.processes
        ],
        "warnings": [problem.model_dump(mode="json") for problem in outcome.warnings],
    }


def _print_import(out: Console, result: dict[str, Any]) -> None:
    for done in result["imported"]:
        out.print(f"[green]imported[/] {escape(done['file'])}")
        for process in done["processes"]:
            state = "new" if process["created"] else "unchanged"
            name = f" {escape(repr(process['name']))}" if process["name"] else ""
            counts = process["counts"]
            out.print(
                f"  {escape(process['key'])} v{process['version']} ({state}){name}: "
                f"{sum(v for k, v in counts.items() if not k.endswith('Flow'))} nodes, "
                f"{counts['sequenceFlow']} flows"
            )
        _print_problems(out, done["warnings"])
    for failed in result["refused"]:
        out.print(f"[bold red]refused[/] {escape(failed['message'])}")
        _print_problems(out, [p for p in failed.get("problems", []) if p["severity"] == "error"])


def _print_problems(out: Console, problems: list[dict[str, Any]]) -> None:
    for problem in problems:
        colour = "red" if problem["severity"] == "error" else "yellow"
        where = f" (line {problem['line']})" if problem.get("line") else ""
        out.print(
            f"  [{colour}]{problem['severity']}[/] {problem['code']}{where}: "
            f"{escape(problem['message'])}"
        )


@click.group()
def processes() -> None:
    """The imported processes and their versions."""


@processes.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """The latest version of every process, with counts and problems."""
    result = asyncio.run(_list(Settings.from_env()))
    emit(result, as_json=as_json, human=lambda out: _print_list(out, result))


async def _list(settings: Settings) -> dict[str, Any]:
    async with open_database(settings) as db, db.transaction() as uow:
        stored = await importing.list_processes(uow)
    return {"processes": [importing.summary(process) for process in stored]}


def _print_list(out: Console, result: dict[str, Any]) -> None:
    if not result["processes"]:
        out.print("no process imported yet: `orchestra import FILE.bpmn`")
        return
    table = Table("key", "version", "name", "nodes", "flows", "errors", "warnings", "source")
    for item in result["processes"]:
        counts = item["counts"]
        table.add_row(
            escape(item["key"]),
            str(item["version"]),
            escape(item["name"] or ""),
            str(sum(v for k, v in counts.items() if not k.endswith("Flow"))),
            str(counts["sequenceFlow"]),
            str(item["errors"]),
            str(item["warnings"]),
            escape(item["source"] or ""),
        )
    out.print(table)


@processes.command("show")
@click.argument("key")
@click.option("--version", "version", type=click.IntRange(min=1), help="Default: the latest.")
@json_option
def show_command(key: str, version: int | None, as_json: bool) -> None:
    """One process version: counts by element kind, pool, diagram, timers and refs of its
    events, and problems."""
    result = asyncio.run(_show(Settings.from_env(), key, version))
    emit(result, as_json=as_json, human=lambda out: _print_show(out, result))


async def _show(settings: Settings, key: str, version: int | None) -> dict[str, Any]:
    async with open_database(settings) as db, db.transaction() as uow:
        stored = await importing.show_process(uow, key, version)
    return {**importing.summary(stored), "events": importing.event_details(stored.graph)}


def _print_show(out: Console, item: dict[str, Any]) -> None:
    out.print(
        f"[bold]{escape(item['key'])}[/] version {item['version']}: {escape(item['name'] or '')}"
    )
    out.print(f"  source:     {escape(item['source'] or '-')} (imported {item['imported_at']})")
    out.print(f"  checksum:   {item['checksum']}")
    executable = {True: "yes", False: "no", None: "not stated"}[item["executable"]]
    out.print(f"  executable: {executable}; exporter: {escape(item['exporter'] or '-')}")
    out.print(f"  pool:       {escape(item['pool'] or '-')}; lanes: {item['lanes']}")
    out.print(f"  diagram:    {'yes' if item['has_diagram'] else 'no'}")
    table = Table("element kind", "count")
    for kind, count in sorted(item["counts"].items()):
        table.add_row(kind, str(count))
    out.print(table)
    types = ", ".join(f"{kind} {count}" for kind, count in item["counts_by_type"].items())
    out.print(f"  BPMN types: {types or '-'}")
    _print_events(out, item["events"])
    out.print(f"  {item['errors']} errors, {item['warnings']} warnings")
    _print_problems(out, item["problems"])


def _print_events(out: Console, events: list[dict[str, Any]]) -> None:
    if events:
        out.print("  events with timers or refs:")
    for event in events:
        name = f" {event['name']!r}" if event["name"] else ""
        details = [EventDetail.model_validate(detail) for detail in event["details"]]
        described = "; ".join(detail.describe() for detail in details)
        out.print(f"    {escape(event['id'])} ({event['type']}{escape(name)}): {escape(described)}")
