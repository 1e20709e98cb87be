"""Generate a suite, give it an environment and a data set, start a suite run, follow it,
cancel it, fetch its reports — all through the API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from lxml import etree

from orchestra.binding.factory import executor_factory
from orchestra.examples.order import (
    BINDINGS_FILE,
    DATASET_FILE,
    EXPECTED,
    TOKEN_VARIABLE,
    environment_text,
    example_path,
)
from orchestra.examples.order.sut import run_example_sut
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.api.conftest import Client

YAML = {"Content-Type": "application/yaml"}


async def generate(api: Client, **body: Any) -> dict[str, Any]:
    await api.import_example()
    bindings = example_path(BINDINGS_FILE).read_text(encoding="utf-8")
    reply = await api.post(
        "/suites", json={"process": "order_fulfilment", "bindings": bindings, **body}
    )
    assert reply.status == 201, reply.body
    result: dict[str, Any] = reply.json()
    return result


async def configure(api: Client) -> None:
    environment = environment_text("http://127.0.0.1:9")
    assert (await api.post("/environments", data=environment, headers=YAML)).status == 201
    rows = example_path(DATASET_FILE).read_text(encoding="utf-8")
    assert (await api.post("/data-sets/customers", data=rows, headers=YAML)).status == 201


async def start_run(api: Client, suite: int) -> dict[str, Any]:
    body = {"suite": suite, "environment": "local", "data_set": "customers"}
    reply = await api.post("/suite-runs", json=body)
    assert reply.status == 201, reply.body
    assert reply.headers["Location"] == f"/suite-runs/{reply.json()['suite_run']}"
    result: dict[str, Any] = reply.json()
    return result


async def test_a_suite_generated_with_bindings_covers_every_flow(api: Client) -> None:
    suite = await generate(api)

    assert suite["criterion"] == "all-flows"
    assert suite["scenarios"] == EXPECTED["scenarios"]
    assert suite["coverage"]["flows_covered"] == EXPECTED["flows"]
    assert suite["unbound"] == []
    listed = (await api.get("/suites")).json()
    assert [s["id"] for s in listed] == [suite["suite"]]
    shown = (await api.get(f"/suites/{suite['suite']}")).json()
    assert [s["scenario"]["name"] for s in shown["scenarios"]] == suite["scenario_names"]
    assert all(s["steps"] for s in shown["scenarios"])
    # the data its gateway conditions need (docs/data.md)
    assert suite["conditions"]["not_understood"] == []
    payments = {s["scenario"]["data"].get("payment") for s in shown["scenarios"]}
    assert {"ACCEPTED", "DECLINED"} <= payments


async def test_bindings_are_read_as_text_never_as_a_file_name(api: Client) -> None:
    await api.import_example()
    a_file = str(example_path(BINDINGS_FILE))  # a real file on the server's disk

    reply = await api.post("/suites", json={"process": "order_fulfilment", "bindings": a_file})

    assert reply.status == 422
    assert reply.json()["error"] == "BindingRefused"
    assert "expected a mapping" in reply.json()["message"]
    assert (await api.get("/suites")).json() == []


async def test_all_paths_above_its_cap_is_refused_with_422(api: Client) -> None:
    await api.import_example()

    reply = await api.post(
        "/suites", json={"process": "order_fulfilment", "coverage": "all-paths", "max_scenarios": 1}
    )

    assert (reply.status, reply.json()["error"]) == (422, "GenerationLimit")


async def test_a_request_body_that_does_not_validate_is_refused_naming_the_field(
    api: Client,
) -> None:
    reply = await api.post("/suites", json={"process": "order_fulfilment", "coverage": "most"})

    assert reply.status == 422
    refusal = reply.json()
    assert refusal["error"] == "RequestInvalid"
    assert refusal["message"].startswith("body.coverage:")


@pytest.mark.parametrize("route", ["/suites", "/suite-runs"])
@pytest.mark.parametrize(
    "media", ["application/yaml", "text/plain", "application/x-www-form-urlencoded"]
)
async def test_a_json_route_refuses_a_body_of_another_type_with_415(
    api: Client, route: str, media: str
) -> None:
    reply = await api.post(
        route, data="process: order_fulfilment\n", headers={"Content-Type": media}
    )

    assert (reply.status, reply.json()["error"]) == (415, "UnsupportedMediaType")
    assert reply.json()["message"] == f"this route reads application/json, not {media}"
    assert reply.json()["accepted"] == ["application/json"]


async def test_a_json_route_refuses_a_body_without_a_type_with_415(api: Client) -> None:
    reply = await api.post("/suite-runs", data=b'{"suite": 1}', skip_auto_headers=["Content-Type"])

    assert reply.status == 415
    assert reply.json()["message"] == "this route reads application/json, not no type"


async def test_a_body_that_is_not_json_is_refused_saying_where_and_why(api: Client) -> None:
    reply = await api.post(
        "/suite-runs", data=b'{"suite": 1,,}', headers={"Content-Type": "application/json"}
    )

    assert (reply.status, reply.json()["error"]) == (422, "RequestInvalid")
    assert reply.json()["message"] == (
        "body: not valid JSON at character 12: Expecting property name enclosed in double quotes"
    )


async def test_a_process_reference_that_is_not_key_or_key_at_version_is_refused(
    api: Client,
) -> None:
    reply = await api.post("/suites", json={"process": "order@latest"})

    assert (reply.status, reply.json()["error"]) == (422, "RequestInvalid")
    assert reply.json()["message"].startswith("body.process:")


async def test_generating_for_a_process_not_imported_is_404(api: Client) -> None:
    reply = await api.post("/suites", json={"process": "ghost@2"})

    assert (reply.status, reply.json()["process"]) == (404, "ghost@2")


async def test_environments_and_data_sets_are_stored_and_listed(api: Client) -> None:
    await configure(api)
    csv = "customer,sku\nAda,BOOK-1\nAlan,LAMP-3\nGrace,PEN-9\n"
    as_csv = await api.post("/data-sets/small", data=csv, headers={"Content-Type": "text/csv"})
    as_json = await api.post("/data-sets/one", json=[{"customer": "Ada"}])

    assert as_csv.json() == {
        "data_set": "small",
        "id": as_csv.json()["id"],
        "rows": 3,
        "columns": ["customer", "sku"],
    }
    assert as_json.status == 201
    environments = (await api.get("/environments")).json()
    assert [(e["environment"], e["secret_refs"]) for e in environments] == [
        ("local", ["ORCHESTRA_EXAMPLE_TOKEN"])
    ]
    data_sets = {d["data_set"]: d["rows"] for d in (await api.get("/data-sets")).json()}
    assert data_sets == {"customers": 2, "small": 3, "one": 1}


async def test_an_invalid_environment_is_refused_naming_the_line(api: Client) -> None:
    text = "name: broken\nservices:\n  orders:\n    base_url: ftp://nowhere\n"

    reply = await api.post("/environments", data=text, headers=YAML)

    assert reply.status == 422
    assert "environment.yaml:4" in reply.json()["message"]


async def test_an_environment_name_longer_than_the_other_names_is_refused_as_in_the_cli(
    api: Client,
) -> None:
    text = f"name: {'n' * 513}\nservices:\n  orders:\n    base_url: http://127.0.0.1:1\n"

    reply = await api.post("/environments", data=text, headers=YAML)

    assert (reply.status, reply.json()["error"]) == (422, "BindingRefused")
    assert "environment.yaml:1: name: String should have at most 512" in reply.json()["message"]
    assert (await api.get("/environments")).json() == []


async def test_a_data_set_row_that_is_not_a_mapping_is_refused(api: Client) -> None:
    reply = await api.post("/data-sets/bad", json=[{"a": 1}, 2])

    assert (reply.status, reply.json()["error"]) == (422, "BindingRefused")
    assert (await api.get("/data-sets")).json() == []


async def test_a_suite_run_has_a_test_run_per_scenario_and_row_and_reports_progress(
    api: Client,
) -> None:
    suite = await generate(api)
    await configure(api)

    started = await start_run(api, suite["suite"])
    progress = (await api.get(f"/suite-runs/{started['suite_run']}")).json()

    assert started["status"] == "IN_PROGRESS"
    assert progress["suite"] == suite["suite"]
    assert progress["total"] == EXPECTED["test_runs"]
    assert progress["done"] == 0
    assert sum(progress["counts"].values()) == EXPECTED["test_runs"]


async def test_a_suite_run_is_cancelled_once_then_409(api: Client) -> None:
    suite = await generate(api)
    await configure(api)
    run = (await start_run(api, suite["suite"]))["suite_run"]

    first = await api.post(f"/suite-runs/{run}/cancel")
    second = await api.post(f"/suite-runs/{run}/cancel")

    assert first.status == 200
    assert first.json()["status"] == "CANCELLED"
    assert first.json()["counts"] == {"CANCELLED": EXPECTED["test_runs"]}
    assert (second.status, second.json()["error"]) == (409, "Conflict")


async def test_starting_a_run_with_unknown_references_is_404(api: Client) -> None:
    suite = await generate(api)

    no_suite = await api.post("/suite-runs", json={"suite": 999})
    no_env = await api.post("/suite-runs", json={"suite": suite["suite"], "environment": "x"})
    no_rows = await api.post("/suite-runs", json={"suite": suite["suite"], "data_set": "x"})

    assert [r.status for r in (no_suite, no_env, no_rows)] == [404, 404, 404]
    assert "no environment 'x'" in no_env.json()["message"]


async def test_reports_come_in_each_format_with_its_content_type(api: Client) -> None:
    suite = await generate(api)
    await configure(api)
    run = (await start_run(api, suite["suite"]))["suite_run"]
    await api.post(f"/suite-runs/{run}/cancel")

    junit = await api.get(f"/suite-runs/{run}/report?format=junit")
    as_json = await api.get(f"/suite-runs/{run}/report?format=json")
    html = await api.get(f"/suite-runs/{run}/report?format=html")
    default = await api.get(f"/suite-runs/{run}/report")

    assert junit.media_type == "application/xml"
    tests = list(etree.fromstring(junit.body).iter("testcase"))
    assert len(tests) == EXPECTED["test_runs"]
    assert as_json.media_type == "application/json"
    assert json.loads(as_json.body)["summary"]["status"] == "CANCELLED"
    assert html.media_type == "text/html"
    assert html.body.lstrip().lower().startswith(b"<!doctype html>")
    assert default.media_type == "application/json"
    assert json.loads(default.body)["format"] == "orchestra.report/1"
    assert f"orchestra-report-{run}.xml" in junit.headers["Content-Disposition"]


async def test_an_unknown_report_format_or_suite_run_is_refused(api: Client) -> None:
    suite = await generate(api)
    await configure(api)
    run = (await start_run(api, suite["suite"]))["suite_run"]
    wrong_format = await api.get(f"/suite-runs/{run}/report?format=pdf")
    no_run = await api.get("/suite-runs/999/report")
    no_progress = await api.get("/suite-runs/999")
    no_cancel = await api.post("/suite-runs/999/cancel")
    no_suite = await api.get("/suites/999")

    assert (wrong_format.status, wrong_format.json()["error"]) == (422, "RequestInvalid")
    assert [r.status for r in (no_run, no_progress, no_cancel, no_suite)] == [404] * 4


async def test_a_run_started_through_the_api_is_executed_by_workers_and_reported(
    api: Client, db: Database
) -> None:
    token = "sut-token"
    suite = await generate(api)
    rows = example_path(DATASET_FILE).read_text(encoding="utf-8")
    await api.post("/data-sets/customers", data=rows, headers=YAML)
    async with run_example_sut(token=token) as sut_url:
        environment = environment_text(sut_url)
        await api.post("/environments", data=environment, headers=YAML)
        run = (await start_run(api, suite["suite"]))["suite_run"]
        async with asyncio.timeout(120):  # workers elsewhere: here, in this process
            await running.work_until_done(
                db, run, executor_factory({TOKEN_VARIABLE: token}), workers=1
            )

    progress = (await api.get(f"/suite-runs/{run}")).json()
    report = (await api.get(f"/suite-runs/{run}/report?format=json")).json()
    assert progress["status"] == "FAILED"  # the example's planted defect
    assert progress["done"] == EXPECTED["test_runs"]
    assert progress["counts"] == {"PASSED": EXPECTED["passed"], "FAILED": EXPECTED["failed"]}
    assert report["summary"]["status"] == "FAILED"


async def test_values_postgresql_cannot_store_are_refused_with_422_not_500(api: Client) -> None:
    nul_in_ref = await api.post("/suites", json={"process": "order\u0000"})
    nul_in_name = await api.get("/processes/order%00")
    nul_in_text = await api.post("/environments", data=b"name: a\x00", headers=YAML)
    escaped = 'name: "a\\0b"\nservices:\n  orders:\n    base_url: http://127.0.0.1:9\n'
    nul_escaped_in_yaml = await api.post("/environments", data=escaped, headers=YAML)

    assert [r.status for r in (nul_in_ref, nul_in_name, nul_in_text)] == [422] * 3
    assert (nul_escaped_in_yaml.status, nul_escaped_in_yaml.json()["error"]) == (
        422,
        "ValueRefused",
    )
    assert (await api.get("/environments")).json() == []


async def test_not_found_is_404_worded_as_in_the_cli_with_the_apis_own_field_names(
    api: Client,
) -> None:
    suite_run = await api.get("/suite-runs/99")
    report = await api.get("/suites/4242/report")
    started = await api.post("/suite-runs", json={"suite": 4242})

    assert (suite_run.status, suite_run.json()) == (
        404,
        {
            "error": "NotFound",
            "message": "no suite run 99",
            "kind": "suite run",
            "reference": 99,
            "suite_run": 99,
        },
    )
    assert (report.status, report.json()["message"], report.json()["suite"]) == (
        404,
        "no suite 4242",
        4242,
    )
    assert (started.status, started.json()["message"]) == (404, "no suite 4242")
    for reply in (suite_run, report, started):
        assert "orchestra" not in reply.json()["message"]  # no CLI command quoted
        assert "hint" not in reply.json()


async def test_paths_and_a_new_suite_run_name_suites_and_suite_runs_as_the_cli_does(
    api: Client,
) -> None:
    suite = await generate(api)
    await configure(api)
    started = await api.post(
        "/suite-runs",
        json={"suite": "order_fulfilment:all-flows", "environment": "local"},
    )

    newest = await api.get("/suite-runs/latest")
    of_suite = await api.get("/suite-runs/order_fulfilment@1")
    shown = await api.get("/suites/order_fulfilment:all-flows")
    cancelled = await api.post("/suite-runs/latest/cancel")
    malformed = await api.get("/suites/order_fulfilment:every-flow")

    assert (started.status, started.json()["suite"]) == (201, suite["suite"])
    suite_run = started.json()["suite_run"]
    assert newest.json()["suite_run"] == suite_run
    assert of_suite.json()["suite_run"] == suite_run
    assert shown.json()["id"] == suite["suite"]
    assert (cancelled.status, cancelled.json()["suite_run"]) == (200, suite_run)
    assert (malformed.status, malformed.json()["error"]) == (400, "UsageError")
