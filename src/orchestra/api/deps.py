"""What routes depend on, as typed aliases: the database, the upload limits and directory, the
bearer token, the suite or suite run a path names (by id, `latest` or name:
`orchestra.domain.references`).

The database and the limits live in the lifespan state (`create_app` opens the database when
the server starts); nothing here is built at import time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from orchestra.api.bodies import json_only, session_refusal
from orchestra.api.errors import AuthenticationRefused
from orchestra.api.sessions import COOKIE, Sessions
from orchestra.api.uploads import Uploads
from orchestra.bpmn import Limits
from orchestra.services import references
from orchestra.store.database import Database

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="The server's ORCHESTRA_API_TOKEN, sent as `Authorization: Bearer <token>`.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_database(request: Request) -> Database:
    database: Database = request.state.database
    return database


def get_limits(request: Request) -> Limits:
    limits: Limits = request.state.limits
    return limits


def get_uploads(request: Request) -> Uploads:
    uploads: Uploads = request.state.uploads
    return uploads


DbDep = Annotated[Database, Depends(get_database)]


async def suite_from_path(
    suite: Annotated[
        str,
        Path(
            description="A suite: its id, `latest`, or PROCESS[@VERSION][:CRITERION] (the newest"
            " such suite)",
            examples=["42", "latest", "order_fulfilment@2:all-flows"],
        ),
    ],
    db: DbDep,
) -> int:
    return await references.suite_id(db, suite)


async def suite_run_from_path(
    suite_run: Annotated[
        str,
        Path(
            description="A suite run: its id, `latest`, or a suite's reference (its newest suite"
            " run)",
            examples=["42", "latest", "order_fulfilment"],
        ),
    ],
    db: DbDep,
) -> int:
    return await references.suite_run_id(db, suite_run)


SuiteId = Annotated[int, Depends(suite_from_path)]
SuiteRunId = Annotated[int, Depends(suite_run_from_path)]
LimitsDep = Annotated[Limits, Depends(get_limits)]
UploadsDep = Annotated[Uploads, Depends(get_uploads)]
JsonOnly = Depends(json_only)  # `dependencies=[JsonOnly]`: a JSON-bodied route refuses others


def bearer_token(
    sessions: Sessions,
) -> Callable[[Request, HTTPAuthorizationCredentials | None], Awaitable[None]]:
    """A dependency refusing any request whose bearer token is not the server's, unless a
    browser's session cookie stands for it (a change it carries from this origin only)."""

    async def require_token(request: Request, credentials: Credentials) -> None:
        if credentials is None:
            if sessions.valid(request.cookies.get(COOKIE)):
                refusal = session_refusal(request.headers, request.method)
                if refusal is not None:
                    raise refusal
                return
            raise AuthenticationRefused(
                "this route needs `Authorization: Bearer <token>` with the server's token"
            )
        # constant time: how much of a guess matches must not show in the response time
        if not sessions.token_matches(credentials.credentials):
            raise AuthenticationRefused("the bearer token is not the server's token")

    return require_token
