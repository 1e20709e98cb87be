"""Request bodies that are files: a BPMN upload, an environment, a data set.

A BPMN file comes as the raw body (`application/xml`) or as the part named `file` of a
`multipart/form-data` upload; either is spooled to a file first (`orchestra.api.uploads`), and
multipart is read from it with the standard library's MIME parser, the body being bounded
already (the app's `max_body_size`, from the importer's `Limits`).
Environments and data sets come as text: YAML, JSON or CSV, told apart by the content type
(`file_suffix`), and are spooled to a file (`orchestra.api.uploads`).
"""

from __future__ import annotations

import asyncio
from email.feedparser import BytesFeedParser
from email.message import EmailMessage
from email.policy import HTTP
from functools import partial
from pathlib import Path

from fastapi import Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestra.api.errors import (
    AuthenticationRefused,
    Carried,
    ContentTooLarge,
    CrossSiteRefused,
    RequestInvalid,
    UnsupportedMediaType,
    error_response,
)
from orchestra.api.sessions import UNSAFE_METHODS, Sessions, cookie_value, same_origin
from orchestra.errors import OrchestraError

XML = ("application/xml", "text/xml", "application/bpmn+xml")
MULTIPART = "multipart/form-data"
YAML = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")
JSON = "application/json"
CSV = "text/csv"

MULTIPART_ROOM = 64 * 1024  # what a multipart envelope may add to a file of the largest size


class BodyLimit:
    """Refuse (413) a request whose body is above `max_bytes`: at once when its Content-Length
    says so, else as soon as the bytes received pass it. Either way the answer is in the API's
    error shape (the framework's own limit answers in plain text)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            refusal = ContentTooLarge(self._message(int(declared)), details=self._details())
            await error_response(refusal)(scope, receive, send)
            return
        received = 0

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise Carried(ContentTooLarge(self._message(received), details=self._details()))
            return message

        await self.app(scope, bounded, send)

    def _message(self, size: int) -> str:
        return f"the request body is {size} bytes or more, above the limit of {self.max_bytes}"

    def _details(self) -> dict[str, int]:
        return {"limit": self.max_bytes}


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def json_only(request: Request) -> None:
    """For a route whose body is a JSON object: a body of another type, or of none (`curl -d`
    sends a form), is refused with 415 as the file routes do, instead of FastAPI validating its
    bytes into a puzzling 422 ("body: Input should be a valid dictionary")."""
    media = media_type(request)
    if media != JSON and not media.endswith("+json"):
        raise UnsupportedMediaType(
            f"this route reads {JSON}, not {media or 'no type'}", details={"accepted": [JSON]}
        )


def bpmn_only(request: Request) -> None:
    """A body of a type a BPMN upload does not come in is refused (415) before it is read."""
    media = media_type(request)
    if media not in (*XML, MULTIPART):
        raise UnsupportedMediaType(
            f"a BPMN file is sent as {', '.join(XML)} or {MULTIPART}, not {media or 'no type'}",
            details={"accepted": [*XML, MULTIPART]},
        )


async def bpmn_file(request: Request, body: Path, filename: str | None) -> tuple[Path, str]:
    """(the BPMN file, the name to store as its source), from the `body` spooled: itself, or
    the part `file` of a multipart body, written beside it."""
    if media_type(request) == MULTIPART:
        content_type = request.headers["content-type"]
        return await asyncio.to_thread(_file_part, content_type, body, body.with_name("file"))
    return body, filename or "request body"


def _file_part(content_type: str, body: Path, out: Path) -> tuple[Path, str]:
    parser = BytesFeedParser(_factory=EmailMessage, policy=HTTP)
    parser.feed(f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", errors="replace"))
    with body.open("rb") as chunks:
        for chunk in iter(partial(chunks.read, 64 * 1024), b""):
            parser.feed(chunk)
    message = parser.close()
    if message.is_multipart():
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    out.write_bytes(payload)
                    return out, part.get_filename() or "upload.bpmn"
    raise RequestInvalid("a multipart upload carries the BPMN file in a part named `file`")


def file_suffix(request: Request, accepted: dict[str, str]) -> str:
    """The suffix of a file of the body's content type, among those `accepted` (else 415)."""
    media = media_type(request)
    if media not in accepted:
        raise UnsupportedMediaType(
            f"this route reads {', '.join(accepted)}, not {media or 'no type'}",
            details={"accepted": list(accepted)},
        )
    return accepted[media]


ENVIRONMENT_TYPES = {**dict.fromkeys(YAML, ".yaml"), JSON: ".json"}
DATA_SET_TYPES = {**ENVIRONMENT_TYPES, CSV: ".csv"}


def text_body(types: dict[str, str], description: str) -> dict[str, object]:
    """The OpenAPI `requestBody` of a route reading a text file of one of `types` as its body."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {media: {"schema": {"type": "string"}} for media in types},
        }
    }


BPMN_BODY: dict[str, object] = {
    "requestBody": {
        "required": True,
        "description": "A BPMN 2.0 XML file: the raw body, or the part `file` of a form.",
        "content": {
            **{media: {"schema": {"type": "string"}} for media in XML},
            MULTIPART: {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


class TokenGate:
    """Refuse (401) a request without the server's bearer token, or a browser's session cookie
    (`orchestra.api.sessions`), before a byte of its body is read: a client without either
    learns nothing about the size limit, and costs nothing to refuse. A POST, PUT, PATCH or
    DELETE the cookie carries from another origin is refused (403). The routes check again
    (their OpenAPI security says so); the paths `open_paths` names (`/health`, the docs page,
    `/`) and those under `open_prefixes` (the docs page's assets, the web pages, which send a
    browser without a session to their sign-in page) need neither."""

    def __init__(
        self,
        app: ASGIApp,
        sessions: Sessions,
        open_paths: frozenset[str],
        open_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.sessions = sessions
        self.open_paths = open_paths
        self.open_prefixes = open_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path in self.open_paths
            or path.startswith(self.open_prefixes)
        ):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(Headers(scope=scope), scope.get("method", "GET"))
        if refusal is not None:
            await error_response(refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, headers: Headers, method: str) -> OrchestraError | None:
        authorization = headers.get("authorization", "")
        if not authorization and self.sessions.valid(cookie_value(headers)):
            return session_refusal(headers, method)
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return AuthenticationRefused(
                "this route needs `Authorization: Bearer <token>` with the server's token"
            )
        # constant time: how much of a guess matches must not show in the response time
        if not self.sessions.token_matches(credentials):
            return AuthenticationRefused("the bearer token is not the server's token")
        return None


def session_refusal(headers: Headers, method: str) -> CrossSiteRefused | None:
    """For a request the session cookie authenticates: a change (POST, PUT, PATCH, DELETE)
    from a page of another origin is refused."""
    if method.upper() in UNSAFE_METHODS and not same_origin(headers):
        return CrossSiteRefused(
            f"a {method.upper()} with the session cookie must come from a page of this server"
            " (its Origin or Referer header names another, or none)"
        )
    return None
