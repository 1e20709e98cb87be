"""`orchestra db status | upgrade`."""

from __future__ import annotations

import asyncio
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from orchestra.cli.output import emit, json_option
from orchestra.config import Settings
from orchestra.services import database


@click.group()
def db() -> None:
    """The PostgreSQL store: which server is used, and its schema."""


@db.command()
@json_option
def status(as_json: bool) -> None:
    """Say which server is used and whether the schema is current."""
    result = asyncio.run(database.status(Settings.from_env()))

    def human(out: Console) -> None:
        _describe(out, result)
        state = "current" if result["current"] else f"behind (head is {result['head']})"
        out.print(f"schema:   revision {result['revision'] or 'none'}, {state}")

    emit(result, as_json=as_json, human=human)
    if not result["current"]:
        raise click.exceptions.Exit(1)


@db.command()
@json_option
def upgrade(as_json: bool) -> None:
    """Bring the schema to the newest revision (a no-op when it is current)."""
    result = asyncio.run(database.upgrade(Settings.from_env()))

    def human(out: Console) -> None:
        _describe(out, result)
        if result["changed"]:
            out.print(
                f"schema:   upgraded {result['from_revision'] or 'empty'} -> {result['revision']}"
            )
        else:
            out.print(f"schema:   already at revision {result['revision']}")

    emit(result, as_json=as_json, human=human)


def _describe(out: Console, result: dict[str, Any]) -> None:
    out.print(f"server:   {result['server']} ({escape(result['url'])})")
    if "data_directory" in result:
        out.print(f"data:     {escape(result['data_directory'])}")
