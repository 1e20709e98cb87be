"""The API's own description: `/openapi.json` behind the token like every route, and `/docs`,
Swagger UI served from the package (`api/static/`, copied from the pinned npm package by
`make swagger-ui`), so the page works with no network.

The page itself is open: it holds no data, and a browser cannot send a bearer token when it
opens a link. It asks for the token, then loads the description with it (and sends it with
each "Try it out"): see `static/docs.js`. Its policy lets it load nothing from elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, params
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(str(files("orchestra.api") / "static"))
# nothing from another origin; Swagger UI sets styles inline and draws icons from data: URLs
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline';"
    " connect-src 'self'; frame-ancestors 'none'"
)


def install_docs(app: FastAPI, guarded: Sequence[params.Depends]) -> None:
    async def openapi() -> JSONResponse:
        return JSONResponse(_description(app))

    async def docs() -> HTMLResponse:
        return HTMLResponse(_page(), headers={"Content-Security-Policy": POLICY})

    app.add_api_route("/openapi.json", openapi, dependencies=guarded, include_in_schema=False)
    app.add_api_route("/docs", docs, include_in_schema=False)
    app.mount("/docs/assets", StaticFiles(directory=STATIC), name="docs-assets")


def _description(app: FastAPI) -> dict[str, Any]:
    return app.openapi()  # built once, then kept by FastAPI


@cache
def _page() -> str:
    return (STATIC / "docs.html").read_text(encoding="utf-8")
