"""How commands speak: one JSON document on stdout with `--json`, readable text otherwise."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

from orchestra.config import Settings

if TYPE_CHECKING:
    from orchestra.store.database import Database

T = TypeVar("T")

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one machine-readable JSON document on stdout."
)


def console(*, stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


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
