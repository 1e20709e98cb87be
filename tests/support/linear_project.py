"""A small project as a user writes one for `orchestra test`: a three-task BPMN, its bindings,
an environment, a data set, and the HTTP service they test, served on 127.0.0.1 in a thread.

The service keeps orders in memory (`DELETE /orders/{id}` removes one); `Sut.delay` slows
every answer (to interrupt a test run mid-way) and an order for `amount` 13 reads back
`state: LOST` (a planted defect: the check on `Task_Read` fails for that data row).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from tests.support.servers import served

PROCESS_KEY = "checkout"

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <process id="checkout" name="Checkout" isExecutable="true">
    <startEvent id="Start" name="Basket full"/>
    <sequenceFlow id="f1" sourceRef="Start" targetRef="Task_Create"/>
    <serviceTask id="Task_Create" name="Create order"/>
    <sequenceFlow id="f2" sourceRef="Task_Create" targetRef="Task_Read"/>
    <serviceTask id="Task_Read" name="Read order"/>
    <sequenceFlow id="f3" sourceRef="Task_Read" targetRef="Task_Pay"/>
    <serviceTask id="Task_Pay" name="Pay order"/>
    <sequenceFlow id="f4" sourceRef="Task_Pay" targetRef="End"/>
    <endEvent id="End" name="Paid"/>
  </process>
</definitions>
"""

BINDINGS = """\
version: 1
defaults: {service: shop, timeout: 10}
tasks:
  Task_Create:
    action: {method: POST, path: /orders, json: {amount: "{{ data.amount }}"}}
    checks: [{status: 201}]
    save: {order_id: $.id}
  Task_Read:
    action: {path: "/orders/{{ vars.order_id }}"}
    checks: [{status: 200}, {jsonpath: $.state, eq: CREATED}]
  Task_Pay:
    action: {method: POST, path: "/orders/{{ vars.order_id }}/pay"}
    checks: [{status: 200}, {jsonpath: $.state, eq: PAID}]
"""

DATA = "customer,amount\nAda,10\nBob,13\nCyd,20\n"  # Bob's order is the planted defect


def environment(base_url: str) -> str:
    return f"name: shop-local\nservices:\n  shop:\n    base_url: {base_url}\n"


def write_project(folder: Path, base_url: str) -> dict[str, Path]:
    """The project's files in `folder`: model, bindings, environment, data set."""
    files = {
        "model": folder / "checkout.bpmn",
        "bindings": folder / "bindings.yaml",
        "env": folder / "environment.yaml",
        "data": folder / "people.csv",
    }
    folder.mkdir(parents=True, exist_ok=True)
    files["model"].write_text(MODEL, encoding="utf-8")
    files["bindings"].write_text(BINDINGS, encoding="utf-8")
    files["env"].write_text(environment(base_url), encoding="utf-8")
    files["data"].write_text(DATA, encoding="utf-8")
    return files


@dataclass
class Sut:
    delay: float = 0.0
    requests: int = 0
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/orders", self._create)
        app.router.add_get("/orders/{id}", self._read)
        app.router.add_post("/orders/{id}/pay", self._pay)
        app.router.add_delete("/orders/{id}", self._delete)
        return app

    async def _answer(self, payload: dict[str, Any], status: int = 200) -> web.Response:
        self.requests += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response(payload, status=status)

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        order_id = f"o-{next(self._ids)}"
        lost = str(body.get("amount")) == "13"
        self.orders[order_id] = {"id": order_id, "state": "LOST" if lost else "CREATED"}
        return await self._answer(self.orders[order_id], 201)

    async def _read(self, request: web.Request) -> web.Response:
        return await self._answer(self.orders[request.match_info["id"]])

    async def _delete(self, request: web.Request) -> web.Response:
        self.requests += 1
        gone = self.orders.pop(request.match_info["id"], None)
        return web.Response(status=204 if gone else 404)

    async def _pay(self, request: web.Request) -> web.Response:
        order = self.orders[request.match_info["id"]]
        order["state"] = "PAID"
        return await self._answer(order)


class Serving(Protocol):
    def app(self) -> web.Application: ...


@contextmanager
def sut_in_thread(sut: Serving) -> Iterator[str]:
    """`sut` served on 127.0.0.1 from a thread with its own loop; yields its base URL."""
    ready = threading.Event()
    found: dict[str, Any] = {}

    async def serve() -> None:
        found["loop"], found["stop"] = asyncio.get_running_loop(), asyncio.Event()
        async with served(sut.app()) as base_url:
            found["url"] = base_url
            ready.set()
            await found["stop"].wait()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(timeout=30), "the test SUT did not start"
    try:
        yield found["url"]
    finally:
        found["loop"].call_soon_threadsafe(found["stop"].set)
        thread.join(timeout=10)
