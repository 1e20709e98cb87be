"""A response body over the HTTP protocol's limit is a transport error naming the request, not
a worker filling its memory: by Content-Length, while reading a body of unknown length, and as
a small gzip inflates."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from orchestra.protocols.base import ProtocolRequest, TransportError
from orchestra.protocols.http_client import HttpProtocol

LIMIT = 1000


async def sized(request: web.Request) -> web.Response:
    return web.Response(body=b"x" * int(request.query["n"]))


async def streamed(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()  # chunked: no Content-Length
    await response.prepare(request)
    for _ in range(int(request.query["chunks"])):
        await response.write(b"y" * 300)
    await response.write_eof()
    return response


async def inflating(request: web.Request) -> web.Response:
    packed = gzip.compress(b"z" * int(request.query["n"]))
    return web.Response(body=packed, headers={"Content-Encoding": "gzip"})


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/sized", sized)
    app.router.add_get("/streamed", streamed)
    app.router.add_get("/inflating", inflating)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def fetch(base_url: str, path: str, method: str = "GET") -> bytes:
    http = HttpProtocol(max_response_bytes=LIMIT)
    try:
        response = await http.send(ProtocolRequest(method=method, url=base_url + path))
        return response.body
    finally:
        await http.aclose()


async def test_bodies_up_to_the_limit_are_read_whole(base_url: str) -> None:
    assert await fetch(base_url, f"/sized?n={LIMIT}") == b"x" * LIMIT
    assert await fetch(base_url, "/streamed?chunks=3") == b"y" * 900
    assert await fetch(base_url, f"/inflating?n={LIMIT}") == b"z" * LIMIT


@pytest.mark.parametrize(
    "path", [f"/sized?n={LIMIT + 1}", "/streamed?chunks=4", f"/inflating?n={LIMIT * 50}"]
)
async def test_a_body_over_the_limit_is_an_error_naming_the_request(
    base_url: str, path: str
) -> None:
    with pytest.raises(TransportError) as raised:
        await fetch(base_url, path)
    message = raised.value.message
    assert f"GET {base_url}{path.split('?')[0]}" in message
    assert "the response body is larger than 1,000 bytes (status 200)" in message


async def test_a_head_of_a_resource_over_the_limit_is_answered(base_url: str) -> None:
    assert await fetch(base_url, f"/sized?n={LIMIT * 10}", method="HEAD") == b""
