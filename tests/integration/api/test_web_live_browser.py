"""The live pages in a real headless Chromium: the bundled example runs against its real SUT
while the suite run's page watches; it turns FAILED live with the planted defect's element red,
and a click on that element opens the failed step, expected against actual. A test run's page
opened while it runs shows its next steps and its final status without a reload. Nothing
leaves 127.0.0.1 and the console stays quiet."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from orchestra.config import Settings
from orchestra.examples.order import EXPECTED
from orchestra.examples.order.service import OrderService
from orchestra.reports.screenshot import CHROMIUM, chromium
from orchestra.store.database import Database
from tests.integration.api.conftest import TOKEN
from tests.support.live_example import LiveExample, live_example, sign_in, watched_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]
FAILED_AT = EXPECTED["failed_at"]
RED = "rgb(198, 40, 40)"
FAILED_SELECTOR = f"svg.bpmn g.el.failed[data-element={FAILED_AT}]"


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


async def test_the_live_page_turns_failed_as_the_example_runs_and_leads_to_the_failed_step(
    settings: Settings, db: Database, browser: Any
) -> None:
    async with live_example(settings, db, TOKEN) as example:
        watched = await example.watched_live_page(browser)
        page = watched.page
        before = await page.get_attribute("#live", "data-status")
        queued = await page.locator("#runs li[data-status=QUEUED]").count()

        await example.work()
        await page.wait_for_selector("#live[data-status=FAILED]")
        failed = page.locator(f"svg.bpmn g.el[data-element={FAILED_AT}]")
        # waits by selector: the page's CSP refuses the eval a wait_for_function would need
        await page.wait_for_selector(f"svg.bpmn g.el.failed[data-element={FAILED_AT}]")
        stroke = await failed.locator(".shape").evaluate("s => getComputedStyle(s).stroke")
        # the counts are read again from the server at most once a second as runs end
        await page.locator(
            f"{FAILED_SELECTOR} text.badge:has-text('{EXPECTED['failed']}✗')"
        ).wait_for()
        badge = await failed.locator("text.badge").text_content()
        statuses = await page.locator("#runs li").evaluate_all(
            "rows => rows.map(r => r.getAttribute('data-status'))"
        )
        await page.locator("#runs .run-why:not(:empty)").nth(EXPECTED["failed"] - 1).wait_for()
        cancel_hidden = await page.locator("#cancel").is_hidden()

        await failed.click()
        await page.wait_for_url("**/ui/test-runs/*")
        step = page.locator(f"#failed-step + details.step[data-element={FAILED_AT}]")
        opened = await step.get_attribute("open")
        expected = await step.locator("tr.check-failed code.expected").first.text_content()
        actual = await step.locator("tr.check-failed code.actual").first.text_content()
        curl = await step.locator(".curl-text").text_content()
        await step.locator("button.copy-curl").click()
        await page.wait_for_selector("button.copy-curl:text('Copied')")
        copied = await page.evaluate("navigator.clipboard.readText()")
        await asyncio.sleep(0.2)  # a late console error would land here

    assert before == "IN_PROGRESS"
    assert queued == EXPECTED["test_runs"]
    assert stroke == RED
    assert badge is not None
    assert f"{EXPECTED['failed']}✗" in badge
    assert statuses == ["FAILED"] * EXPECTED["failed"] + ["PASSED"] * EXPECTED["passed"]
    assert cancel_hidden
    assert opened is not None
    assert expected
    assert actual
    assert expected != actual
    assert curl is not None
    assert curl.startswith("curl")
    assert "Authorization: ***" in curl
    assert copied == curl
    assert watched.outside == []
    assert watched.problems == []


async def test_a_page_listing_the_first_run_adds_the_runs_that_fail_and_counts_every_run(
    settings: Settings, db: Database, browser: Any
) -> None:
    async with live_example(settings, db, TOKEN) as example:
        watched = await example.watched_live_page(browser, "?runs=1")
        page = watched.page
        listed_at_open = await page.locator("#runs li").count()

        await example.work()
        await page.wait_for_selector("#live[data-status=FAILED]")
        failed = page.locator(FAILED_SELECTOR)
        counted = f"{FAILED_SELECTOR} text.badge:has-text('{EXPECTED['failed']}✗')"
        await page.locator(counted).wait_for()  # read again from the server as runs ended
        await (
            page.locator("#runs li[data-status=FAILED] .run-why:not(:empty)")
            .nth(EXPECTED["failed"] - 1)
            .wait_for()
        )
        statuses = await page.locator("#runs li").evaluate_all(
            "rows => rows.map(r => r.getAttribute('data-status'))"
        )
        more = await page.locator("#more-runs").get_attribute("href")
        await failed.click()
        await page.wait_for_url("**/ui/test-runs/*#failed-step")

    assert listed_at_open == 1
    assert statuses[: EXPECTED["failed"]] == ["FAILED"] * EXPECTED["failed"]
    assert len(statuses) == EXPECTED["failed"] + 1
    assert more == f"/ui/suite-runs/{example.suite_run}?runs=101#runs"
    assert watched.outside == []
    assert watched.problems == []


async def test_the_cancel_button_cancels_the_suite_run_and_the_page_says_so_live(
    settings: Settings, db: Database, browser: Any
) -> None:
    async with live_example(settings, db, TOKEN) as example:  # no worker: it stays in progress
        watched = await example.watched_live_page(browser)
        page = watched.page

        await page.get_by_role("button", name="Cancel this suite run").click()
        await page.wait_for_selector("#live[data-status=CANCELLED]")
        statuses = await page.locator("#runs li").evaluate_all(
            "rows => rows.map(r => r.getAttribute('data-status'))"
        )
        stored = (await example.api.get(f"/suite-runs/{example.suite_run}")).json()["status"]
        cancel_hidden = await page.locator("#cancel").is_hidden()

    assert stored == "CANCELLED"
    assert statuses == ["CANCELLED"] * EXPECTED["test_runs"]
    assert cancel_hidden
    assert watched.outside == []
    assert watched.problems == []


async def a_running_test_run(example: LiveExample) -> int:
    """A test run of the example that is RUNNING and recorded a step (its first request
    answered, the orders settling slowly after it)."""
    async with asyncio.timeout(60):
        while True:
            async with example.db.transaction() as uow:
                runs = await uow.runs.test_runs(example.suite_run)
                recorded = await uow.runs.step_results([r.id for r in runs])
            ran = {result.test_run_id for result in recorded}
            running = [r.id for r in runs if r.status.value == "RUNNING" and r.id in ran]
            if running:
                return running[0]
            await asyncio.sleep(0.05)


async def test_a_test_run_page_shows_steps_as_they_are_recorded_and_its_final_status(
    settings: Settings, db: Database, browser: Any
) -> None:
    slow = OrderService(delay_s=(1.5, 1.5))  # each order settles 1.5 s after a command
    async with live_example(settings, db, TOKEN, service=slow) as example:
        watched = await watched_page(browser)
        page = watched.page
        await sign_in(page, example.api)
        working = asyncio.create_task(example.work())
        try:
            run = await a_running_test_run(example)
            await page.goto(f"{example.api.url}/ui/test-runs/{run}")
            await page.evaluate("() => { window.notReloaded = true; }")
            status_at_open = await page.get_attribute("#test-run", "data-status")
            steps_at_open = await page.locator("details.step:not(.SKIPPED)").count()
            await page.wait_for_selector("#live-note:text('live')")  # the stream is open
            first_step = await page.locator("details.step").first.get_attribute("id")
            await page.locator(f"#{first_step} summary").focus()  # the keyboard on a step

            ended = "#test-run:is([data-status=PASSED], [data-status=FAILED])"
            await page.wait_for_selector(ended, timeout=60_000)
            steps_at_end = await page.locator("details.step:not(.SKIPPED)").count()
            status = await page.locator("#test-run-status").text_content()
            await page.wait_for_selector("#live-note:text('ended')")  # the stream closed
            not_reloaded = await page.evaluate("() => window.notReloaded === true")
            focused = await page.evaluate("() => document.activeElement.closest('details')?.id")
        finally:
            await working
        stored = (await example.api.get(f"/test-runs/{run}")).json()

    assert status_at_open == "RUNNING"
    assert steps_at_end > steps_at_open
    assert steps_at_end == len([s for s in stored["steps"] if s["status"] != "SKIPPED"])
    assert status == stored["status"]
    assert not_reloaded
    assert focused == first_step  # kept on its step however often the page was drawn again
    assert watched.outside == []
    assert watched.problems == []
