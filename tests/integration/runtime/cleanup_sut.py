"""For the cleanup tests: a SUT of things one creates and deletes, and suites that undo them.

The SUT is a real aiohttp server on 127.0.0.1: `POST /things` creates one (201, `{"id"}`),
`GET /things/{id}` reads it (404 once deleted), `DELETE /things/{id}` deletes it (204, 404 if
gone), `POST /reset` answers 200, `GET /broken` 500. It records every request with its
`Idempotency-Key`, and the next request of a route can be held until the test lets it answer.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from orchestra.binding.document import (
    CleanupAction,
    Defaults,
    ScenarioCleanup,
    StepBinding,
    cleanup_spec,
    spec_from_binding,
)
from orchestra.binding.environment import EnvironmentSpec
from orchestra.domain.records import SuiteRun
from orchestra.domain.scenario import ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.runtime.support import scenario, store_suite
from tests.support.servers import served


@dataclass
class ThingsSut:
    base_url: str = ""
    things: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, key
    hold_next: dict[str, asyncio.Event] = field(default_factory=dict)  # route -> gate
    held: asyncio.Event = field(default_factory=asyncio.Event)  # a held request arrived

    def hold(self, route: str) -> asyncio.Event:
        gate = self.hold_next[route] = asyncio.Event()
        return gate

    def requests(self, method: str, prefix: str = "/") -> list[tuple[str, str, str]]:
        return [s for s in self.seen if s[0] == method and s[1].startswith(prefix)]

    def after_creates(self) -> list[str]:
        """`METHOD path` of the requests after the last create."""
        last = max(i for i, s in enumerate(self.seen) if s[:2] == ("POST", "/things"))
        return [f"{method} {path}" for method, path, _ in self.seen[last + 1 :]]


def _app(sut: ThingsSut) -> web.Application:
    ids = itertools.count(1)

    async def arrive(request: web.Request, route: str) -> None:
        sut.seen.append((request.method, request.path, request.headers["Idempotency-Key"]))
        gate = sut.hold_next.pop(route, None)
        if gate is not None:
            sut.held.set()
            await gate.wait()

    async def create(request: web.Request) -> web.Response:
        await arrive(request, "create")
        thing_id = f"t{next(ids)}"
        sut.things[thing_id] = {"id": thing_id}
        return web.json_response(sut.things[thing_id], status=201)

    async def read(request: web.Request) -> web.Response:
        await arrive(request, "read")
        thing = sut.things.get(request.match_info["id"])
        return web.json_response(thing, status=200 if thing else 404)

    async def delete(request: web.Request) -> web.Response:
        await arrive(request, "delete")
        gone = sut.things.pop(request.match_info["id"], None)
        return web.Response(status=204 if gone else 404)

    async def reset(request: web.Request) -> web.Response:
        await arrive(request, "reset")
        return web.json_response({"reset": True})

    async def broken(request: web.Request) -> web.Response:
        await arrive(request, "broken")
        return web.Response(status=500, text="broken")

    app = web.Application()
    app.router.add_post("/things", create)
    app.router.add_get("/things/{id}", read)
    app.router.add_delete("/things/{id}", delete)
    app.router.add_post("/reset", reset)
    app.router.add_get("/broken", broken)
    return app


@asynccontextmanager
async def things_sut() -> AsyncIterator[ThingsSut]:
    sut = ThingsSut()
    async with served(_app(sut)) as base_url:
        sut.base_url = base_url
        try:
            yield sut
        finally:
            for gate in sut.hold_next.values():
                gate.set()


def create(element: str, *, undo: bool = True, status: int = 201) -> dict[str, Any]:
    """A task creating a thing (saved as `vars.<element>`), undone by deleting it: the undo
    reads the id from the task's response, so a create whose check failed is undone too."""
    binding: dict[str, Any] = {
        "action": {"method": "POST", "path": "/things"},
        "checks": [{"status": status}],
        "save": {element: "$.id"},
    }
    if undo:
        binding["undo"] = {
            "action": {
                "method": "DELETE",
                "path": f"/things/{{{{ steps.{element}.response.json.id }}}}",
            },
            "checks": [{"status": 204}],
        }
    return binding


READ_FIRST = {"action": {"path": "/things/{{ vars.first }}"}, "checks": [{"status": 200}]}
UNDEFINED = {"action": {"path": "/things/{{ vars.never_saved }}"}}
BROKEN = {"action": {"path": "/broken"}, "checks": [{"status": 200}]}
RESET = {"name": "reset", "action": {"method": "POST", "path": "/reset"}}


def bound(bindings: Sequence[tuple[str, dict[str, Any]]]) -> list[ScenarioStep]:
    """Steps as `attach_bindings` leaves them, an undo included."""
    steps = []
    for position, (element, binding) in enumerate(bindings):
        parsed = StepBinding.model_validate(binding)
        spec = spec_from_binding(parsed, Defaults(), {}).to_json()
        if parsed.undo is not None:
            spec["undo"] = cleanup_spec(parsed.undo, Defaults())
        steps.append(
            ScenarioStep(
                position=position,
                kind=StepKind.ACTION,
                element_id=element,
                name=element,
                spec=spec,
            )
        )
    return steps


def with_cleanup(test: TestScenario, *cleanups: dict[str, Any]) -> TestScenario:
    specs = []
    for raw in cleanups:
        parsed = ScenarioCleanup.model_validate(raw)
        specs.append(cleanup_spec(parsed, Defaults(), name=parsed.name))
    return test.model_copy(update={"cleanup": tuple(specs)})


def undo_of(binding: dict[str, Any]) -> CleanupAction:
    return CleanupAction.model_validate(binding["undo"])


async def start(
    db: Database,
    sut: ThingsSut,
    steps: Sequence[tuple[str, dict[str, Any]]],
    *cleanups: dict[str, Any],
    max_attempts: int = 3,
) -> SuiteRun:
    """A suite run of one scenario of `steps`, with `cleanups`, against `sut`."""
    suite = await store_suite(db, [with_cleanup(scenario("things", bound(steps)), *cleanups)])
    spec = EnvironmentSpec.model_validate(
        {"name": "things", "timeout": 30, "services": {"api": {"base_url": sut.base_url}}}
    )
    async with db.transaction() as uow:
        await uow.config.upsert_environment(
            "things", spec.model_dump(mode="json"), spec.references()
        )
    return await running.start_suite_run(
        db, suite.id, environment="things", max_attempts=max_attempts
    )
