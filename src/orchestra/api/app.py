"""The app factory: `create_app(settings, token=...)` builds the FastAPI app; serving it opens
the database (lifespan), so importing this module builds nothing.

Authentication: every route but `/health` wants `Authorization: Bearer <token>`, compared in
constant time, `/openapi.json` and `/metrics` included. `token=None` turns authentication off;
only `orchestra serve --no-auth` asks for that. The `/docs` page (Swagger UI, served from the
package) is open, holding no data, and loads the description with a token it asks for
(`orchestra.api.docs`). The web UI's pages (`/ui/...`, `orchestra.api.web`) send a browser
without a session to their sign-in page, which takes the token and sets a session cookie; the
API routes accept that cookie too (`orchestra.api.sessions`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI

from orchestra.api.bodies import MULTIPART_ROOM, BodyLimit, TokenGate
from orchestra.api.deps import bearer_token
from orchestra.api.docs import install_docs
from orchestra.api.errors import install_error_handlers
from orchestra.api.parsers import ParserProcess
from orchestra.api.routes import (
    config,
    health,
    metrics,
    processes,
    protocols,
    suite_runs,
    suites,
    test_runs,
)
from orchestra.api.schemas import ErrorPublic
from orchestra.api.sessions import Sessions
from orchestra.api.uploads import upload_directory
from orchestra.api.web import install_web
from orchestra.bpmn import Limits
from orchestra.config import Settings
from orchestra.errors import ConfigurationError
from orchestra.services.watching import EventTimes
from orchestra.store.database import open_database
from orchestra.store.notifications import Wakeups

DESCRIPTION = """Import BPMN processes, generate test suites, start suite runs and read their
reports. Suite runs are executed by `orchestra worker` processes sharing the same database.
Errors answer `{"error": ..., "message": ..., ...details}` with the status their class says."""


# without a token: the probe, and the /docs page with its assets (they hold no data; the page
# asks for the token, then loads /openapi.json with it); the web pages check their session
# themselves, sending a browser without one to the sign-in page
OPEN_PATHS = frozenset({"/health", "/docs", "/"})
OPEN_PREFIXES = ("/docs/assets/", "/ui/")


def create_app(
    settings: Settings,
    *,
    token: str | None,
    limits: Limits | None = None,
    pool_size: int = 8,
    event_times: EventTimes | None = None,
    upload_dir: Path | None = None,
) -> FastAPI:
    """`upload_dir`: where upload bodies are spooled while processed (by default a temporary
    directory of the server's own, deleted when it stops)."""
    if token is not None and not token.strip():
        raise ConfigurationError("the API token is empty: set ORCHESTRA_API_TOKEN to a secret")
    limits = limits or Limits()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        with upload_directory(upload_dir) as uploads:
            async with (
                open_database(settings, max_size=pool_size) as database,
                Wakeups.listening(database.server.url) as wakeups,
            ):
                parsers = ParserProcess()
                try:
                    yield {
                        "database": database,
                        "limits": limits,
                        "wakeups": wakeups,
                        "event_times": event_times or EventTimes(),
                        "parsers": parsers,
                        "uploads": uploads,
                    }
                finally:
                    parsers.close()

    app = FastAPI(
        title="Orchestra",
        version=version("orchestra"),
        description=DESCRIPTION,
        lifespan=lifespan,
        # a path with a trailing slash is a 404 in the error shape, not a 307 to another route
        # (`POST /data-sets/` was redirected to `/data-sets`, which takes GET only)
        redirect_slashes=False,
        responses={"default": {"model": ErrorPublic, "description": "A refusal"}},
        openapi_url=None,  # served by `install_docs`, behind the token
        docs_url=None,
        redoc_url=None,
    )
    app.state.stopping = asyncio.Event()  # set by `ApiServer` as it stops: streams end
    sessions = Sessions(token) if token is not None else None
    app.state.sessions = sessions  # None: authentication is off (the pages need no sign-in)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=limits.max_bytes + MULTIPART_ROOM)
    if sessions is not None:  # added last, so it runs first: no body is read without the token
        app.add_middleware(
            TokenGate, sessions=sessions, open_paths=OPEN_PATHS, open_prefixes=OPEN_PREFIXES
        )
    guarded = [Depends(bearer_token(sessions))] if sessions is not None else []
    app.include_router(health.router)
    for area in (processes, suites, config, suite_runs, test_runs, protocols, metrics):
        app.include_router(area.router, dependencies=guarded)
    install_docs(app, guarded)
    install_web(app)
    return app
