"""Credentials headers for a service: bearer, basic, API key, OAuth2 client credentials.

OAuth2 access tokens are fetched with the executor's own protocol, cached until shortly before
they expire, fetched by one step at a time (the others wait for it), and handed to the redactor.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import time
from collections.abc import Callable
from urllib.parse import urlencode

from orchestra.binding.environment import Auth
from orchestra.binding.redaction import Redactor
from orchestra.protocols.base import ActionProtocol, ProtocolRequest, TransportError

_EXPIRY_MARGIN_S = 30.0


class AuthFailure(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Authenticator:
    """One per distinct Auth of an environment; `headers()` is cheap once a token is cached."""

    def __init__(
        self,
        auth: Auth,
        redactor: Redactor,
        *,
        verify_tls: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        timeout_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._auth = auth
        self._redactor = redactor
        self._verify_tls = verify_tls
        self._ssl_context = ssl_context
        self._timeout_s = timeout_s
        self._clock = clock
        self.static_headers = self._static_headers(auth)  # None: fetched (OAuth2)
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.token_requests = 0

    def _static_headers(self, auth: Auth) -> dict[str, str] | None:
        if auth.type == "bearer":
            return {"Authorization": f"Bearer {auth.token}"}
        if auth.type == "basic":
            pair = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
            self._redactor.add(pair)
            return {"Authorization": f"Basic {pair}"}
        if auth.type == "api_key":
            return {auth.header: auth.value or ""}
        return None

    async def headers(self, protocol: ActionProtocol) -> dict[str, str]:
        if self.static_headers is not None:
            return self.static_headers
        if self._token is None or self._clock() >= self._expires_at:
            async with self._lock:
                if self._token is None or self._clock() >= self._expires_at:
                    await self._fetch_token(protocol)
        return {"Authorization": f"Bearer {self._token}"}

    async def _fetch_token(self, protocol: ActionProtocol) -> None:
        auth = self._auth
        form = {"grant_type": "client_credentials", "client_id": auth.client_id or ""}
        form["client_secret"] = auth.client_secret or ""
        if auth.scope:
            form["scope"] = auth.scope
        if auth.audience:
            form["audience"] = auth.audience
        request = ProtocolRequest(
            method="POST",
            url=auth.token_url or "",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            body=urlencode(form).encode(),
            timeout_s=self._timeout_s,
            verify_tls=self._verify_tls,
            ssl_context=self._ssl_context,
        )
        self.token_requests += 1
        try:
            response = await protocol.send(request)
        except TransportError as exc:
            raise AuthFailure(f"OAuth2 token request failed: {exc.message}") from exc
        where = f"OAuth2 token endpoint {auth.token_url}"
        if response.status != 200:
            raise AuthFailure(f"{where} answered HTTP {response.status}")
        try:
            payload = json.loads(response.body)
            token = str(payload["access_token"])
            lifetime = float(payload.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthFailure(f"{where} gave no access_token in a JSON body") from exc
        self._redactor.add(token)
        self._token = token
        self._expires_at = self._clock() + max(lifetime - _EXPIRY_MARGIN_S, lifetime / 2)
