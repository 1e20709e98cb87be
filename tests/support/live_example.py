"""The bundled example's suite run served live: the API with its pages on 127.0.0.1, the example
configured, its SUT up, a suite run started and no worker yet; and a Chromium page on the live
suite run page that notes every request leaving 127.0.0.1 and every console error.

Used by the browser tests and by `make screenshot-ui` (`python -m tests.support.live_example
docs/images/live-suite-run.png`), which runs it on a throwaway PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from orchestra.binding.factory import executor_factory
from orchestra.config import Settings
from orchestra.examples.order import DATASET_FILE, TOKEN_VARIABLE, environment_text, example_path
from orchestra.examples.order.service import OrderService
from orchestra.examples.order.sut import run_example_sut
from orchestra.services import running
from orchestra.store.database import Database, ServerInfo, connect_pool
from tests.integration.api.conftest import Client, serving
from tests.integration.api.test_suites_and_runs import YAML, generate, start_run

SUT_TOKEN = "sut-token"
LOCAL_HOSTS = frozenset({"127.0.0.1"})


@dataclass
class LiveExample:
    api: Client
    db: Database
    suite_run: int

    async def work(self) -> None:
        """Execute the suite run to its end with one worker in this process."""
        factory = executor_factory({TOKEN_VARIABLE: SUT_TOKEN})
        async with asyncio.timeout(120):
            await running.work_until_done(self.db, self.suite_run, factory, workers=1)

    async def watched_live_page(self, browser: Any, query: str = "") -> Watched:
        """A signed-in page on the suite run's live page (`query` added to its URL), once its
        event stream is open."""
        watched = await watched_page(browser)
        await sign_in(watched.page, self.api)
        await watched.page.goto(f"{self.api.url}/ui/suite-runs/{self.suite_run}{query}")
        await watched.page.wait_for_selector("#live-note:text('live')")
        return watched


@contextlib.asynccontextmanager
async def live_example(
    settings: Settings, db: Database, token: str | None, service: OrderService | None = None
) -> AsyncIterator[LiveExample]:
    """`service`: the SUT's orders (one that settles them slowly keeps runs running longer)."""
    sut_up = run_example_sut(token=SUT_TOKEN, service=service)
    async with serving(settings, token=token) as api, sut_up as sut:
        suite = await generate(api)
        rows = example_path(DATASET_FILE).read_text(encoding="utf-8")
        assert (await api.post("/data-sets/customers", data=rows, headers=YAML)).status == 201
        environment = environment_text(sut)
        assert (await api.post("/environments", data=environment, headers=YAML)).status == 201
        suite_run = (await start_run(api, suite["suite"]))["suite_run"]
        yield LiveExample(api, db, suite_run)


@dataclass
class Watched:
    """A browser page, with what left 127.0.0.1 (refused) and what its console said."""

    page: Any
    outside: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


async def watched_page(browser: Any, width: int = 1280, height: int = 800) -> Watched:
    # reduced motion: a row that changed does not flash (a screenshot shows it settled)
    size = {"width": width, "height": height}
    context = await browser.new_context(viewport=size, reduced_motion="reduce")
    await context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = await context.new_page()
    page.set_default_timeout(20_000)
    watched = Watched(page)

    async def only_local(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            watched.outside.append(url)
            await route.abort()

    await page.route("**/*", only_local)
    page.on(
        "console",
        lambda m: watched.problems.append(m.text) if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda error: watched.problems.append(str(error)))
    return watched


async def sign_in(page: Any, api: Client) -> None:
    """Through the sign-in page, with the server's token (nothing to do without one)."""
    if api.token is None:
        return
    await page.goto(f"{api.url}/ui/sign-in")
    await page.get_by_label("API token").fill(api.token)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{api.url}/ui/**")


async def screenshot(target: Path) -> None:
    """The live page of the example's suite run as it ended FAILED, at 1280 wide."""
    from bench.support import scratch_postgres

    from orchestra.reports.screenshot import chromium
    from orchestra.store import migrate

    with scratch_postgres() as url:
        await asyncio.to_thread(migrate.upgrade, url)
        settings = Settings(home=Path(tempfile.mkdtemp(prefix="orchestra-ui-")), database_url=url)
        async with (
            connect_pool(url, max_size=4, upgrade=False) as pool,
            live_example(
                settings, Database(pool, ServerInfo(url=url, embedded=False)), None
            ) as example,
            chromium() as browser,
        ):
            watched = await watched_page(browser)
            await watched.page.goto(f"{example.api.url}/ui/suite-runs/{example.suite_run}")
            await example.work()
            await watched.page.wait_for_selector("#live[data-status=FAILED]")
            await watched.page.locator("#runs .run-why:not(:empty)").nth(1).wait_for()
            await watched.page.screenshot(path=str(target), full_page=True)
            if watched.outside or watched.problems:
                raise AssertionError(f"left 127.0.0.1: {watched.outside}; {watched.problems}")


if __name__ == "__main__":
    asyncio.run(screenshot(Path(sys.argv[1] if len(sys.argv) > 1 else "live.png")))
    print(f"wrote {sys.argv[1] if len(sys.argv) > 1 else 'live.png'}")
