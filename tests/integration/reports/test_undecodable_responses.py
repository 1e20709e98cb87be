"""A SUT's bytes that are not UTF-8, from the wire to the reports: a response header's value
as aiohttp decodes it (undecodable bytes as lone surrogates, `surrogateescape`)."""

from __future__ import annotations

import asyncio
import json
import time

import jsonschema

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.records import Environment
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.reports.json_report import shipped_schema
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import reporting, running
from orchestra.store.database import Database
from tests.integration.runtime.support import scenario, step, store_suite

# b"caf\xe9 \xff" as aiohttp gives a header value holding it
UNDECODABLE = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")


class LatinHeaders:
    """Answers each step as a SUT sending a Latin-1 header value would be recorded."""

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        del ctx
        return StepOutcome(
            status=StepStatus.PASSED,
            started_at=time.time(),
            duration_ms=1.0,
            response={"status": 200, "headers": {"X-Note": UNDECODABLE}, "body": step.element_id},
            saved={"note": UNDECODABLE},
        )

    async def aclose(self) -> None:
        pass


async def test_a_header_value_that_is_not_utf8_is_stored_replaced_and_reported(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "a"), step(1, "b")])])
    suite_run = await running.start_suite_run(db, suite.id)

    async def build(environment: Environment | None) -> LatinHeaders:
        del environment
        return LatinHeaders()

    options = WorkerOptions(poll_seconds=0.05, lease_seconds=5)
    final, _ = await asyncio.wait_for(
        running.work_until_done(db, suite_run.id, build, options=options), timeout=30
    )
    assert final.counts == {TestRunStatus.PASSED: 1}
    report = await reporting.load_report(db, suite_run.id)
    (run,) = report.test_runs
    assert [s.response["headers"] for s in run.steps if s.response] == [
        {"X-Note": "caf\ufffd \ufffd"}
    ] * 2
    document = json.loads(await reporting.render_report(db, suite_run.id, "json"))
    jsonschema.validate(document, shipped_schema(), cls=jsonschema.Draft202012Validator)
