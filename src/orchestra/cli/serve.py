"""`orchestra serve [--host 127.0.0.1] [--port 8000] [--no-auth]`: the REST API, on uvicorn."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

import click

from orchestra.cli.output import console, emit, json_option, with_database
from orchestra.config import Settings
from orchestra.errors import ConfigurationError, StoreError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from orchestra.store.database import Database

TOKEN_VARIABLE = "ORCHESTRA_API_TOKEN"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: any free."
)
@click.option(
    "--no-auth",
    is_flag=True,
    help=f"Serve without a token, for local use only (otherwise {TOKEN_VARIABLE} is required).",
)
@json_option
def serve(host: str, port: int, no_auth: bool, as_json: bool) -> None:
    """Serve the REST API and the web UI until SIGINT or SIGTERM: the UI at /, OpenAPI at
    /openapi.json, docs at /docs.

    Every route but /health wants `Authorization: Bearer $ORCHESTRA_API_TOKEN`, /openapi.json
    and /metrics (Prometheus) included; the /docs page asks for the token, the web UI's
    sign-in page too (then keeps a session cookie). The API starts suite runs; `orchestra
    worker` processes execute them. With --json, one JSON document saying where the API
    listens is printed once it does.
    """
    token = os.environ.get(TOKEN_VARIABLE) or None
    if token is None and not no_auth:
        raise ConfigurationError(
            f"set {TOKEN_VARIABLE} to the token clients must send, "
            "or pass --no-auth to serve without one (local use only)"
        )
    if no_auth:
        console(stderr=True).print("[yellow]warning:[/] authentication is off (--no-auth)")
    from orchestra.api import create_app  # FastAPI and uvicorn: for this command only

    settings = Settings.from_env()
    app = create_app(settings, token=None if no_auth else token)
    with_database(_reachable)  # PostgreSQL out of reach: exit 2 saying so, before uvicorn starts
    asyncio.run(_serve(app, host, port, as_json=as_json, auth=not no_auth))


async def _reachable(_: Database) -> None:
    """Nothing to do: opening the database (and migrating it) is the check."""


async def _serve(app: FastAPI, host: str, port: int, *, as_json: bool, auth: bool) -> None:
    from orchestra.api.server import ApiServer
    from orchestra.collector import freeze_start_up_objects

    server = ApiServer(app, host, port)
    serving = asyncio.create_task(server.serve())
    listening = asyncio.create_task(server.listening.wait())
    await asyncio.wait([serving, listening], return_when=asyncio.FIRST_COMPLETED)
    listening.cancel()
    if server.started:
        freeze_start_up_objects()
        url = server.url
        emit(
            {
                "url": url,
                "auth": auth,
                "ui": f"{url}/ui/suite-runs",
                "openapi": f"{url}/openapi.json",
                "docs": f"{url}/docs",
                "metrics": f"{url}/metrics",
            },
            as_json=as_json,
            human=lambda out: out.print(
                f"Orchestra API on {url} (web UI: {url}/ui/suite-runs, docs: {url}/docs)"
            ),
        )
    await serving
    if server.bind_error is not None:
        reason = server.bind_error.strerror or str(server.bind_error)
        raise ConfigurationError(f"cannot listen on {host}:{port}: {reason}")
    if not server.started:
        raise StoreError("the API did not start: the log above says why")
