"""How many requests a step made (retries, `eventually` polls) survives the database: both
checkpoint statements store it, the loader reads it back, and every format shows it."""

from __future__ import annotations

import json
import re

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.scenario import ScenarioStep
from orchestra.reports import render
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import reporting, running
from orchestra.store.database import Database
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    step,
    store_suite,
)


class PollingExecutor(ScriptedExecutor):
    """The scripted executor, reporting the `requests` of each step's spec as made."""

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        outcome = await super().execute(step, ctx)
        return outcome.model_copy(update={"attempts": int(step.spec.get("requests", 1))})


async def test_each_steps_request_count_is_stored_and_shown_where_it_made_more_than_one(
    db: Database,
) -> None:
    # a step exporting values is written by `checkpoint`, the others by `checkpoint_many`
    # (the last with the run's completion)
    steps = [
        step(0, "create", export={"orderId": "o-1"}, requests=3),
        step(1, "poll", requests=30),
        step(2, "ship"),
        step(3, "check", requests=2),
    ]
    suite = await store_suite(db, [scenario("s", steps)])
    suite_run = await running.start_suite_run(db, suite.id)
    await running.work_until_done(
        db,
        suite_run.id,
        factory_for(PollingExecutor()),
        options=WorkerOptions(poll_seconds=0.05),
    )
    report = await reporting.load_report(db, suite_run.id)
    (run,) = report.test_runs
    assert [(s.element_id, s.status.value, s.requests) for s in run.steps] == [
        ("create", "PASSED", 3),
        ("poll", "PASSED", 30),
        ("ship", "PASSED", 1),
        ("check", "PASSED", 2),
    ]

    junit = render(report, "junit")
    assert "#1 ACTION poll: PASSED in" in junit
    assert "(try 1, 30 requests)" in junit
    assert re.search(r"#2 ACTION ship: PASSED in \d+ ms \(try 1\)\n", junit), "1 goes unsaid"
    html = render(report, "html")
    assert html.count(" requests</span>") == 3
    assert "· 30 requests</span>" in html
    document = json.loads(render(report, "json"))
    assert [s["requests"] for s in document["report"]["test_runs"][0]["steps"]] == [3, 30, 1, 2]


async def test_a_result_that_leaves_its_request_count_out_reads_as_one_request(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("s", [step(0, "a")])])
    suite_run = await running.start_suite_run(db, suite.id)
    await running.work_until_done(
        db, suite_run.id, factory_for(ScriptedExecutor()), options=WorkerOptions(poll_seconds=0.05)
    )
    async with db.pool.connection() as conn:
        cursor = await conn.execute("SELECT attempts FROM step_result")
        assert [row["attempts"] for row in await cursor.fetchall()] == [1]
