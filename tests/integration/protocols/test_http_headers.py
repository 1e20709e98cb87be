"""Response headers as the HTTP protocol hands them on: each name once, as the server first
wrote it, a repeated header's values joined; the names plain `str` (aiohttp's are partly
multidict's `istr`), so the checkpoint's row is written by orjson, not by `json`'s fallback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest
from aiohttp import web
from multidict import CIMultiDict

from orchestra.protocols.base import ProtocolRequest
from orchestra.protocols.http_client import HttpProtocol
from orchestra.store import jsontext


async def answer(request: web.Request) -> web.Response:
    headers = CIMultiDict([("X-Tag", "a"), ("x-tag", "b")])
    return web.json_response({"ok": True}, headers=headers)


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_header_names_are_plain_strings_joined_once(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = HttpProtocol()
    try:
        response = await http.send(ProtocolRequest(method="GET", url=base_url + "/"))
    finally:
        await http.aclose()
    assert response.headers["X-Tag"] == "a, b"
    assert "x-tag" not in response.headers
    assert response.headers["Content-Type"].startswith("application/json")
    assert {type(name) for name in response.headers} == {str}

    def no_fallback(value: object, **_: object) -> str:
        raise AssertionError(f"json's fallback used for {value!r}")

    monkeypatch.setattr(jsontext, "json_dumps", no_fallback)
    row = {"response": {"headers": response.headers}}
    assert orjson.loads(jsontext.checkpoint_dumps(row)) == row
