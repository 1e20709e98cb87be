"""The live suite run page in a real headless Chromium: the bundled example runs against its
real SUT while the page watches; it turns FAILED live with the planted defect's element red,
and a click on that element opens the failed step, expected against actual. Nothing leaves
127.0.0.1 and the console stays quiet."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from orchestra.config import Settings
from orchestra.examples.order import EXPECTED
from orchestra.reports.screenshot import CHROMIUM, chromium
from orchestra.store.database import Database
from tests.integration.api.conftest import TOKEN
from tests.support.live_example import live_example, sign_in, watched_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]
FAILED_AT = EXPECTED["failed_at"]
RED = "rgb(198, 40, 40)"


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


async def test_the_live_page_turns_failed_as_the_example_runs_and_leads_to_the_failed_step(
    settings: Settings, db: Database, browser: Any
) -> None:
    async with live_example(settings, db, TOKEN) as example:
        watched = await watched_page(browser)
        page = watched.page
        await sign_in(page, example.api)
        await page.goto(f"{example.api.url}/ui/suite-runs/{example.suite_run}")
        await page.wait_for_selector("#live-note:text('live')")  # the stream is open
        before = await page.get_attribute("#live", "data-status")
        queued = await page.locator("#runs li[data-status=QUEUED]").count()

        await example.work()
        await page.wait_for_selector("#live[data-status=FAILED]")
        failed = page.locator(f"svg.bpmn g.el[data-element={FAILED_AT}]")
        await page.wait_for_function(
            f"document.querySelector('svg.bpmn g.el[data-element={FAILED_AT}]')"
            ".classList.contains('failed')"
        )
        stroke = await failed.locator(".shape").evaluate("s => getComputedStyle(s).stroke")
        badge = await failed.locator("text.badge").text_content()
        statuses = await page.locator("#runs li").evaluate_all(
            "rows => rows.map(r => r.getAttribute('data-status'))"
        )
        await page.wait_for_function(
            "document.querySelectorAll('#runs .run-why:not(:empty)').length"
            f" >= {EXPECTED['failed']}"
        )
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


async def test_the_cancel_button_cancels_the_suite_run_and_the_page_says_so_live(
    settings: Settings, db: Database, browser: Any
) -> None:
    async with live_example(settings, db, TOKEN) as example:  # no worker: it stays in progress
        watched = await watched_page(browser)
        page = watched.page
        await sign_in(page, example.api)
        await page.goto(f"{example.api.url}/ui/suite-runs/{example.suite_run}")
        await page.wait_for_selector("#live-note:text('live')")

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
