"""A small system under test for the executor's integration tests: real aiohttp on 127.0.0.1.

Its endpoints cover what the executor must tell apart: JSON answers, echoes of what was sent,
an order that becomes ready after N polls, slow answers, 5xx, invalid JSON, redirects, a big
body, and an OAuth2 token endpoint that counts its calls.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from orchestra.binding.document import Defaults, StepBinding, spec_from_binding
from orchestra.binding.environment import EnvironmentSpec
from orchestra.domain.execution import RunIdentity, StepContext
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind
from tests.support.servers import served

TOKEN = "tok-0123456789abcdef"


@dataclass
class SutState:
    base_url: str = ""
    polls: dict[str, int] = field(default_factory=dict)
    token_requests: int = 0
    seen: list[dict[str, Any]] = field(default_factory=list)  # every request's headers and body


def _app(state: SutState) -> web.Application:
    async def record(request: web.Request) -> dict[str, Any]:
        body = await request.text()
        seen = {
            "method": request.method,
            "path": request.path_qs,
            "headers": dict(request.headers),
            "body": body,
        }
        state.seen.append(seen)
        return seen

    async def ok(request: web.Request) -> web.Response:
        await record(request)
        payload = {"state": "CREATED", "id": 42, "items": [1, 2, 3], "name": "alpha", "price": 9.5}
        return web.json_response(payload, headers={"X-Request-Id": "r-1"})

    async def echo(request: web.Request) -> web.Response:
        seen = await record(request)
        status = int(request.query.get("status", "201"))
        parsed: Any = None
        try:
            parsed = json.loads(seen["body"]) if seen["body"] else None
        except ValueError:
            parsed = None
        payload = {"id": 7, "json": parsed, "body": seen["body"], "headers": seen["headers"],
                   "query": dict(request.query)}  # fmt: skip
        return web.json_response(payload, status=status)

    async def ready(request: web.Request) -> web.Response:
        await record(request)
        key = request.match_info["key"]
        state.polls[key] = state.polls.get(key, 0) + 1
        after = int(request.query.get("after", "3"))
        done = state.polls[key] >= after
        return web.json_response(
            {"state": "DONE" if done else "PENDING", "polls": state.polls[key]}
        )

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("delay", "1")))
        return web.json_response({"slow": True})

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"error": "unavailable"}, status=int(request.match_info["code"]))

    async def bad_json(request: web.Request) -> web.Response:
        return web.Response(text="{not json", content_type="application/json")

    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>hello</html>", content_type="text/html")

    async def html_not_found(request: web.Request) -> web.Response:
        page = "<html><body><h1>404 Not Found</h1></body></html>"
        return web.Response(text=page, content_type="text/html", status=404)

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/ok")

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def big(request: web.Request) -> web.Response:
        return web.Response(text="x" * 200_000, content_type="text/plain")

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        state.token_requests += 1
        if form.get("client_secret") != "s3cr3t-client":
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"access_token": TOKEN, "expires_in": 3600})

    async def whoami(request: web.Request) -> web.Response:
        seen = await record(request)
        return web.json_response({"authorization": seen["headers"].get("Authorization")})

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/ready/{key}", ready)
    app.router.add_get("/slow", slow)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/bad-json", bad_json)
    app.router.add_get("/html", html)
    app.router.add_route("*", "/html-404", html_not_found)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/loop", loop)
    app.router.add_get("/big", big)
    app.router.add_post("/token", token)
    app.router.add_get("/whoami", whoami)
    return app


@asynccontextmanager
async def running_sut() -> AsyncIterator[SutState]:
    state = SutState()
    async with served(_app(state)) as base_url:
        state.base_url = base_url
        yield state


def bound_step(
    binding: dict[str, Any],
    *,
    element: str = "Task_A",
    position: int = 1,
    branch: str = "",
    data: dict[str, Any] | None = None,
    kind: StepKind = StepKind.ACTION,
) -> ScenarioStep:
    """A step as `attach_bindings` leaves it, from a binding in the file's short form."""
    parsed = StepBinding.model_validate(binding)
    spec = spec_from_binding(parsed, Defaults(), data or {}).to_json()
    meta = {"exportAs": dict(parsed.export_as)} if parsed.export_as else {}
    return ScenarioStep(
        position=position, kind=kind, element_id=element, name=element.lower(), branch=branch,
        spec=spec, meta=meta,
    )  # fmt: skip


def context(**namespaces: Any) -> StepContext:
    run = RunIdentity(suite_run_id=11, test_run_id=22, scenario="happy", attempt=1)
    return StepContext(run=run, **namespaces)


def environment(base_url: str, **extra: Any) -> EnvironmentSpec:
    return EnvironmentSpec.model_validate(
        {"name": "test", "services": {"api": {"base_url": base_url}}, **extra}
    )
