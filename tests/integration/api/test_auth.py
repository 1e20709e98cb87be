"""Authentication: a bearer token on every route but /health; the OpenAPI document."""

from __future__ import annotations

import pytest

from orchestra.api import create_app
from orchestra.config import Settings
from orchestra.errors import ConfigurationError
from orchestra.examples.order import PROCESS_FILE, example_path
from tests.integration.api.conftest import Client, serving


async def test_a_request_without_a_token_is_refused_with_401_and_a_bearer_challenge(
    api: Client,
) -> None:
    reply = await api.get("/processes", token=None)

    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"] == "Bearer"
    assert reply.json()["error"] == "AuthenticationRefused"
    assert "Authorization: Bearer" in reply.json()["message"]


async def test_a_wrong_token_is_refused_with_401(api: Client) -> None:
    reply = await api.get("/processes", token="not-the-token")

    assert reply.status == 401
    assert reply.json()["message"] == "the bearer token is not the server's token"


async def test_a_token_under_another_scheme_is_refused(api: Client) -> None:
    reply = await api.get("/suites", token=None, headers={"Authorization": f"Basic {api.token}"})

    assert reply.status == 401


async def test_a_refused_request_stores_nothing(api: Client) -> None:
    data = example_path(PROCESS_FILE).read_bytes()
    headers = {"Content-Type": "application/xml"}

    reply = await api.post("/processes", token="wrong", data=data, headers=headers)

    assert reply.status == 401
    assert (await api.get("/processes")).json() == []


async def test_health_answers_without_a_token(api: Client) -> None:
    reply = await api.get("/health", token=None)

    assert reply.status == 200
    assert reply.json() == {"status": "ok", "database": "ok"}


async def test_the_right_token_is_accepted(api: Client) -> None:
    reply = await api.get("/processes")

    assert reply.status == 200
    assert reply.json() == []


async def test_without_auth_the_routes_answer_without_a_token(settings: Settings) -> None:
    async with serving(settings, token=None) as client:
        reply = await client.get("/processes", token=None)

    assert reply.status == 200


def test_an_empty_token_is_refused_when_the_app_is_created(settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match="ORCHESTRA_API_TOKEN"):
        create_app(settings, token="  ")


async def test_openapi_lists_every_route_and_the_bearer_scheme(api: Client) -> None:
    reply = await api.get("/openapi.json")

    document = reply.json()
    routes = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    assert routes == {
        ("/health", "GET"),
        ("/processes", "POST"),
        ("/processes", "GET"),
        ("/processes/{key}", "GET"),
        ("/suites", "POST"),
        ("/suites", "GET"),
        ("/suites/{suite}", "GET"),
        ("/suites/{suite}/report", "GET"),
        ("/environments", "POST"),
        ("/environments", "GET"),
        ("/data-sets/{name}", "POST"),
        ("/data-sets", "GET"),
        ("/suite-runs", "POST"),
        ("/suite-runs", "GET"),
        ("/suite-runs/{suite_run}", "GET"),
        ("/suite-runs/{suite_run}", "DELETE"),
        ("/suite-runs/{suite_run}/cancel", "POST"),
        ("/suite-runs/{suite_run}/report", "GET"),
        ("/suite-runs/{suite_run}/test-runs", "GET"),
        ("/suite-runs/{suite_run}/events", "GET"),
        ("/suite-runs/{suite_run}/elements", "GET"),
        ("/test-runs/{test_run}", "GET"),
        ("/test-runs/{test_run}/events", "GET"),
        ("/protocols", "GET"),
        ("/metrics", "GET"),
    }
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    assert "security" not in document["paths"]["/health"]["get"]
    assert document["paths"]["/suites"]["get"]["security"] == [{"token": []}]
    upload = document["paths"]["/processes"]["post"]["requestBody"]["content"]
    assert {"application/xml", "multipart/form-data"} <= set(upload)
    events = document["paths"]["/suite-runs/{suite_run}/events"]["get"]["responses"]["200"]
    assert set(events["content"]) == {"text/event-stream"}
    steps = document["paths"]["/test-runs/{test_run}/events"]["get"]["responses"]["200"]
    assert set(steps["content"]) == {"text/event-stream"}


async def test_an_unknown_route_answers_404_in_the_error_shape(api: Client) -> None:
    reply = await api.get("/nowhere")

    assert reply.status == 404
    assert reply.json() == {"error": "NotFound", "message": "Not Found: GET /nowhere"}


async def test_a_method_not_allowed_names_every_method_of_the_path(api: Client) -> None:
    reply = await api.request("DELETE", "/processes")

    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, POST"
    assert reply.json()["error"] == "MethodNotAllowed"


TRAILING_SLASHES = [
    ("POST", "/data-sets/"),
    ("GET", "/data-sets/"),
    ("GET", "/environments/"),
    ("POST", "/environments/"),
    ("GET", "/processes/"),
    ("POST", "/processes/"),
    ("GET", "/suites/"),
    ("POST", "/suites/"),
    ("GET", "/suite-runs/"),
    ("POST", "/suite-runs/"),
    ("GET", "/suite-runs/1/"),
    ("GET", "/protocols/"),
    ("GET", "/health/"),
]


async def test_a_path_with_a_trailing_slash_is_404_in_the_error_shape_not_a_redirect(
    api: Client,
) -> None:
    replies = [
        await api.request(method, path, allow_redirects=False) for method, path in TRAILING_SLASHES
    ]

    assert [(reply.status, reply.json()) for reply in replies] == [
        (404, {"error": "NotFound", "message": f"Not Found: {method} {path}"})
        for method, path in TRAILING_SLASHES
    ]
