"""Redirects and credentials: the environment's secrets stay with the origin they are for.

Two real aiohttp servers on 127.0.0.1 (two ports, so two origins): the service redirects to
itself and to the other one, which records what it received.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from orchestra.binding.environment import EnvironmentSpec, resolve_secrets
from orchestra.binding.executor import StepExecutor
from orchestra.domain.execution import StepOutcome
from orchestra.domain.statuses import StepStatus
from tests.integration.executor_sut import bound_step, context
from tests.support.servers import served

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

KEY = "k3y-7d1e-secret"


@pytest.fixture
async def origins() -> AsyncIterator[tuple[str, str, list[web.Request]]]:
    """(the service's URL, the other origin's URL, the requests each received)."""
    seen: list[web.Request] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append(request)
        body = await request.read()
        return web.json_response({"method": request.method, "body": body.decode()})

    other_app = web.Application()
    other_app.router.add_route("*", "/{tail:.*}", echo)
    async with served(other_app) as other_url:
        app = _service(other_url, seen, echo)
        async with served(app) as service_url:
            yield service_url, other_url, seen


def _service(other_url: str, seen: list[web.Request], echo: Handler) -> web.Application:
    """Redirects within its origin (`/moved`) and to the other one (`/elsewhere`)."""

    async def moved(request: web.Request) -> web.Response:
        seen.append(request)
        status = int(request.query.get("status", "302"))
        return web.Response(status=status, headers={"Location": "/landed"})

    async def elsewhere(request: web.Request) -> web.Response:
        seen.append(request)
        status = int(request.query.get("status", "307"))
        return web.Response(status=status, headers={"Location": f"{other_url}/landed?x=1"})

    app = web.Application()
    app.router.add_route("*", "/moved", moved)
    app.router.add_route("*", "/elsewhere", elsewhere)
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


def _spec(base_url: str, **extra: Any) -> EnvironmentSpec:
    return EnvironmentSpec.model_validate(
        {
            "name": "t",
            "services": {"api": {"base_url": base_url}},
            "auth": {"type": "api_key", "header": "X-Key", "value": "${KEY}"},
            "headers": {"X-Tenant": "acme"},
            **extra,
        }
    )


async def _run(spec: EnvironmentSpec, action: dict[str, Any]) -> StepOutcome:
    async with StepExecutor(spec, resolve_secrets(spec, {"KEY": KEY})) as executor:
        return await executor.execute(bound_step({"action": action}), context())


async def test_a_redirect_to_another_origin_does_not_take_the_api_key_along(
    origins: tuple[str, str, list[web.Request]],
) -> None:
    service, other, seen = origins
    action = {"path": "/elsewhere", "headers": {"X-Trace": "t-1", "X-Echo": "{{ 'a' }}"}}

    outcome = await _run(_spec(service), action)

    assert outcome.status is StepStatus.PASSED, outcome.error
    first, landed = seen
    assert first.headers["X-Key"] == KEY  # the service itself gets its key
    assert landed.url.path == "/landed"
    assert landed.query_string == "x=1"
    assert "X-Key" not in landed.headers
    # what carries no credential goes along, as it would with any HTTP client
    assert (landed.headers["X-Trace"], landed.headers["X-Tenant"]) == ("t-1", "acme")
    assert outcome.response is not None
    assert outcome.response["url"] == f"{other}/landed?x=1"


async def test_a_header_holding_a_secret_is_kept_back_too(
    origins: tuple[str, str, list[web.Request]],
) -> None:
    service, _, seen = origins
    spec = _spec(service, secrets={"key": "${KEY}"})
    action = {"path": "/elsewhere", "headers": {"X-Signed": "v1 {{ secrets.key }}"}}

    outcome = await _run(spec, action)

    assert outcome.status is StepStatus.PASSED, outcome.error
    first, landed = seen
    assert first.headers["X-Signed"] == f"v1 {KEY}"
    assert "X-Signed" not in landed.headers
    assert "X-Key" not in landed.headers


async def test_a_redirect_within_the_origin_keeps_the_credentials(
    origins: tuple[str, str, list[web.Request]],
) -> None:
    service, _, seen = origins

    outcome = await _run(_spec(service), {"path": "/moved"})

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert [r.path for r in seen] == ["/moved", "/landed"]
    assert seen[1].headers["X-Key"] == KEY


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [(303, "PUT", "GET"), (302, "POST", "GET"), (301, "POST", "GET"), (307, "POST", "POST"),
     (308, "PUT", "PUT"), (302, "PUT", "PUT")],
)  # fmt: skip
async def test_a_redirect_changes_the_method_as_http_clients_do(
    origins: tuple[str, str, list[web.Request]], status: int, method: str, expected: str
) -> None:
    service, _, seen = origins
    action = {"method": method, "path": f"/elsewhere?status={status}", "json": {"a": 1}}

    outcome = await _run(_spec(service), action)

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.response is not None
    echoed = outcome.response["json"]
    assert echoed["method"] == expected
    assert echoed["body"] == ('{"a": 1}' if expected == method else "")
    assert "Content-Type" not in seen[-1].headers or expected == method


async def test_a_redirect_not_followed_is_the_answer(
    origins: tuple[str, str, list[web.Request]],
) -> None:
    service, other, seen = origins

    outcome = await _run(_spec(service), {"path": "/elsewhere", "follow_redirects": False})

    assert outcome.response is not None
    assert outcome.response["status"] == 307
    assert outcome.response["headers"]["Location"] == f"{other}/landed?x=1"
    assert len(seen) == 1
