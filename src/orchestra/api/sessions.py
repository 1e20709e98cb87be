"""Browser sessions: a signed cookie standing for the API token, and the same-origin check that
guards what the cookie lets a browser change.

The cookie holds `<issued>.<nonce>.<mac>`: when it was issued (Unix seconds), 16 random bytes,
and an HMAC-SHA256 of both under a key derived from the server's token. It says nothing of the
token, cannot be forged without it, expires after `LIFETIME` seconds, and every session ends
when the token changes. A browser sends the cookie by itself, so a POST, PUT, PATCH or DELETE
it carries must come from a page of this origin (`Origin`, else `Referer`), besides the
cookie being SameSite=Strict.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers

COOKIE = "orchestra_session"
LIFETIME = 12 * 3600  # seconds: a working day, then sign in again
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PURPOSE = b"orchestra web session v1"


class Sessions:
    """Issues and checks session cookie values for one server token."""

    def __init__(
        self, token: str, *, lifetime: int = LIFETIME, clock: Callable[[], float] = time.time
    ) -> None:
        self._token = token.encode()
        self._key = hmac.new(self._token, _PURPOSE, hashlib.sha256).digest()
        self.lifetime = lifetime
        self._clock = clock

    def token_matches(self, sent: str) -> bool:
        """Whether `sent` is the server's token (compared in constant time)."""
        return hmac.compare_digest(sent.strip().encode("utf-8", errors="replace"), self._token)

    def issue(self) -> str:
        payload = f"{int(self._clock())}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{self._mac(payload)}"

    def valid(self, value: str | None) -> bool:
        """Whether `value` is a cookie this server issued and that has not expired."""
        if not value:
            return False
        payload, _, mac = value.rpartition(".")
        issued, _, nonce = payload.partition(".")
        if not (issued.isdigit() and nonce and hmac.compare_digest(mac, self._mac(payload))):
            return False
        age = self._clock() - int(issued)
        return -60 <= age < self.lifetime  # a minute of clock skew tolerated

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


def same_origin(headers: Headers) -> bool:
    """Whether the request comes from a page of this server: its `Origin` (else `Referer`)
    names the host the request was sent to. Neither header: refused (a browser sends `Origin`
    with every POST it makes from a page)."""
    host = headers.get("host", "").lower()
    claimed = headers.get("origin") or headers.get("referer") or ""
    if not host or not claimed or claimed == "null":
        return False
    return urlsplit(claimed).netloc.lower() == host


def cookie_value(headers: Headers) -> str | None:
    """The session cookie the request carries, if any (read without a framework request)."""
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None
