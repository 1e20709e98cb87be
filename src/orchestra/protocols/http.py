"""HTTP on aiohttp: one ClientSession and one keep-alive connector shared by every step.

aiohttp was chosen by measurement (bench/bench_executor.py): a bare aiohttp loop costs about a
millisecond of CPU per request at concurrency 32 on a 2-core machine, several times less than
httpx's pooled AsyncClient, and the executor adds little on top of it.
"""

from __future__ import annotations

import asyncio
import errno
import ssl
import time
from urllib.parse import urlencode, urlsplit

import aiohttp

from orchestra.protocols.base import ProtocolRequest, ProtocolResponse, TransportError

MAX_REDIRECTS = 10


class HttpProtocol:
    name = "http"

    def __init__(self, *, max_connections: int = 256) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _client(self) -> aiohttp.ClientSession:
        # Built lazily: aiohttp wants a running event loop when the session is created.
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, keepalive_timeout=30, ttl_dns_cache=300
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=True,
                headers={"User-Agent": "orchestra"},
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def send(self, request: ProtocolRequest) -> ProtocolResponse:
        session = self._client()
        timeout = self._timeouts.get(request.timeout_s)
        if timeout is None:
            timeout = self._timeouts[request.timeout_s] = aiohttp.ClientTimeout(
                total=request.timeout_s
            )
        started = time.perf_counter()
        try:
            async with session.request(
                request.method,
                request.url,
                headers=request.headers,
                params=request.query or None,
                data=request.body,
                timeout=timeout,
                ssl=request.verify_tls if request.ssl_context is None else request.ssl_context,
                server_hostname=request.server_hostname,
                allow_redirects=request.follow_redirects,
                max_redirects=MAX_REDIRECTS,
            ) as response:
                body = await response.read()
                return ProtocolResponse(
                    status=response.status,
                    headers=dict(response.headers),
                    body=body,
                    elapsed_ms=(time.perf_counter() - started) * 1000.0,
                    url=str(response.url),
                )
        except TimeoutError as exc:
            raise TransportError(
                f"{_where(request)}: no response within {request.timeout_s:g} s", timeout=True
            ) from exc
        except aiohttp.TooManyRedirects as exc:
            raise TransportError(f"{_where(request)}: more than {MAX_REDIRECTS} redirects") from exc
        except aiohttp.InvalidURL as exc:
            raise TransportError(f"{_where(request)}: invalid URL") from exc
        except aiohttp.ClientSSLError as exc:
            raise TransportError(f"{_where(request)}: {_handshake_failure(request, exc)}") from exc
        except aiohttp.ClientConnectorError as exc:
            closed = _closed(request, exc.os_error)
            reason = (
                f"TLS handshake with {closed}" if closed else f"cannot connect ({exc.os_error})"
            )
            raise TransportError(f"{_where(request)}: {reason}") from exc
        except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
            closed = _closed(request, exc)
            reason = f"TLS connection to {closed}" if closed else f"{type(exc).__name__}: {exc}"
            raise TransportError(f"{_where(request)}: {reason}") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _closed(request: ProtocolRequest, error: BaseException) -> str | None:
    """`HOST failed: ...`: why an HTTPS server may have hung up without a word (OpenSSL's alert
    is lost by then)."""
    reset = isinstance(error, ConnectionResetError | aiohttp.ServerDisconnectedError) or (
        isinstance(error, OSError) and error.errno == errno.ECONNRESET
    )
    if not (reset and request.url.startswith("https:")):
        return None
    return (
        f"{_host(request)} failed: the server closed it without answering (one requiring a "
        "client certificate does so when shown none or one it does not trust, see "
        "tls.client_cert; one allowing no TLS version at or above tls.min_version too)"
    )


def _handshake_failure(request: ProtocolRequest, exc: aiohttp.ClientSSLError) -> str:
    """`TLS handshake with HOST failed: REASON`, the reason as OpenSSL puts it, untangled."""
    error = exc.os_error
    if isinstance(error, ssl.SSLCertVerificationError):
        reason = f"certificate verify failed: {error.verify_message}"
    elif isinstance(error, ssl.SSLError):
        reason = error.reason or str(error)
        reason = reason.replace("_", " ").lower()
    else:
        reason = str(error)
    return f"TLS handshake with {_host(request)} failed: {reason}"


def _host(request: ProtocolRequest) -> str:
    host = urlsplit(request.url).netloc
    if request.server_hostname is not None:
        return f"{host} (verified as {request.server_hostname})"
    return host


def _where(request: ProtocolRequest) -> str:
    query = f"?{urlencode(request.query)}" if request.query else ""
    return f"{request.method} {request.url}{query}"
