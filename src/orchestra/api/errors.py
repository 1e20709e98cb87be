"""Errors become HTTP responses here and only here.

Every error answer has the same JSON body, `{"error": <name>, "message": <text>, ...details}`
(a `NotFound` adds `kind`, `reference` and the reference under the API's name for it):
an `OrchestraError` takes its status from its class (`http_status`, see `orchestra.errors`);
a request FastAPI itself refuses (a malformed JSON body, an unknown route, a body above the
size limit) is dressed the same way, so a client reads one shape whatever went wrong.

The API adds the refusals only HTTP has to the error tree (a value PostgreSQL cannot store
is `orchestra.errors.ValueRefused`, raised by the store, so this module knows no driver):

    OrchestraError
    ├── AuthenticationRefused           HTTP 401  no bearer token, or a wrong one
    ├── CrossSiteRefused                HTTP 403  a change the session cookie carries from
    │                                             a page of another origin
    ├── ParserUnavailable               HTTP 503  the parser process died parsing an upload
    └── InputRefused
        ├── ContentTooLarge             HTTP 413  a body above the size limit
        ├── UnsupportedMediaType        HTTP 415  a body in a format the route does not read
        └── RequestInvalid              HTTP 422  a body or query FastAPI could not validate
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from orchestra.errors import InputRefused, NotFound, OrchestraError


class AuthenticationRefused(OrchestraError):
    http_status = 401


class CrossSiteRefused(OrchestraError):
    http_status = 403


class ParserUnavailable(OrchestraError):
    """The upload's parser process died (killed, out of memory) in its new process too; nothing
    of the upload was stored. Sending it again may work; a file too large for the memory
    will not."""

    http_status = 503


class ContentTooLarge(InputRefused):
    http_status = 413


class UnsupportedMediaType(InputRefused):
    http_status = 415


class RequestInvalid(InputRefused):
    pass


class Carried(HTTPException):
    """An OrchestraError raised where FastAPI lets only HTTPExceptions through as they are
    (while it reads a request body); answered as the error it carries."""

    def __init__(self, error: OrchestraError) -> None:
        super().__init__(error.http_status, error.message)
        self.error = error


def error_response(exc: OrchestraError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    return JSONResponse(_body(exc), status_code=exc.http_status, headers=headers)


def _body(exc: OrchestraError) -> dict[str, Any]:
    """The error's JSON; what was not found is also under the name the API gives it
    (`suite_run`, `data_set`, `process`...), beside its `kind` and `reference`."""
    body = exc.to_json()
    if isinstance(exc, NotFound):
        body[exc.kind.replace(" ", "_")] = exc.details["reference"]
    return body


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OrchestraError, _orchestra_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)


async def _orchestra_error(_: Request, exc: OrchestraError) -> JSONResponse:
    return error_response(exc)


async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [_problem(error) for error in exc.errors()]
    first = problems[0] if problems else {"where": "request", "message": "invalid"}
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return error_response(
        RequestInvalid(
            f"{first['where']}: {first['message']}{more}", details={"problems": problems}
        )
    )


def _problem(error: Any) -> dict[str, str]:
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "json_invalid":  # loc is ("body", character offset)
        why = (error.get("ctx") or {}).get("error", "JSON decode error")
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        return {"where": "body", "message": f"not valid JSON{at}: {why}"}
    where = ".".join(str(part) for part in loc) or "request"
    return {"where": where, "message": str(error.get("msg", "invalid"))}


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """Routing and framework refusals (404 unknown path, 405...)."""
    if isinstance(exc, Carried):
        return error_response(exc.error)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    phrase = HTTPStatus(exc.status_code).phrase
    message = (
        exc.detail if exc.detail != phrase else f"{phrase}: {request.method} {request.url.path}"
    )
    body = {"error": phrase.title().replace(" ", "").replace("-", ""), "message": message}
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method a route of this path takes (Starlette names the first route's only)."""
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.routes
        )
    ]


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


async def _unexpected(_: Request, __: Exception) -> JSONResponse:
    """A bug: answered without internals (the server logs the traceback)."""
    body = {"error": "InternalError", "message": "the server failed; its log says why"}
    return JSONResponse(body, status_code=500)
