"""Pages as HTML: the Jinja2 templates of `templates/`, autoescaped, strict about undefined
names, answered with a Content-Security-Policy allowing only this server's own files."""

from __future__ import annotations

import json
from functools import cache
from importlib.metadata import version
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from orchestra.domain.timestamps import rfc3339
from orchestra.reports.text import resent_after

# nothing from another origin, no inline script or style: the pages load /ui/static/ files
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
    " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
NAV = (
    ("/ui/suite-runs", "Suite runs"),
    ("/ui/processes", "Processes"),
    ("/ui/suites", "Suites"),
    ("/ui/environments", "Environments"),
    ("/ui/data-sets", "Data sets"),
)


def page(request: Request, template: str, *, status_code: int = 200, **values: Any) -> HTMLResponse:
    """`template` rendered for `request`; every page gets `nav`, `current` (the nav entry it is
    under), `signed_in` (whether a sign-out button makes sense) and `static(name)`."""
    path = request.url.path
    text = (
        _environment()
        .get_template(template)
        .render(
            nav=NAV,
            current=next((href for href, _ in NAV if path.startswith(href)), ""),
            signed_in=request.app.state.sessions is not None,
            **values,
        )
    )
    headers = {"Content-Security-Policy": POLICY, "Cache-Control": "no-store"}
    return HTMLResponse(text, status_code=status_code, headers=headers)


def static(name: str) -> str:
    """The URL of a packaged asset, with the version so a new release is fetched anew."""
    return f"/ui/static/{name}?v={_version()}"


def when(moment: Any) -> str:
    return "" if moment is None else rfc3339(moment, timespec="seconds")


def cell(value: Any) -> str:
    """A data row's value: text as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@cache
def _version() -> str:
    return version("orchestra")


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("orchestra.api.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(
        {"static": static, "when": when, "cell": cell, "resent_after": resent_after}
    )
    return environment
