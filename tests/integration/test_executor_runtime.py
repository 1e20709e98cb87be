"""Bindings, environment, data set and executor wired into real workers on a real PostgreSQL.

The whole path a user takes: attach a binding file to a suite, apply an environment whose
secret is a reference, import a data set, run the suite with the executor factory against an
HTTP SUT on 127.0.0.1. Exports reach SuiteRun.context, data rows and branch data reach the
requests, and the secret is nowhere in the database afterwards.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from orchestra.binding.attach import attach_bindings
from orchestra.binding.factory import executor_factory
from orchestra.binding.loader import load_bindings
from orchestra.domain.scenario import (
    Coverage,
    Decision,
    DependsOn,
    GeneratedSuite,
    ScenarioStep,
    TestScenario,
)
from orchestra.domain.statuses import StepKind, SuiteRunStatus
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import running
from orchestra.services.config import apply_environment, import_data_set
from orchestra.store.database import Database
from tests.integration.executor_sut import SutState, running_sut
from tests.integration.runtime.support import store_suite
from tests.integration.test_config_services import everything_stored

SECRET = "runtime-s3cret-token"
FAST = WorkerOptions(concurrency=4, lease_seconds=5, poll_seconds=0.05, sweep_seconds=0.1)

BINDINGS = """\
defaults: {service: api}
tasks:
  Create:
    action:
      method: POST
      path: /echo
      headers: {X-Token: "{{ secrets.token }}"}
      json: {customer: "{{ data.customer }}", express: "{{ data.express }}"}
    checks: [{status: 201}, {jsonpath: $.json.customer, eq: "{{ data.customer }}"}]
    save: {order: $.id}
    exportAs: {lastOrder: "order-{{ response.json.id }}"}
  Cancel:
    action: {method: DELETE, path: "/echo", query: {order: "{{ suite.lastOrder }}"}}
    checks: [{jsonpath: $.query.order, eq: order-7}]
flows:
  Flow_express: {data: {express: true}}
"""


@pytest.fixture
async def sut() -> AsyncIterator[SutState]:
    async with running_sut() as state:
        yield state


def suite() -> GeneratedSuite:
    def action(element: str) -> ScenarioStep:
        meta = {"unbound": True, "type": "serviceTask"}
        return ScenarioStep(position=1, kind=StepKind.ACTION, element_id=element, meta=meta)

    create = TestScenario(
        name="create",
        position=0,
        path=("Start", "Create", "Gw", "Flow_express", "End"),
        decisions=(Decision(gateway="Gw", flows=("Flow_express",)),),
        steps=(action("Create"),),
    )
    cancel = TestScenario(
        name="cancel",
        position=1,
        path=("Start", "Cancel", "End"),
        steps=(action("Cancel"),),
        depends_on=(DependsOn(scenario="create"),),
    )
    coverage = Coverage(
        criterion="all-flows", flows_total=1, flows_covered=1, nodes_total=1, nodes_covered=1
    )
    return GeneratedSuite(process_key="p", process_version=1, criterion="all-flows",
                          scenarios=(create, cancel), coverage=coverage)  # fmt: skip


async def test_a_bound_suite_runs_on_workers_with_data_exports_and_hidden_secrets(
    db: Database, sut: SutState, tmp_path: Path
) -> None:
    attached, unbound = attach_bindings(suite(), load_bindings(BINDINGS))
    stored = await store_suite(db, attached.scenarios)
    environment = tmp_path / "env.yaml"
    environment.write_text(
        textwrap.dedent(f"""\
        name: local
        services: {{api: {{base_url: "{sut.base_url}"}}}}
        secrets: {{token: "${{SUT_TOKEN}}"}}
        """)
    )
    rows = tmp_path / "rows.csv"
    rows.write_text("customer\nann\n")
    await apply_environment(db, environment)
    await import_data_set(db, "customers", rows)

    suite_run = await running.start_suite_run(
        db, stored.id, environment="local", data_set="customers"
    )
    factory = executor_factory({"SUT_TOKEN": SECRET})
    progress, _ = await asyncio.wait_for(
        running.work_until_done(
            db, suite_run.id, factory, workers=1, options=FAST, poll_seconds=0.05
        ),
        timeout=30,
    )

    assert unbound == []
    assert progress.suite_run.status is SuiteRunStatus.PASSED, progress.to_json()
    assert progress.suite_run.context == {
        "lastOrder": "order-7",
        "rows": {"0": {"lastOrder": "order-7"}},  # the row's own exports, for its dependents
    }
    created = next(seen for seen in sut.seen if seen["method"] == "POST")
    assert json.loads(created["body"]) == {"customer": "ann", "express": True}
    assert created["headers"]["X-Token"] == SECRET
    assert any(seen["path"] == "/echo?order=order-7" for seen in sut.seen)
    stored_rows = await everything_stored(db)
    assert "order-7" in stored_rows
    assert SECRET not in stored_rows
