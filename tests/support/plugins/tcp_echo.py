"""`tcp-echo`: a tiny real protocol plug-in, as a third party would write one.

It sends one line of text to a TCP server and reads one line back. A binding says:

    action: {protocol: tcp-echo, service: echo, send: {order: "{{ data.order }}"}}

`send` is text, or any other value sent as JSON. The reply is the response body (JSON checks
work when the server answers JSON), with status 200. The environment's service is
`tcp-echo://127.0.0.1:PORT`. Registered by `tests.support.plugins.entry_point_distribution`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Literal
from urllib.parse import urlsplit

from orchestra.protocols.base import (
    ActionSpec,
    ProtocolRequest,
    ProtocolResponse,
    RenderedAction,
    TransportError,
    as_text,
)


class TcpEchoAction(ActionSpec):
    protocol: Literal["tcp-echo"] = "tcp-echo"
    send: Any  # a template, text, or a value sent as JSON


class TcpEchoClient:
    name = "tcp-echo"

    async def send(self, request: ProtocolRequest) -> ProtocolResponse:
        address = urlsplit(request.url)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(request.timeout_s):
                reader, writer = await asyncio.open_connection(address.hostname, address.port)
                try:
                    writer.write(request.body or b"\n")
                    await writer.drain()
                    line = await reader.readline()
                finally:
                    writer.close()
                    await writer.wait_closed()
        except TimeoutError as exc:
            raise TransportError(
                f"SEND {request.url}: no reply within {request.timeout_s:g} s"
            ) from exc
        except OSError as exc:
            raise TransportError(f"SEND {request.url}: cannot connect ({exc})") from exc
        body = line.rstrip(b"\n")
        kind = "application/json" if body[:1] in (b"{", b"[") else "text/plain"
        elapsed = (time.perf_counter() - started) * 1000.0
        return ProtocolResponse(200, {"Content-Type": kind}, body, elapsed, request.url)

    async def aclose(self) -> None:
        return None


class TcpEchoPlugin:
    name = "tcp-echo"
    action_model = TcpEchoAction

    def request(self, action: RenderedAction) -> ProtocolRequest:
        value = action.fields["send"]
        text = value if isinstance(value, str) else json.dumps(value)
        return ProtocolRequest(
            method="SEND",
            url=action.base_url,
            headers={"Idempotency-Key": action.idempotency_key},
            body=as_text(text).encode() + b"\n",
            timeout_s=action.timeout_s,
        )

    def connect(self) -> TcpEchoClient:
        return TcpEchoClient()


plugin = TcpEchoPlugin()
