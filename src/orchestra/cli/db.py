"""`orchestra db status | upgrade | stop | migrate-home`."""

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
    """Say which server is used and whether the schema is current.

    Exit 0 also when the schema is empty or behind (the next command brings it to head), 1 when
    a newer Orchestra migrated it past what this one knows."""
    result = asyncio.run(database.status(Settings.from_env()))

    def human(out: Console) -> None:
        _describe(out, result)
        out.print(f"schema:   {_SCHEMA_STATES[result['schema']].format(**result)}")

    emit(result, as_json=as_json, human=human)
    if result["schema"] == "unknown":
        raise click.exceptions.Exit(1)


_SCHEMA_STATES = {
    "current": "revision {revision}, current",
    "empty": "empty: created on first use (or now by `orchestra db upgrade`)",
    "behind": "revision {revision}, behind {head}: upgraded on first use "
    "(or now by `orchestra db upgrade`)",
    "unknown": "revision {revision}, which this Orchestra does not know (its newest is {head}):"
    " a newer Orchestra migrated it; use that one",
}


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


@db.command()
@json_option
def stop(as_json: bool) -> None:
    """Stop the embedded PostgreSQL of ORCHESTRA_HOME (the next command starts it again)."""
    result = asyncio.run(database.stop(Settings.from_env()))

    def human(out: Console) -> None:
        done = "stopped" if result["stopped"] else "was not running"
        out.print(f"the embedded PostgreSQL in {escape(result['data_directory'])} {done}")

    emit(result, as_json=as_json, human=human)


@db.command(name="migrate-home")
@json_option
def migrate_home(as_json: bool) -> None:
    """Carry ORCHESTRA_HOME's data over from an older PostgreSQL major version.

    Every database is dumped from the old server and restored into a new data directory; the
    old one is kept beside it, renamed pgdata-pgOLD. A no-op when the home is current."""
    result = asyncio.run(database.migrate_home(Settings.from_env()))

    def human(out: Console) -> None:
        data = escape(result["data_directory"])
        if not result["migrated"]:
            made = result["from_major"]
            state = f"is PostgreSQL {made}'s already" if made else "holds no data yet"
            out.print(f"{data} {state}: nothing to migrate")
            return
        names = ", ".join(result["databases"])
        out.print(
            f"{data}: PostgreSQL {result['from_major']} -> {result['to_major']}, "
            f"databases {escape(names)}; the old data is kept in {escape(result['kept_as'])} "
            "(delete it once you are satisfied)"
        )

    emit(result, as_json=as_json, human=human)


def _describe(out: Console, result: dict[str, Any]) -> None:
    out.print(f"server:   {result['server']} ({escape(result['url'])})")
    if "data_directory" in result:
        out.print(f"data:     {escape(result['data_directory'])}")
