"""Called processes on reports built from the store: import a caller and the processes it calls,
generate, run against a real SUT on 127.0.0.1, and find each inlined call drawn and marked."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import pytest
from lxml import html as lxml_html

from orchestra.binding.factory import executor_factory
from orchestra.binding.yamlsource import Source
from orchestra.domain.statuses import SuiteRunStatus
from orchestra.reports.html import render_html, render_suite_html
from orchestra.reports.json_report import render_json, shipped_schema
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import generating, importing, reporting, running
from orchestra.services.config import apply_environment
from orchestra.store.database import Database
from tests.integration.executor_sut import SutState, running_sut
from tests.support.call_process import (
    CAPTURE,
    CHECKOUT_BINDINGS,
    CHECKOUT_BPMN,
    FRAUD_BPMN,
    PAYMENT_BPMN,
)

FAST = WorkerOptions(concurrency=2, lease_seconds=5, poll_seconds=0.05, sweep_seconds=0.1)


@pytest.fixture
async def sut() -> AsyncIterator[SutState]:
    async with running_sut() as state:
        yield state


async def checkout_suite(db: Database) -> dict[str, Any]:
    async with db.transaction() as uow:
        for name, data in (
            ("payment.bpmn", PAYMENT_BPMN),
            ("fraud.bpmn", FRAUD_BPMN),
            ("checkout.bpmn", CHECKOUT_BPMN),
        ):
            await importing.import_bpmn(uow, data, source=name)
    return await generating.generate(
        db, "Checkout", bindings=Source("bindings.yaml", CHECKOUT_BINDINGS)
    )


def group(document: Any, call: str, element: str) -> Any:
    (found,) = document.xpath(f"//section[@id='call-{call}']//g[@data-element='{element}']")
    return found


async def test_a_generated_suite_keeps_the_versions_it_inlined(db: Database) -> None:
    summary = await checkout_suite(db)

    assert summary["parameters"]["inlined_calls"] == ["FraudCheck", "Payment"]
    assert summary["parameters"]["called_versions"] == {"FraudCheck": 1, "Payment": 1}
    assert summary["unbound"] == []


async def test_the_coverage_page_draws_the_version_the_suite_inlined(db: Database) -> None:
    summary = await checkout_suite(db)
    newer = PAYMENT_BPMN.replace(b'name="Capture"', b'name="Capture funds"')
    async with db.transaction() as uow:
        imported = await importing.import_bpmn(uow, newer, source="payment-2.bpmn")
    assert imported.processes[0].stored.version == 2

    report = await reporting.load_suite_report(db, summary["suite"])

    assert [(c.call, c.key, c.version) for c in report.process.calls] == [
        ("Call_Pay", "Payment", 1),
        ("Call_Pay/Call_Fraud", "FraudCheck", 1),
    ]
    document: Any = lxml_html.fromstring(render_suite_html(report))
    capture = group(document, "Call_Pay", CAPTURE)
    assert capture.get("data-coverage") == "covered"
    assert "Capture funds" not in capture.xpath("./title")[0].text


async def test_a_run_against_the_sut_shows_where_inside_the_call_it_failed(
    db: Database, sut: SutState, tmp_path: Any
) -> None:
    summary = await checkout_suite(db)
    environment = tmp_path / "env.yaml"
    environment.write_text(f'name: local\nservices: {{api: {{base_url: "{sut.base_url}"}}}}\n')
    await apply_environment(db, environment)
    suite_run = await running.start_suite_run(db, summary["suite"], environment="local")
    progress, _ = await asyncio.wait_for(
        running.work_until_done(
            db, suite_run.id, executor_factory({}), workers=1, options=FAST, poll_seconds=0.05
        ),
        timeout=30,
    )
    assert progress.suite_run.status is SuiteRunStatus.FAILED

    report = await reporting.load_report(db, suite_run.id)
    document: Any = lxml_html.fromstring(render_html(report))

    main_svg = document.xpath("//main/div[@class='diagram']/svg")[0]
    (pay,) = main_svg.xpath(".//g[@data-element='Call_Pay']")
    assert pay.get("data-outcome") == "failed"
    assert group(document, "Call_Pay", "Call_Pay/Task_Authorize").get("data-outcome") == "passed"
    assert group(document, "Call_Pay", CAPTURE).get("data-outcome") == "failed"
    score = group(document, "Call_Pay/Call_Fraud", "Call_Pay/Call_Fraud/Task_Score")
    assert score.get("data-outcome") == "passed"
    ids = Counter(element.get("id") for element in document.iter() if element.get("id"))
    assert [key for key, seen in ids.items() if seen > 1] == []
    (link,) = document.xpath(f"//details[contains(@class, 'FAILED')]//a[@href='#el-{CAPTURE}']")
    assert link.text_content() == "in Pay"
    published = json.loads(render_json(report))
    jsonschema.validate(published, shipped_schema(), cls=jsonschema.Draft202012Validator)
    assert len(published["report"]["process"]["calls"]) == 2
