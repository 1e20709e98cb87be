"""The web UI in a real headless Chromium (Debian's, driven by Playwright), against a real API
server on 127.0.0.1 and the bundled example SUT: sign in, see the demo's failed suite run,
start a run from the page and watch its row end live, cancel one, walk every page from the
keyboard; no request leaves 127.0.0.1 and the console stays quiet."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from orchestra.binding.factory import executor_factory
from orchestra.examples.order import TOKEN_VARIABLE, environment_text
from orchestra.examples.order.sut import run_example_sut
from orchestra.reports.screenshot import CHROMIUM, chromium
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.api.conftest import TOKEN, Client, serving
from tests.integration.api.test_suites_and_runs import YAML, configure, generate, start_run

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: `apt-get install -y chromium chromium-driver`",
    ),
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
SUT_TOKEN = "web-browser-sut-token"


@dataclass
class Session:
    """The browser's page, what it asked for outside 127.0.0.1 and what its console said."""

    page: Any
    api: Client
    suite: int
    demo_run: int
    outside: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    async def row_status(self, run: int) -> str:
        locator = self.page.locator(f'tr[data-suite-run="{run}"] [data-field="status"]')
        return str(await locator.text_content())


async def work(db: Database, run: int) -> None:
    """Workers, here in the test's process, execute the suite run to its end."""
    async with asyncio.timeout(120):
        await running.work_until_done(
            db, run, executor_factory({TOKEN_VARIABLE: SUT_TOKEN}), workers=1
        )


@pytest.fixture
async def session(settings: Any, db: Database) -> AsyncIterator[Session]:
    async with (
        run_example_sut(token=SUT_TOKEN) as sut_url,
        serving(settings, token=TOKEN) as api,
        chromium() as browser,
    ):
        suite = (await generate(api))["suite"]
        await configure(api)
        await api.post("/environments", data=environment_text(sut_url), headers=YAML)
        demo_run = (await start_run(api, suite))["suite_run"]
        await work(db, demo_run)  # the demo's run: FAILED by the planted defect
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        page = await context.new_page()
        page.set_default_timeout(10_000)
        opened = Session(page, api, suite, demo_run)
        await _watch(page, opened)
        yield opened
        await context.close()


async def _watch(page: Any, session: Session) -> None:
    async def only_here(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            session.outside.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_here)
    page.on(
        "console",
        lambda m: session.problems.append(m.text) if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda error: session.problems.append(str(error)))


async def sign_in(session: Session) -> None:
    page = session.page
    await page.goto(session.api.url + "/")
    assert "/ui/sign-in" in page.url
    await page.fill("#token", TOKEN)
    await page.press("#token", "Enter")
    await page.wait_for_url("**/ui/suite-runs")


async def test_sign_in_see_the_demo_run_start_one_and_watch_it_fail_live(
    session: Session, db: Database
) -> None:
    page = session.page
    await sign_in(session)
    assert await session.row_status(session.demo_run) == "FAILED"
    await page.select_option('#start-form select[name="suite"]', str(session.suite))
    await page.select_option('#start-form select[name="environment"]', "local")
    await page.select_option('#start-form select[name="data_set"]', "customers")

    await page.click('#start-form button[type="submit"]')
    await page.wait_for_url("**/ui/suite-runs?started=*")
    started = int(page.url.rsplit("=", 1)[1])
    assert await session.row_status(started) == "IN_PROGRESS"
    await work(db, started)  # the row turns FAILED in place, without a reload
    await page.wait_for_function(
        f"""() => document.querySelector('tr[data-suite-run="{started}"]')
                 .dataset.status === "FAILED" """
    )

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "web-suite-runs.png"))
    assert page.url.endswith(f"?started={started}")  # the same page, updated in place
    assert "FAILED 2" in str(
        await page.locator(f'tr[data-suite-run="{started}"] [data-field="counts"]').text_content()
    )
    actions = page.locator(f'tr[data-suite-run="{started}"] .actions')
    assert not await actions.locator('form[action$="/cancel"]').count()
    assert await actions.get_by_role("button", name="Re-run failed").count() == 1
    assert session.outside == []
    assert session.problems == []


async def test_cancel_a_running_suite_run_from_the_page(session: Session) -> None:
    page = session.page
    run = (await start_run(session.api, session.suite))["suite_run"]
    await sign_in(session)
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))

    await page.click(f'tr[data-suite-run="{run}"] form[action$="/cancel"] button')
    await page.wait_for_load_state()

    await page.wait_for_function(
        f"""() => document.querySelector('tr[data-suite-run="{run}"] [data-field="status"]')
                 .textContent === "CANCELLED" """
    )
    assert (await session.api.get(f"/suite-runs/{run}")).json()["status"] == "CANCELLED"
    assert session.outside == []
    assert session.problems == []


async def test_every_page_opens_from_the_keyboard_without_console_errors(
    session: Session,
) -> None:
    page = session.page
    ARTIFACTS.mkdir(exist_ok=True)
    await sign_in(session)
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to the content"
    await page.keyboard.press("Tab")  # the focus ring shows where the keyboard is
    assert await page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    visited = []
    for label in ("Processes", "Suites", "Environments", "Data sets", "Suite runs"):
        link = page.get_by_role("link", name=label, exact=True)
        await link.focus()
        await page.keyboard.press("Enter")
        await page.wait_for_load_state()
        visited.append(await page.locator("h1").first.text_content())
        if label == "Suites":
            await page.get_by_role("link", name=f"#{session.suite}", exact=True).first.click()
            await page.wait_for_load_state()
            assert await page.locator('svg.bpmn [data-coverage="covered"]').count() > 0
            await page.screenshot(path=str(ARTIFACTS / "web-suite.png"))
        if label == "Processes":
            await page.get_by_role("link", name="order_fulfilment").click()
            await page.wait_for_load_state()
            assert await page.locator("svg.bpmn .el").count() > 0
            await page.screenshot(path=str(ARTIFACTS / "web-process.png"))
        if label in ("Environments", "Data sets"):
            await page.screenshot(
                path=str(ARTIFACTS / f"web-{label.lower().replace(' ', '-')}.png")
            )

    assert visited == ["Processes", "Suites", "Environments", "Data sets", "Suite runs"]
    assert session.outside == []
    assert session.problems == []


async def test_signing_out_leads_back_to_the_sign_in_page(session: Session) -> None:
    page = session.page
    await sign_in(session)

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/ui/sign-in")
    await page.goto(session.api.url + "/ui/suites")

    assert "/ui/sign-in?next=%2Fui%2Fsuites" in page.url
    assert session.problems == []
