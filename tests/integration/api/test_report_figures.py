"""One suite run's figures agree wherever they are read: the API's progress, the JSON report
and the JUnit report it serves."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import jsonschema

from orchestra.reports.json_report import shipped_schema
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.api.conftest import Client
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    step,
    store_suite,
)


async def test_progress_json_and_junit_count_the_same_runs_in_the_same_statuses(
    api: Client, db: Database
) -> None:
    suite = await store_suite(
        db,
        [
            scenario("good", [step(0, "a")]),
            scenario("bad", [step(0, "a"), step(1, "b", result="FAILED"), step(2, "c")]),
            scenario("broken", [step(0, "d", result="ERROR")]),
            scenario("after good failed", [step(0, "e")], "good", outcome="FAILED"),
        ],
    )
    suite_run = await running.start_suite_run(db, suite.id)
    await running.work_until_done(
        db, suite_run.id, factory_for(ScriptedExecutor()), options=WorkerOptions(poll_seconds=0.05)
    )

    progress = (await api.get(f"/suite-runs/{suite_run.id}")).json()
    expected = {"PASSED": 1, "FAILED": 1, "ERROR": 1, "SKIPPED": 1}
    assert (progress["status"], progress["counts"], progress["done"]) == ("FAILED", expected, 4)

    document = json.loads((await api.get(f"/suite-runs/{suite_run.id}/report?format=json")).body)
    jsonschema.validate(document, shipped_schema(), cls=jsonschema.Draft202012Validator)
    summary = document["summary"]
    assert {status: n for status, n in summary["by_status"].items() if n} == expected
    assert (summary["status"], summary["test_runs"]) == ("FAILED", 4)

    junit = (await api.get(f"/suite-runs/{suite_run.id}/report?format=junit")).body
    suite_xml = ET.fromstring(junit).find("testsuite")
    assert suite_xml is not None
    totals = {key: suite_xml.get(key) for key in ("tests", "failures", "errors", "skipped")}
    assert totals == {"tests": "4", "failures": "1", "errors": "1", "skipped": "1"}
    kinds = {case.get("name"): [child.tag for child in case] for case in suite_xml.iter("testcase")}
    assert kinds == {
        "good": ["system-out"],
        "bad": ["failure", "system-out"],
        "broken": ["error", "system-out"],
        "after good failed": ["skipped", "system-out"],
    }
