"""The interface every action protocol implements: one request in, one response out.

A protocol knows nothing of templates, checks or secrets: the executor renders a
`ProtocolRequest`, the protocol sends it and gives back a `ProtocolResponse`, or raises
`TransportError` when no response came (refused connection, timeout, TLS failure, too many
redirects). A response with any status is a response: judging it is the checks' business.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Protocol


class TransportError(Exception):
    """No response: the message says what went wrong and where (method and URL)."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.timeout = timeout


@dataclass(slots=True)
class ProtocolRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    timeout_s: float = 30.0
    verify_tls: bool = True
    ssl_context: ssl.SSLContext | None = None  # when set, it decides (verify_tls included)
    server_hostname: str | None = None  # the name sent (SNI) and verified, if not the URL's
    follow_redirects: bool = True


@dataclass(slots=True)
class ProtocolResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed_ms: float
    url: str


class ActionProtocol(Protocol):
    """One shared client per executor; `send` is called concurrently by many steps."""

    name: str

    async def send(self, request: ProtocolRequest) -> ProtocolResponse: ...

    async def aclose(self) -> None: ...
