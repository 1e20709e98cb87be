"""The web UI of `orchestra serve`: server-rendered pages (Jinja2) with a little vanilla
JavaScript, every asset served from the package, nothing from the network.

Paths (the API owns `/suite-runs`, `/processes`...; the pages live under `/ui`):

    /                                   303 to /ui/suite-runs
    /ui/sign-in          GET, POST      the sign-in form (POST: the API token) -> session cookie
    /ui/sign-out         POST           drops the session cookie
    /ui/suite-runs       GET            suite runs, newest first (?status=&suite=&process=&before=)
    /ui/suite-runs       POST           start a run (form: suite, environment, data_set)
    /ui/suite-runs/{id}  GET            one suite run, live (?runs=N: its first N runs; live.py)
    /ui/suite-runs/{id}/failed-at  GET  303 to the step that failed at ?element= first
    /ui/suite-runs/{id}/cancel  POST    cancel it, back to where the form said (`next`)
    /ui/suite-runs/{id}/rerun   POST    run its failures again, to the new run's page
    /ui/test-runs/{id}   GET            one test run with its steps, live (live.py)
    /ui/processes        GET            processes, latest version of each
    /ui/processes/{key}  GET            one process (?version=N): versions, diagram
    /ui/suites           GET            suites with their coverage figures
    /ui/suites/{id}      GET            one suite's coverage view
    /ui/environments     GET            environments, secrets as the API shows them
    /ui/data-sets        GET            data sets with their first rows
    /ui/static/{file}    GET            web.css, web.js, ... (open: they hold no data)

Pages extend `templates/base.html.jinja` (blocks `title`, `styles`, `content`, `scripts`;
the reports' `report.css` is always loaded, `/ui/static/report/suite.css` on demand) and are
answered by `rendering.page(request, template, **values)`. A page's router depends on
`auth.signed_in`: without a session cookie (when the server has a token) it redirects to the
sign-in page. `static/web.js` gives every page `Orchestra.api(path)` (fetch with the cookie,
JSON back), `Orchestra.element(...)` and local times for `<time datetime>`.

The JSON API accepts the same cookie besides the bearer token (`orchestra.api.sessions`); a
POST, PUT, PATCH or DELETE carried by the cookie, and every form the pages post, must come
from this origin (`Origin`, else `Referer`) or is refused (403).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from orchestra.api.web import auth, catalog, live, pages
from orchestra.api.web.forms import HOME
from orchestra.api.web.rendering import page
from orchestra.errors import OrchestraError

STATIC = Path(str(files("orchestra.api.web") / "static"))
REPORT_STYLES = ("report.css", "suite.css")  # the reports' own, for the diagram and steps


def install_web(app: FastAPI) -> None:
    """Add the pages, their assets and their error pages to `app`."""
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(catalog.router)
    app.include_router(live.router)
    app.add_api_route("/", _home, include_in_schema=False)
    for name in REPORT_STYLES:
        app.add_api_route(f"/ui/static/report/{name}", _report_style(name), include_in_schema=False)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="web-static")
    _install_error_pages(app)


async def _home() -> Response:
    return RedirectResponse(HOME, status_code=303)


def _report_style(name: str) -> Callable[[], Awaitable[Response]]:
    text = files("orchestra.reports").joinpath("templates", name).read_text("utf-8")

    async def style() -> Response:
        return Response(text, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    return style


def _install_error_pages(app: FastAPI) -> None:
    """A refusal on a page (an OrchestraError, an unknown page, a query FastAPI could not
    validate) is a page saying what the API's JSON would say, with the same status; elsewhere
    it stays the API's JSON. A page asked for without a session leads to the sign-in page."""

    async def signing_in(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, auth.SignInNeeded)
        return exc.redirect()

    app.add_exception_handler(auth.SignInNeeded, signing_in)
    for kind in (OrchestraError, HTTPException, RequestValidationError):
        app.add_exception_handler(kind, _as_page(app.exception_handlers[kind]))


def _as_page(as_json: Callable[..., Any]) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handler(request: Request, exc: Exception) -> Response:
        answered = as_json(request, exc)
        response: Response = await answered if inspect.isawaitable(answered) else answered
        if not request.url.path.startswith("/ui/") or not isinstance(response, JSONResponse):
            return response
        said = json.loads(bytes(response.body))
        title = HTTPStatus(response.status_code).phrase
        message = str(said.get("message", title))
        if response.status_code == 404 and said.get("error") == "NotFound" and not said.get("kind"):
            message = f"There is no page at {request.url.path}."
        values = {"title": title, "message": message}
        return page(request, "error.html.jinja", status_code=response.status_code, **values)

    return handler
