"""A step re-executed after a lost lease, or after its worker stopped the run mid-step and
released it (a drain past its deadline, the database out of reach: see test_left_runs), is a
re-send: recorded with the claim that left it in flight and what ended it, shown by every
report, and judged as the SUT's replay of the first answer, never a false verdict blaming the
SUT for the worker's crash."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from junitparser import JUnitXml

from orchestra.binding.executor import StepExecutor
from orchestra.domain.execution import RunIdentity, StepContext, StepOutcome
from orchestra.domain.records import Environment
from orchestra.domain.scenario import ScenarioStep, TestScenario
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.examples.order.sut import run_example_sut
from orchestra.reports import render
from orchestra.reports.model import RunReport
from orchestra.reports.text import step_lines
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import reporting, running
from orchestra.store.database import Database
from tests.integration.executor_sut import bound_step, context, environment, running_sut
from tests.integration.runtime.support import (
    ScriptedExecutor,
    expire_leases,
    factory_for,
    scenario,
    step,
    store_suite,
    until,
)

ORDER = {
    "customer": "ada",
    "items": [{"sku": "BOOK-1", "quantity": 1}],
    "address": {"country": "FR"},
}
CREATE = {
    "action": {"method": "POST", "service": "api", "path": "/orders", "json": ORDER},
    "checks": [{"status": 201}],
    "save": {"order_id": "$.id"},
}
READ = {
    "action": {"service": "api", "path": "/orders/{{ vars.order_id }}"},
    "checks": [{"status": 200}, {"jsonpath": "$.customer", "eq": "ada"}],
}


@pytest.fixture
async def example_url() -> AsyncIterator[str]:
    async with run_example_sut() as base_url:
        yield base_url


async def sent_then_lost_then_finished(
    db: Database, example_url: str, only: TestScenario
) -> tuple[StepOutcome, RunReport]:
    """Worker-a claims the suite's one run and sends its first step (the SUT acts on it), then
    dies before its checkpoint; once its lease has expired, a worker finishes the run, which
    passes. What worker-a's send got back, and the suite run's report."""
    suite = await store_suite(db, [only])
    suite_run = await running.start_suite_run(db, suite.id)
    async with db.transaction() as uow:
        (lost,) = await uow.runs.claim("worker-a", 1, lease_seconds=60)
    async with StepExecutor(environment(example_url), {}) as executor:
        identity = RunIdentity(
            suite_run_id=lost.suite_run_id, test_run_id=lost.id, scenario=only.name, attempt=1
        )
        sent = await executor.execute(suite.scenarios[0].steps[0].step, StepContext(run=identity))
    assert sent.status is StepStatus.PASSED, sent.error
    await expire_leases(db, lost.id)

    async def real_executor(env: Environment | None) -> StepExecutor:
        del env
        return StepExecutor(environment(example_url), {})

    await running.work_until_done(
        db, suite_run.id, real_executor, options=WorkerOptions(poll_seconds=0.05)
    )
    report = await reporting.load_report(db, suite_run.id)
    (run,) = report.test_runs
    assert run.status is TestRunStatus.PASSED, run.error
    return sent, report


async def test_a_step_sent_again_after_a_lost_lease_is_a_re_send_that_passes(
    db: Database, example_url: str
) -> None:
    steps = [
        bound_step(CREATE, element="Task_Create", position=0),
        bound_step(READ, element="Task_Read", position=1),
    ]
    sent, report = await sent_then_lost_then_finished(db, example_url, scenario("create", steps))
    (run,) = report.test_runs
    create, read = run.steps
    assert (create.resent_after, read.resent_after) == (1, None)
    assert create.response is not None
    assert sent.response is not None
    assert create.response["json"]["id"] == sent.response["json"]["id"]  # one order, replayed
    assert "re-sent after claim 1 lost its lease" in step_lines(create, 2)[0]
    document = json.loads(render(report, "json", all_runs=True))
    steps_json = document["report"]["test_runs"][0]["steps"]
    assert [s["resent_after"] for s in steps_json] == [1, None]
    assert ">re-sent</span>" in render(report, "html", all_runs=True)
    (case,) = [c for s in JUnitXml.fromstring(render(report, "junit").encode()) for c in s]
    assert "re-sent after claim 1 lost its lease" in case.system_out


async def test_a_re_send_accepts_the_replay_statuses_of_its_action() -> None:
    binding = {
        "action": {"path": "/ok", "replay": {"status": [200]}},
        "checks": [{"status": 201}],
    }
    async with running_sut() as sut, StepExecutor(environment(sut.base_url), {}) as executor:
        first = await executor.execute(bound_step(binding), context())
        again = await executor.execute(bound_step(binding), context(resending=1))
    assert first.status is StepStatus.FAILED  # a first send is judged by its checks alone
    assert first.resent_after is None
    assert again.status is StepStatus.PASSED, again.error
    assert again.resent_after == 1
    (status,) = again.checks
    assert status.message is not None
    assert "replay.status: [200]" in status.message


async def test_a_re_send_outside_the_replay_statuses_still_fails() -> None:
    binding = {"action": {"path": "/ok", "replay": {"status": [409]}}, "checks": [{"status": 201}]}
    async with running_sut() as sut, StepExecutor(environment(sut.base_url), {}) as executor:
        again = await executor.execute(bound_step(binding), context(resending=1))
    assert again.status is StepStatus.FAILED


async def test_a_polled_command_re_sent_after_a_lost_lease_gets_its_original_answer_and_passes(
    db: Database, example_url: str
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{example_url}/orders", json=ORDER) as created,
    ):
        order_id = (await created.json())["id"]
    path = "/orders/{{ data.order_id }}"
    reserve = {
        "action": {"method": "POST", "service": "api", "path": path + "/reservation"},
        "checks": [{"jsonpath": "$.reservation.state", "eq": "RESERVED"}],
        "eventually": {"timeout": 10, "interval": 0.05,
                       "poll": {"path": path}},
    }  # fmt: skip
    step = bound_step(reserve, element="Task_Reserve", position=0, data={"order_id": order_id})
    # worker-a sends the command and polls it to the end before it dies
    sent, report = await sent_then_lost_then_finished(db, example_url, scenario("reserve", [step]))
    (run,) = report.test_runs
    (resent,) = run.steps
    assert resent.resent_after == 1
    assert resent.command is not None
    assert sent.command is not None
    # the SUT replayed the command's original answer, body included: 202 with PENDING
    assert resent.command["response"]["status"] == 202
    assert resent.command["response"]["json"] == sent.command["response"]["json"]
    assert resent.command["response"]["json"]["reservation"]["state"] == "PENDING"
    assert resent.response is not None
    assert resent.response["json"]["reservation"]["state"] == "RESERVED"  # the last poll
    assert resent.response["json"]["history"].count("reservation RESERVED") == 1  # acted once
    lines = step_lines(resent, 2)
    assert any(line.startswith("  command:  ") for line in lines)
    assert any(line.startswith("  last poll response: ") for line in lines)
    document = json.loads(render(report, "json", all_runs=True))
    (step_json,) = document["report"]["test_runs"][0]["steps"]
    assert step_json["command"]["response"]["status"] == 202
    assert "command (sent once)" in render(report, "html", all_runs=True)
    (case,) = [c for s in JUnitXml.fromstring(render(report, "junit").encode()) for c in s]
    assert "  command:  " in case.system_out


class HangsUnderTheFirstClaim(ScriptedExecutor):
    """Step 1 never answers under the run's first claim (a drain must cut it short)."""

    hung = False

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        if step.position == 1 and ctx.run.attempt == 1:
            self.hung = True
            await asyncio.Event().wait()
        return await super().execute(step, ctx)


