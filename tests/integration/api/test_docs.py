"""/docs works offline: Swagger UI comes from the package, the page loads nothing from another
host, and the API description it shows wants the token like every route."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import pytest_asyncio

from orchestra.config import Settings
from orchestra.reports.screenshot import CHROMIUM, chromium
from tests.integration.api.conftest import TOKEN, Client, serving

REFERENCE = re.compile(r"""(?:src|href)="([^"]+)\"""")


async def test_the_api_description_wants_the_token(api: Client) -> None:
    assert (await api.get("/openapi.json", token=None)).status == 401
    assert (await api.get("/openapi.json", token="wrong")).status == 401
    assert (await api.get("/openapi.json")).json()["info"]["title"] == "Orchestra"


async def test_the_docs_page_is_open_and_references_only_files_the_server_serves(
    api: Client,
) -> None:
    page = await api.get("/docs", token=None)
    html = page.body.decode()
    references = REFERENCE.findall(html)

    assert (page.status, page.media_type) == (200, "text/html")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert len(references) == 5
    for reference in references:
        url = urljoin(api.url + "/docs", reference)
        assert urlsplit(url).netloc == urlsplit(api.url).netloc, reference
        served = await api.get(urlsplit(url).path, token=None)
        assert served.status == 200, reference
    assert "//" not in "".join(references)
    bundle = await api.get("/docs/assets/swagger-ui/swagger-ui-bundle.js", token=None)
    assert len(bundle.body) > 1_000_000
    assert bundle.media_type in {"text/javascript", "application/javascript"}


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install -y chromium chromium-driver`")
    async with chromium() as launched:
        yield launched


@pytest.mark.browser
@pytest.mark.parametrize("auth", [True, False], ids=["token", "no-auth"])
async def test_the_docs_show_every_route_in_a_browser_with_no_request_leaving_the_server(
    settings: Settings, browser: Any, auth: bool
) -> None:
    async with serving(settings, token=TOKEN if auth else None) as api:
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        page = await context.new_page()
        page.set_default_timeout(15000)
        problems: list[str] = []
        outside: list[str] = []
        host = urlsplit(api.url).netloc
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "request",
            lambda r: None if urlsplit(r.url).netloc == host else outside.append(r.url),
        )
        await page.goto(api.url + "/docs")
        if auth:
            await page.fill("#token", "wrong")
            await page.click("button[type=submit]")
            await page.wait_for_selector("text=The server refused this token.")
            problems.clear()  # the refusal shown is logged by the console as an error
            await page.fill("#token", TOKEN)
            await page.click("button[type=submit]")
        await page.wait_for_selector("#operations-test_runs-show_test_run_test_runs__test_run__get")
        operations = await page.locator(".opblock").count()
        await context.close()

    assert operations == 25  # every operation of test_auth.py's list
    assert problems == []
    assert outside == []
