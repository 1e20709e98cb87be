"""Gateway conditions alone, with no `flows: data` in the bindings, drive a real HTTP service
down every branch: `orchestra test` solves each scenario's data from the model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.e2e.conftest import clean_env, orchestra
from tests.support.linear_project import environment, sut_in_thread

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <process id="routing" isExecutable="true">
    <startEvent id="Start"/>
    <sequenceFlow id="f1" sourceRef="Start" targetRef="Task_Create"/>
    <serviceTask id="Task_Create" name="Create order"/>
    <sequenceFlow id="f2" sourceRef="Task_Create" targetRef="Route"/>
    <exclusiveGateway id="Route" default="Export"/>
    <sequenceFlow id="Review" sourceRef="Route" targetRef="Task_Review">
      <conditionExpression>= amount &gt; 1000</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="Ship" sourceRef="Route" targetRef="Task_Ship">
      <conditionExpression>= amount &lt;= 1000 and country = "DE"</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="Export" sourceRef="Route" targetRef="Task_Export"/>
    <serviceTask id="Task_Review"/><serviceTask id="Task_Ship"/><serviceTask id="Task_Export"/>
    <sequenceFlow id="f3" sourceRef="Task_Review" targetRef="End"/>
    <sequenceFlow id="f4" sourceRef="Task_Ship" targetRef="End"/>
    <sequenceFlow id="f5" sourceRef="Task_Export" targetRef="End"/>
    <endEvent id="End"/>
  </process>
</definitions>
"""

BINDINGS = """\
version: 1
defaults: {service: shop, timeout: 10}
tasks:
  Task_Create:
    action:
      method: POST
      path: /orders
      json: {amount: "{{ data.amount }}", country: "{{ data.country }}"}
    checks: [{status: 201}]
    save: {order_id: $.id}
  Task_Review:
    action: {path: "/orders/{{ vars.order_id }}"}
    checks: [{jsonpath: $.route, eq: review}]
  Task_Ship:
    action: {path: "/orders/{{ vars.order_id }}"}
    checks: [{jsonpath: $.route, eq: ship}]
  Task_Export:
    action: {path: "/orders/{{ vars.order_id }}"}
    checks: [{jsonpath: $.route, eq: export}]
"""


class RoutingService:
    """Routes an order as the process says, from its own reading of amount and country."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/orders", self._create)
        app.router.add_get("/orders/{id}", self._read)
        return app

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        amount, country = float(body["amount"]), body["country"]
        route = "review" if amount > 1000 else "ship" if country == "DE" else "export"
        order_id = f"o-{len(self.orders)}"
        self.orders[order_id] = {"id": order_id, "route": route}
        return web.json_response(self.orders[order_id], status=201)

    async def _read(self, request: web.Request) -> web.Response:
        return web.json_response(self.orders[request.match_info["id"]])


@pytest.fixture
def service() -> RoutingService:
    return RoutingService()


@pytest.fixture
def project(tmp_path: Path, service: RoutingService) -> Iterator[dict[str, Path]]:
    with sut_in_thread(service) as base_url:
        files = {
            "model": tmp_path / "routing.bpmn",
            "bindings": tmp_path / "bindings.yaml",
            "env": tmp_path / "environment.yaml",
        }
        files["model"].write_text(MODEL, encoding="utf-8")
        files["bindings"].write_text(BINDINGS, encoding="utf-8")
        files["env"].write_text(environment(base_url), encoding="utf-8")
        yield files


def test_the_conditions_alone_take_the_service_down_every_branch(
    project: dict[str, Path], service: RoutingService, database_url: str
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    args = ["--bindings", str(project["bindings"]), "--env", str(project["env"]), "--json"]
    done = orchestra("test", str(project["model"]), *args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["counts"] == {"PASSED": 3}
    assert sorted(order["route"] for order in service.orders.values()) == [
        "export",
        "review",
        "ship",
    ]
    shown = orchestra("suites", "show", "latest", "--json", env=env)
    data = [stored["scenario"]["data"] for stored in json.loads(shown.stdout)["scenarios"]]
    assert sorted(data, key=str) == sorted(
        [
            {"amount": 1001, "country": "DE"},
            {"amount": 0, "country": "DE"},
            {"amount": 0, "country": "other"},
        ],
        key=str,
    )


def test_boundary_data_runs_each_branch_at_both_sides_of_its_bound(
    project: dict[str, Path], service: RoutingService, database_url: str
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    args = ["--bindings", str(project["bindings"]), "--env", str(project["env"]), "--json"]
    done = orchestra("test", str(project["model"]), *args, "--data-values", "boundary", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["counts"] == {"PASSED": 5}
    # 1001 reviews; 1000, the other side of `> 1000`, ships (DE) or exports
    routes = sorted(order["route"] for order in service.orders.values())
    assert routes == ["export", "export", "review", "ship", "ship"]
    shown = json.loads(orchestra("suites", "show", "latest", "--json", env=env).stdout)
    assert shown["parameters"]["data"] == "boundary"
    pinned = [s["scenario"] for s in shown["scenarios"] if s["scenario"]["name"].endswith("]")]
    assert [s["name"].rpartition(" [")[2] for s in pinned] == ["amount = 1000]"] * 2
    assert sorted(s["data"]["country"] for s in pinned) == ["DE", "other"]
