"""A real API server for each test: uvicorn on 127.0.0.1 at a free port, in the test's event
loop, over the test's fresh PostgreSQL database; and a small aiohttp client for it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from orchestra.api import create_app
from orchestra.api.server import ApiServer
from orchestra.bpmn import Limits
from orchestra.config import Settings
from orchestra.examples.order import PROCESS_FILE, example_path
from orchestra.services.watching import EventTimes

TOKEN = "test-token-0123456789abcdef"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def media_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0]


@dataclass(frozen=True)
class Client:
    session: aiohttp.ClientSession
    url: str
    token: str | None

    async def request(
        self, method: str, path: str, *, token: str | None = "", **kwargs: Any
    ) -> Reply:
        """`token=""`: the server's token; `None`: no Authorization header; else that one."""
        sent = self.token if token == "" else token
        headers = dict(kwargs.pop("headers", {}))
        if sent is not None:
            headers["Authorization"] = f"Bearer {sent}"
        async with self.session.request(
            method, self.url + path, headers=headers, **kwargs
        ) as response:
            body = await response.read()
            return Reply(response.status, dict(response.headers), body)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("POST", path, **kwargs)

    async def import_example(self) -> Reply:
        data = example_path(PROCESS_FILE).read_bytes()
        return await self.post(
            "/processes?filename=order.bpmn",
            data=data,
            headers={"Content-Type": "application/xml"},
        )


ServeApi = Callable[..., Awaitable[Client]]


@asynccontextmanager
async def serving(
    settings: Settings,
    *,
    token: str | None,
    limits: Limits | None = None,
    event_times: EventTimes | None = None,
    upload_dir: Path | None = None,
) -> AsyncIterator[Client]:
    app = create_app(
        settings,
        token=token,
        limits=limits,
        pool_size=4,
        event_times=event_times,
        upload_dir=upload_dir,
    )
    server = ApiServer(app, port=0, quiet=True)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            waiting = asyncio.create_task(server.listening.wait())
            await asyncio.wait([task, waiting], return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
        assert server.started, "the API server did not start"
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            yield Client(session, server.url, token)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Client]:
    """The API with authentication on (token TOKEN)."""
    async with serving(settings, token=TOKEN) as client:
        yield client
