"""The live suite run page and the test run page as the server draws them, after the example
ran against its real SUT: the diagram coloured with counts, failures first, the failed step
with its expected and actual, its request as curl with the secret masked."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import pytest

from orchestra.config import Settings
from orchestra.examples.order import EXPECTED
from orchestra.store.database import Database
from tests.integration.api.conftest import Client, serving
from tests.integration.api.test_test_runs import SUT_TOKEN, run_example

FAILED_AT = EXPECTED["failed_at"]


@pytest.fixture
async def open_api(settings: Settings) -> AsyncIterator[Client]:
    """The API and its pages without authentication (`serve --no-auth`)."""
    async with serving(settings, token=None) as client:
        yield client


def element_group(page: str, element: str) -> str:
    found = re.search(rf'<g class="el [^"]*" data-element="{element}"[^>]*>', page)
    assert found, element
    return found.group(0)


async def test_the_live_page_colours_the_diagram_and_lists_failures_first(
    open_api: Client, db: Database
) -> None:
    run = await run_example(open_api, db)

    reply = await open_api.get(f"/ui/suite-runs/{run}")
    page = reply.body.decode()

    assert reply.status == 200
    assert "script-src 'self'" in reply.headers["Content-Security-Policy"]
    assert 'data-outcome="failed"' in element_group(page, FAILED_AT)
    assert 'data-outcome="passed"' in element_group(page, "Task_CreateOrder")
    statuses = re.findall(r'<li class="live-run[^"]*" data-run="\d+" data-status="(\w+)"', page)
    assert statuses == ["FAILED"] * EXPECTED["failed"] + ["PASSED"] * EXPECTED["passed"]
    assert f'data-failed="{FAILED_AT}"' in page
    assert '<button type="button" id="cancel"' in page
    assert "hidden>Cancel" in page
    assert "/ui/static/live.js" in page


async def test_the_test_run_page_opens_at_the_failed_step_with_expected_and_actual(
    open_api: Client, db: Database
) -> None:
    run = await run_example(open_api, db)
    runs = (await open_api.get(f"/suite-runs/{run}/test-runs?status=FAILED")).json()
    failed = runs["test_runs"][0]["id"]

    reply = await open_api.get(f"/ui/test-runs/{failed}?element={FAILED_AT}")
    page = reply.body.decode()

    assert reply.status == 200
    focused = page.index('id="failed-step"')
    step = page[focused:]
    assert step.index(f'data-element="{FAILED_AT}"') < step.index("</details>")
    assert '<tr class="check-failed">' in step
    assert 'class="expected"' in step
    assert 'class="actual"' in step
    assert SUT_TOKEN not in page  # the secret masked, as in the reports
    # a command polled until it settled (Charge payment): sent once, then the last poll
    assert page.index("<h3>Command (sent once)</h3>") < page.index("<h3>Last poll: Request</h3>")
    curls = [html.unescape(c) for c in re.findall(r'class="curl-text">(.*?)</pre>', page, re.S)]
    assert curls
    assert all(c.startswith("curl") for c in curls)
    assert any("'Authorization: ***'" in c for c in curls)


async def test_an_unknown_test_run_or_suite_run_is_a_404_page(open_api: Client) -> None:
    assert (await open_api.get("/ui/test-runs/999")).status == 404
    reply = await open_api.get("/ui/suite-runs/999")
    assert reply.status == 404
    assert reply.media_type == "text/html"
