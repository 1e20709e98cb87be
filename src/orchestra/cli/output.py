"""How commands speak: one JSON document on stdout with `--json`, readable text otherwise."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from orchestra.config import Settings
from orchestra.errors import NotFound

if TYPE_CHECKING:  # rich is for a person: `--json` output does without it
    from rich.console import Console

    from orchestra.store.database import Database

T = TypeVar("T")

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one machine-readable JSON document on stdout."
)


# Width of a console that is not a terminal (a pipe, a file): wide enough that no table is cut
# or wrapped, so `orchestra processes list | grep KEY` finds the whole key.
UNBOUNDED_WIDTH = 1_000_000


def console(*, stderr: bool = False) -> Console:
    """Rich output to stdout (or stderr); to a terminal as wide as the terminal, elsewhere
    never truncated nor wrapped."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else UNBOUNDED_WIDTH
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


_WHERE_TO_LOOK = {
    "suite": "`orchestra suites list` lists the suites",
    "suite run": "`orchestra status` lists the suite runs",
    "process": "`orchestra processes list` lists the processes",
    "environment": "`orchestra env list` lists the environments, `orchestra env apply` adds one",
    "data set": "`orchestra dataset list` lists the data sets, `orchestra dataset import` adds one",
}


def not_found_hint(error: NotFound) -> str:
    """What the CLI adds to a `NotFound`: where it looked, and which command lists what is
    there (the API says neither)."""
    where = f"looked in {store_description(Settings.from_env())}"
    listing = _WHERE_TO_LOOK.get(error.kind)
    return f"{where}; {listing}" if listing else where


def store_description(settings: Settings) -> str:
    """Where this command looks: the embedded store in its home, or the database of the
    URL (without its password)."""
    if settings.database_url is None:
        return f"the embedded store at {settings.home}"
    return f"the database {_database_name(settings.database_url)}"


def _database_name(url: str) -> str:
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.errors import ProgrammingError

    try:
        info = conninfo_to_dict(url)
    except ProgrammingError:
        return "of ORCHESTRA_DATABASE_URL"
    host = info.get("host") or "localhost"
    port = f":{info['port']}" if info.get("port") else ""
    return f"{info.get('dbname') or info.get('user') or ''} at {host}{port}".strip()


def emit(payload: Any, *, as_json: bool, human: Callable[[Console], None]) -> None:
    """Print `payload` as JSON, or let `human` render it for a person."""
    if as_json:
        click.echo(json.dumps(payload, indent=2, sort_keys=False, default=str))
    else:
        human(console())


def with_database(use: Callable[[Database], Awaitable[T]]) -> T:
    """Run one use case against the configured store, from a synchronous command."""
    from orchestra.store.database import open_database

    async def run() -> T:
        async with open_database(Settings.from_env()) as db:
            return await use(db)

    return asyncio.run(run())