async def test_a_step_a_drain_cut_short_is_a_re_send_when_its_run_is_claimed_again(
    db: Database,
) -> None:
    suite = await store_suite(db, [scenario("slow", [step(0, "a"), step(1, "b"), step(2, "c")])])
    suite_run = await running.start_suite_run(db, suite.id)
    executor = HangsUnderTheFirstClaim()
    options = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.05, drain_seconds=0.3)
    stop = asyncio.Event()
    task = asyncio.create_task(
        Worker(db.pool, factory_for(executor), options, worker_id="w1").run(stop)
    )
    await until(lambda: executor.hung, "step b is sent")
    stop.set()  # the drain's deadline passes with step b in flight: stopped, released
    assert (await asyncio.wait_for(task, timeout=10)).released == 1

    await running.work_until_done(db, suite_run.id, factory_for(executor), options=options)
    report = await reporting.load_report(db, suite_run.id)
    (run,) = report.test_runs
    assert run.status is TestRunStatus.PASSED, run.error
    resent = [(s.position, s.resent_after, s.resent_cause, s.resent_by) for s in run.steps]
    assert resent == [(0, None, None, None), (1, 1, "drained", "w1"), (2, None, None, None)]
    assert (
        "re-sent after worker w1 stopped claim 1 mid-step as it shut down"
        in step_lines(run.steps[1], run.try_of(run.steps[1].attempt))[0]
    )
    assert run.attempts == 1  # no lease lost: the same try
