"""A browser-like client of the web UI: it signs in through the form, keeps the session cookie
by hand (aiohttp's jar keeps none from an IP address) and sends `Origin` with its forms, as a
browser does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

import pytest

from orchestra.api.sessions import COOKIE
from orchestra.config import Settings
from tests.integration.api.conftest import TOKEN, Client, Reply, serving

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def session_cookie(reply: Reply) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(reply.headers.get("Set-Cookie", ""))
    return cookie


@dataclass
class Browser:
    client: Client
    cookie: str | None = None

    @property
    def origin(self) -> str:
        return self.client.url

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.client.get(
            path, token=None, headers=self._headers(), allow_redirects=False, **kwargs
        )

    async def post_form(
        self, path: str, fields: dict[str, str], *, origin: str | None = "", **kwargs: Any
    ) -> Reply:
        """`origin=""`: this server's; None: no Origin header; else that one."""
        headers = self._headers() | FORM | kwargs.pop("headers", {})
        if origin is not None:
            headers["Origin"] = origin or self.origin
        return await self.client.post(
            path, token=None, data=fields, headers=headers, allow_redirects=False, **kwargs
        )

    async def sign_in(self, token: str = TOKEN) -> Reply:
        reply = await self.post_form("/ui/sign-in", {"token": token, "next": "/ui/suite-runs"})
        morsel = session_cookie(reply).get(COOKIE)
        if morsel is not None:
            self.cookie = morsel.value
        return reply

    def _headers(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}


@pytest.fixture
async def browser(settings: Settings) -> AsyncIterator[Browser]:
    """A browser, not signed in yet, on the API with authentication on (token TOKEN)."""
    async with serving(settings, token=TOKEN) as client:
        yield Browser(client)


@pytest.fixture
async def signed_in(browser: Browser) -> Browser:
    assert (await browser.sign_in()).status == 303
    return browser
