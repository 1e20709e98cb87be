"""The HTTP client of the built-in protocol, on aiohttp.

One ClientSession and one keep-alive connector are shared by every step of an executor.
aiohttp was chosen by measurement (bench/bench_executor.py): a bare aiohttp loop costs about a
millisecond of CPU per request at concurrency 32 on a 2-core machine, several times less than
httpx's pooled AsyncClient, and the executor adds little on top of it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import ssl
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp
import yarl

from orchestra.protocols.base import (
    ProtocolRequest,
    ProtocolResponse,
    TransportError,
    with_query,
)

MAX_REDIRECTS = 10
# A response body larger than this ends the step in ERROR instead of filling the worker's memory
# (32 runs at once may each be reading one); stored records keep a truncated copy anyway.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding"})


def _redirect(request: ProtocolRequest, response: aiohttp.ClientResponse) -> ProtocolRequest | None:
    """The request a redirect asks for, followed here rather than by aiohttp, which takes
    every header but `Authorization` and cookies to another origin: there the credentials are
    left out, the environment's API key as much as `Authorization`. Methods change as HTTP
    clients change them (a 303, or a 301/302 after a POST, is a GET without the body and its
    headers). None: the response is the answer."""
    location = response.headers.get("Location")
    if not (request.follow_redirects and location):
        return None
    if response.status not in _REDIRECTS:
        return None
    target = response.url.join(yarl.URL(location))
    if target.scheme not in ("http", "https"):
        return None  # nothing this protocol can follow: the 3xx is the answer
    method, body = request.method, request.body
    left_out: set[str] = set()
    if (response.status == 303 and method != "HEAD") or (
        response.status in (301, 302) and method == "POST"
    ):
        method, body = "GET", None
        left_out |= _BODY_HEADERS
    same = target.origin() == response.url.origin()
    if not same:
        left_out |= request.credential_headers
    return dataclasses.replace(
        request,
        method=method,
        url=str(target.with_fragment(None)),
        headers={k: v for k, v in request.headers.items() if k.lower() not in left_out},
        query=[],
        body=body,
        server_hostname=request.server_hostname if same else None,
    )


class HttpProtocol:
    """The HTTP client: one aiohttp session, built at the first request."""

    name = "http"

    def __init__(
        self, *, max_connections: int = 256, max_response_bytes: int = MAX_RESPONSE_BYTES
    ) -> None:
        self._max_connections = max_connections
        self._max_response_bytes = max_response_bytes
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
            hop = request
            for _ in range(MAX_REDIRECTS + 1):
                async with session.request(
                    hop.method,
                    hop.url,
                    headers=hop.headers,
                    params=hop.query or None,
                    data=hop.body,
                    timeout=timeout,
                    ssl=hop.verify_tls if hop.ssl_context is None else hop.ssl_context,
                    server_hostname=hop.server_hostname,
                    allow_redirects=False,  # followed here: see `_redirect`
                ) as response:
                    following = _redirect(hop, response)
                    if following is None:
                        body = await self._body(hop, response)
                        return ProtocolResponse(
                            status=response.status,
                            headers=_joined(response.headers),
                            body=body,
                            elapsed_ms=(time.perf_counter() - started) * 1000.0,
                            url=str(response.url),
                        )
                hop = following
                left = request.timeout_s - (time.perf_counter() - started)
                if left <= 0:
                    raise TimeoutError
                timeout = aiohttp.ClientTimeout(total=left)  # the redirects share the time
            raise TransportError(
                f"{_where(request)}: more than {MAX_REDIRECTS} redirects", transient=False
            )
        except TimeoutError as exc:
            raise TransportError(
                f"{_where(request)}: no response within {request.timeout_s:g} s", timeout=True
            ) from exc
        except aiohttp.InvalidURL as exc:
            raise TransportError(f"{_where(request)}: invalid URL", transient=False) from exc
        except aiohttp.ClientSSLError as exc:
            reason = _handshake_failure(request, exc)
            raise TransportError(f"{_where(request)}: {reason}", tls=True) from exc
        except aiohttp.ClientConnectorError as exc:
            closed = _closed(request, exc.os_error)
            if closed:
                reason = f"TLS handshake with {closed}"
                raise TransportError(f"{_where(request)}: {reason}", tls=True) from exc
            raise TransportError(f"{_where(request)}: cannot connect ({exc.os_error})") from exc
        except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
            closed = _closed(request, exc)
            reason = f"TLS connection to {closed}" if closed else f"{type(exc).__name__}: {exc}"
            raise TransportError(f"{_where(request)}: {reason}") from exc
        except ValueError as exc:  # last: certificate errors are ValueErrors too (ssl's)
            # a rendered header aiohttp refuses to send (a line break)
            raise TransportError(
                f"{_where(request)}: cannot send it: {exc}", transient=False
            ) from exc

    async def _body(self, request: ProtocolRequest, response: aiohttp.ClientResponse) -> bytes:
        """The whole body, unless it is larger than the limit: said by Content-Length, or found
        while reading one of unknown length, or compressed (a small gzip can inflate to
        gigabytes: it is counted as it is decompressed)."""
        if request.method == "HEAD":  # its Content-Length is a GET's: no body comes
            return await response.read()
        limit = self._max_response_bytes
        length = response.content_length
        encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
        if length is not None and not encoded:
            if length <= limit:
                return await response.read()
        else:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_any():
                size += len(chunk)
                if size > limit:
                    break
                chunks.append(chunk)
            else:
                return b"".join(chunks)
        raise TransportError(
            f"{_where(request)}: the response body is larger than {_size(limit)}"
            f" (status {response.status}); not read further",
            transient=False,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _joined(headers: Mapping[str, str]) -> dict[str, str]:
    """Each header once, as first named; a repeated one's values joined by ", " (RFC 9110,
    5.3), so a check or a template sees every value, not the first alone. The names are plain
    `str`: aiohttp's are partly multidict's `istr`, which orjson refuses as keys, and every
    checkpoint then went through the slower `json` (see `store.jsontext.checkpoint_dumps`)."""
    joined: dict[str, str] = {}
    names: dict[str, str] = {}
    for name, value in headers.items():
        first = names.setdefault(name.lower(), str(name))
        joined[first] = f"{joined[first]}, {value}" if first in joined else value
    return joined


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
    return f"{request.method} {with_query(request.url, request.query)}"


def _size(limit: int) -> str:
    mib = 1024 * 1024
    return f"{limit / mib:g} MiB" if limit >= mib else f"{limit:,} bytes"
