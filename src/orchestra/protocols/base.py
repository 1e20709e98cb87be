"""The interface every action protocol implements, built in (HTTP) or plugged in.

A protocol plug-in is a small object (see `ProtocolPlugin`) that Orchestra finds through the
entry-point group `orchestra.protocols` (`orchestra.protocols.registry`). It brings:

- `name`: what a binding's `action.protocol` says (`http` when it says nothing);
- `action_model`: a pydantic model of its action, a subclass of `ActionSpec`, so binding files
  are validated per protocol and errors name the file, line and field;
- `request(action)`: the action with its templates rendered (by the executor, the same way for
  every protocol) and what the environment says about its service, turned into one
  `ProtocolRequest`;
- `connect()`: one client (`ActionProtocol`) per executor, whose `send` is called concurrently
  by many steps and raises `TransportError` when no response came (refused connection, timeout,
  TLS failure, too many redirects).

A response with any status is a response: judging it is the checks' business. Checks see a
response as status, headers, body and elapsed time; a protocol without statuses of its own
answers 200 for a reply (the default check is `status < 400`, as in HTTP).
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Protocol
from urllib.parse import urlencode

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from orchestra.protocols.replay import ReplayPolicy
from orchestra.protocols.retry import RetryPolicy, legacy_policy

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP field name (RFC 9110)


def header_fields(value: dict[str, str]) -> dict[str, str]:
    """Header names that are HTTP tokens and values without CR, LF or NUL: refused where they
    are written rather than failing every request ("header injection") at run time."""
    for name, text in value.items():
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"header name {name!r} is not an HTTP field name")
        if any(char in text for char in "\r\n\x00"):
            raise ValueError(f"header {name}: a value cannot hold a line break or NUL")
    return value


Headers = Annotated[dict[str, str], AfterValidator(header_fields)]


def layered(under: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Headers `over` laid on headers `under`, names compared in any case as in HTTP: an
    `accept` over an `Accept` replaces it, rather than both being recorded and one sent."""
    if not over:
        return dict(under)
    names = {name.lower() for name in over}
    return {**{k: v for k, v in under.items() if k.lower() not in names}, **over}


class TransportError(Exception):
    """No response: the message says what went wrong and where (method and URL).

    `timeout`: none came in time. `tls`: the TLS handshake failed (an untrusted or expired
    certificate, another host's name, no common version, a client certificate refused): sent
    again only by a `retry` whose `on` names `tls`, as it mostly fails the same way again.
    `transient`: sending again may get one (a refused or reset connection); False for what
    would fail the same way again (an invalid URL, a body over the limit, too many redirects):
    an action's `retry: {on: [connect]}` does not send it again.
    """

    def __init__(
        self, message: str, *, timeout: bool = False, transient: bool = True, tls: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.timeout = timeout
        self.transient = transient
        self.tls = tls


class ActionSpec(BaseModel):
    """What every protocol's action has; a plug-in's action model adds its own fields.

    The fields declared here are the executor's (which service, how long, how many retries);
    every other field is the protocol's, and any string in it may be a template. A field that
    may hold a template must accept a string: validation happens before rendering.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    COMMON: ClassVar[frozenset[str]] = frozenset(
        {"protocol", "service", "timeout", "retries", "retry", "replay"}
    )

    protocol: str
    service: str | None = None  # None: the binding's default, else the environment's only one
    timeout: float | None = Field(default=None, gt=0)  # seconds, per request
    retries: int = Field(default=0, ge=0, le=10)  # on transport errors only (the older form)
    retry: RetryPolicy | None = None  # transient failures sent again (see protocols.retry)
    replay: ReplayPolicy | None = None  # statuses accepted for a re-send (protocols.replay)

    @model_validator(mode="after")
    def _one_retry_form(self) -> ActionSpec:
        if self.retry is not None and self.retries:
            raise ValueError("give `retry` or `retries`, not both (`retry` says more)")
        return self

    def retry_policy(self) -> RetryPolicy | None:
        """How this action's failures are retried: `retry`, else the older `retries: N`."""
        return self.retry if self.retry is not None else legacy_policy(self.retries)

    def protocol_fields(self) -> dict[str, Any]:
        """The protocol's own fields (by field name), as the executor renders them."""
        fields = type(self).model_fields
        return {name: getattr(self, name) for name in fields if name not in ActionSpec.COMMON}


@dataclass(slots=True)
class RenderedAction:
    """An action ready to become a request: its own fields rendered, its service resolved."""

    spec: ActionSpec  # the action as validated, templates not rendered
    fields: dict[str, Any]  # the action model's own fields, by field name, templates rendered
    base_url: str  # the service's base URL in the environment, without a trailing slash
    headers: dict[str, str]  # environment, service, credentials, the action's, Idempotency-Key
    timeout_s: float
    verify_tls: bool
    idempotency_key: str  # stable across re-executions of the step (see binding.requests)
    ssl_context: ssl.SSLContext | None = None  # the service's TLS options, when it has some
    server_hostname: str | None = None  # the name sent (SNI) and verified, if not the URL's
    # lower-case names of the headers carrying credentials (see ProtocolRequest)
    credential_headers: frozenset[str] = frozenset()


def as_text(value: Any) -> str:
    """A rendered value as text: strings as they are, objects and lists as JSON, true/false."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def with_query(url: str, query: list[tuple[str, str]]) -> str:
    """The URL with the query pairs added, after those its path may already have."""
    if not query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"


@dataclass(slots=True)
class ProtocolRequest:
    method: str  # HTTP's method; another protocol's operation (what reports show first)
    url: str  # where the request goes (reports show it, redacted)
    headers: dict[str, str] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    timeout_s: float = 30.0
    verify_tls: bool = True
    ssl_context: ssl.SSLContext | None = None  # when set, it decides (verify_tls included)
    server_hostname: str | None = None  # the name sent (SNI) and verified, if not the URL's
    follow_redirects: bool = True
    # Lower-case names of the headers carrying credentials: a redirect to another origin does
    # not take them along (the environment's secrets stay with the service they are for).
    credential_headers: frozenset[str] = frozenset()


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


class ProtocolPlugin(Protocol):
    """What an `orchestra.protocols` entry point names: a module-level object (or a class)."""

    @property
    def name(self) -> str: ...

    @property
    def action_model(self) -> type[ActionSpec]: ...

    def request(self, action: RenderedAction) -> ProtocolRequest: ...

    def connect(self) -> ActionProtocol: ...
