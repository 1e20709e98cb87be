"""`orchestra protocols`: the action protocols a binding may name, and broken plug-ins."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestra.cli.output import emit, json_option
from orchestra.services.protocols import list_protocols


@click.command()
@json_option
def protocols(as_json: bool) -> None:
    """List the action protocols: built in (http) and plug-ins (entry points).

    Exits 2 when a plug-in is installed but cannot be used (a configuration error).
    """
    result = list_protocols()
    emit(result, as_json=as_json, human=lambda out: _human(out, result))
    if result["broken"]:
        raise click.exceptions.Exit(2)


def _human(out: Console, result: dict[str, Any]) -> None:
    table = Table("protocol", "status", "action fields", "from", box=None)
    for entry in result["protocols"]:
        status = "ok" if entry["status"] == "ok" else "[bold red]broken[/]"
        fields = ", ".join(entry.get("fields", []))
        table.add_row(escape(entry["name"]), status, escape(fields), escape(entry["origin"]))
    out.print(table)
    for entry in result["protocols"]:
        if entry["status"] != "ok":
            out.print(f"[bold red]error:[/] {escape(entry['error'])}")
    out.print(f"plug-ins are entry points of the group {result['entry_point_group']!r}")
