"""HTTP, the built-in protocol: its action model and its requests.

The client that sends them, on aiohttp, is `orchestra.protocols.http_client`: imported when a
step is executed, not by the commands that only read bindings or environments.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode, urlsplit

from pydantic import Field, field_validator, model_validator

from orchestra.protocols.base import (
    ActionSpec,
    Headers,
    ProtocolRequest,
    RenderedAction,
    as_text,
)

if TYPE_CHECKING:
    from orchestra.protocols.http_client import HttpProtocol

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


class HttpAction(ActionSpec):
    """An HTTP request relative to a named service of the environment."""

    protocol: Literal["http"] = "http"
    method: str = "GET"
    path: str = "/"  # relative to the service's base URL (an absolute URL is used as is)
    headers: Headers = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    form: dict[str, Any] | None = None
    body: str | None = None  # raw text
    follow_redirects: bool = True

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value.upper() not in METHODS:
            raise ValueError(f"unknown HTTP method {value!r} (one of {', '.join(sorted(METHODS))})")
        return value.upper()

    @model_validator(mode="after")
    def _one_body(self) -> HttpAction:
        bodies = (("json", self.json_body), ("form", self.form), ("body", self.body))
        given = [name for name, value in bodies if value is not None]
        if len(given) > 1:
            raise ValueError(f"one body per request (found: {', '.join(given)})")
        return self


class HttpPlugin:
    """The `http` protocol: an action with no `protocol` key is one of these."""

    name = "http"
    action_model = HttpAction

    def request(self, action: RenderedAction) -> ProtocolRequest:
        spec, fields = action.spec, action.fields
        assert isinstance(spec, HttpAction)
        headers = action.headers
        body, content_type = _body(spec, fields)
        if content_type is not None and not _has_header(headers, "content-type"):
            headers["Content-Type"] = content_type
        path = str(fields["path"])
        url = url_of(action.base_url, path)
        # a path below the service's base URL is on its origin: no need to parse both URLs
        same_origin = not _is_absolute(path) or _same_origin(url, action.base_url)
        return ProtocolRequest(
            method=spec.method,
            url=url,
            headers=headers,
            query=pairs(fields["query"]),
            body=body,
            timeout_s=action.timeout_s,
            verify_tls=action.verify_tls,
            ssl_context=action.ssl_context,
            # the name to verify is the service's: an absolute URL elsewhere is verified by its own
            server_hostname=action.server_hostname if same_origin else None,
            follow_redirects=spec.follow_redirects,
            credential_headers=action.credential_headers,
        )

    def connect(self) -> HttpProtocol:
        from orchestra.protocols.http_client import HttpProtocol

        return HttpProtocol()


def _body(spec: HttpAction, fields: dict[str, Any]) -> tuple[bytes | None, str | None]:
    """The encoded body and its content type; which body is decided by the unrendered spec."""
    if spec.json_body is not None:
        return json.dumps(fields["json_body"], default=str).encode(), "application/json"
    if spec.form is not None:
        form = urlencode(pairs(fields["form"])).encode()
        return form, "application/x-www-form-urlencoded"
    if spec.body is not None:
        return as_text(fields["body"]).encode(), "text/plain; charset=utf-8"
    return None, None


def _has_header(headers: dict[str, str], lower_name: str) -> bool:
    return any(name.lower() == lower_name for name in headers)


def _same_origin(url: str, base_url: str) -> bool:
    one, other = urlsplit(url), urlsplit(base_url)
    return (one.scheme, one.netloc.lower()) == (other.scheme, other.netloc.lower())


def _is_absolute(path: str) -> bool:
    return path.startswith(("http://", "https://"))


def url_of(base_url: str, rendered_path: Any) -> str:
    path = str(rendered_path)
    if _is_absolute(path):
        return path
    return f"{base_url}/{path.lstrip('/')}"


def pairs(mapping: Any) -> list[tuple[str, str]]:
    """A rendered query or form as pairs: None left out, a list repeats its key."""
    found: list[tuple[str, str]] = []
    if not mapping:
        return found
    for key, value in mapping.items():
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            found.append((str(key), as_text(item)))
    return found
