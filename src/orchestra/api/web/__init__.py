"""The web UI of `orchestra serve`: server-rendered pages (Jinja2) with a little vanilla
JavaScript, every asset served from the package, nothing from the network.

Paths (the API owns `/suite-runs`, `/processes`...; the pages live under `/ui`):

    /                                   303 to /ui/suite-runs
    /ui/sign-in          GET, POST      the sign-in form (POST: the API token) -> session cookie
    /ui/sign-out         POST           drops the session cookie
    /ui/suite-runs       GET            suite runs, newest first (?status=&suite=&process=&before=)
    /ui/suite-runs       POST           start a run (form: suite, environment, data_set)
    /ui/suite-runs/{id}  GET            one suite run, live (ui-b: live.py)
    /ui/suite-runs/{id}/cancel  POST    cancel it, back to where the form said (`next`)
    /ui/suite-runs/{id}/rerun   POST    run its failures again, to the new run's page
    /ui/test-runs/{id}   GET            one test run with its steps (ui-b: live.py)
    /ui/processes        GET            processes, latest version of each
    /ui/processes/{key}  GET            one process (?version=N): versions, diagram
    /ui/suites           GET            suites with their coverage figures
    /ui/suites/{id}      GET            one suite's coverage view
    /ui/environments     GET            environments, secrets as the API shows them
    /ui/data-sets        GET            data sets with their first rows
    /ui/static/{file}    GET            web.css, web.js, ... (open: they hold no data)

Pages extend `templates/base.html.jinja` (blocks `title`, `content`, `scripts`). A page
handler depends on `Viewer` (`auth.signed_in`): without a session cookie (when the server has
a token) it redirects to the sign-in page. The JSON API accepts the same cookie besides the
bearer token; a POST, PUT, PATCH or DELETE carried by the cookie, and every form the pages
post, must come from this origin (`Origin`, else `Referer`) or is refused (403).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from orchestra.api.errors import error_response
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
    """A refusal on a page is a page saying why, with the status its class says; elsewhere it
    stays the API's JSON."""

    async def refused(request: Request, exc: Exception) -> Response:
        if isinstance(exc, auth.SignInNeeded):
            return exc.redirect()
        assert isinstance(exc, OrchestraError)
        if not request.url.path.startswith("/ui/"):
            return error_response(exc)
        values = {"title": type(exc).__name__, "message": exc.message}
        return page(request, "error.html.jinja", status_code=exc.http_status, **values)

    app.add_exception_handler(OrchestraError, refused)
    app.add_exception_handler(auth.SignInNeeded, refused)
