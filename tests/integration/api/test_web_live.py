"""The live suite run page and the test run page as the server draws them, after the example
ran against its real SUT: the diagram coloured with counts over every run, the first runs
listed failures first with a link to more, the failed step with its expected and actual, its
request as curl with the secret masked."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import pytest

from orchestra.config import Settings
from orchestra.examples.order import EXPECTED
from orchestra.reports.outcomes import element_outcomes
from orchestra.services import reporting
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
    assert 'id="more-runs"' not in page
    assert '<button type="button" id="cancel"' in page
    assert "hidden>Cancel" in page
    assert "/ui/static/live.js" in page


def listed(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<li class="live-run[^"]*" data-run="(\d+)" data-status="(\w+)"', page)


async def test_the_live_page_lists_the_first_runs_failures_first_and_counts_every_run(
    open_api: Client, db: Database
) -> None:
    run = await run_example(open_api, db)

    whole = (await open_api.get(f"/ui/suite-runs/{run}")).body.decode()
    reply = await open_api.get(f"/ui/suite-runs/{run}?runs=1")
    first = reply.body.decode()

    assert reply.status == 200
    assert len(listed(whole)) == EXPECTED["test_runs"]
    assert listed(first) == listed(whole)[:1]
    assert listed(first)[0][1] == "FAILED"
    assert f'href="/ui/suite-runs/{run}?runs=101#runs"' in first
    assert 'id="more-runs"' not in whole
    # the counts and the diagram are every run's, not the listed one's
    assert f'data-count="PASSED">{EXPECTED["passed"]}<' in first
    assert f"of {EXPECTED['test_runs']} ended" in first
    badge = re.search(rf'data-element="{FAILED_AT}".*?</g>', first, re.S)
    assert badge is not None
    assert f"{EXPECTED['failed']}✗" in badge.group(0)


async def test_a_page_of_runs_is_refused_beyond_its_bounds(open_api: Client, db: Database) -> None:
    run = await run_example(open_api, db)

    assert (await open_api.get(f"/ui/suite-runs/{run}?runs=0")).status == 422
    assert (await open_api.get(f"/ui/suite-runs/{run}?runs=10001")).status == 422


async def test_the_diagrams_counts_are_those_the_report_counts_over_every_run(
    open_api: Client, db: Database
) -> None:
    run = await run_example(open_api, db)

    counted = (await open_api.get(f"/suite-runs/{run}/elements")).json()["elements"]
    report = await reporting.load_report(db, run)

    outcomes = {e: o for e, o in element_outcomes(report).items() if o.passed or o.failed}
    assert {e: (c["passed"], c["failed"]) for e, c in counted.items() if "/" not in e} == {
        e: (o.passed, o.failed) for e, o in outcomes.items()
    }
    failing = [r.id for r in report.test_runs if r.is_failure]
    assert counted[FAILED_AT]["first_failed"] == min(failing)
    assert counted["Task_CreateOrder"]["first_failed"] is None


async def test_a_red_element_leads_to_the_step_that_failed_there_in_the_first_failing_run(
    open_api: Client, db: Database
) -> None:
    run = await run_example(open_api, db)
    failing = (await open_api.get(f"/suite-runs/{run}/test-runs?status=FAILED")).json()
    first = failing["test_runs"][0]["id"]

    red = await open_api.get(
        f"/ui/suite-runs/{run}/failed-at?element={FAILED_AT}", allow_redirects=False
    )
    green = await open_api.get(
        f"/ui/suite-runs/{run}/failed-at?element=Task_CreateOrder", allow_redirects=False
    )

    assert red.status == 303
    assert red.headers["Location"] == f"/ui/test-runs/{first}?element={FAILED_AT}#failed-step"
    assert green.status == 303
    assert green.headers["Location"] == f"/ui/suite-runs/{run}"


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
