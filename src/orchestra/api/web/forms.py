"""What the pages' forms post: `application/x-www-form-urlencoded` fields, read with the
standard library (the body is bounded already by the app's `BodyLimit`), from a page of this
server only (`orchestra.api.sessions.same_origin`)."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request

from orchestra.api.bodies import media_type
from orchestra.api.errors import CrossSiteRefused, RequestInvalid, UnsupportedMediaType
from orchestra.api.sessions import same_origin

FORM = "application/x-www-form-urlencoded"
HOME = "/ui/suite-runs"


async def form_fields(request: Request) -> dict[str, str]:
    """The form's fields (the first value of each), once its origin is checked."""
    if not same_origin(request.headers):
        raise CrossSiteRefused("a form of the web UI must be posted from a page of this server")
    if media_type(request) != FORM:
        raise UnsupportedMediaType(f"a form is posted as {FORM}", details={"accepted": [FORM]})
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestInvalid(f"the form is not UTF-8: {exc.reason}") from exc
    return {name: values[0] for name, values in parse_qs(text, keep_blank_values=True).items()}


def local_path(value: str | None, default: str = HOME) -> str:
    """`value` when it is a path of the web UI (where to go back to after a form), else
    `default`: never another site (`//evil.example`, `/\\evil.example`)."""
    if not value or not value.startswith("/ui/") or "//" in value or "\\" in value:
        return default
    return value


def optional(fields: dict[str, str], name: str) -> str | None:
    """A field left blank (or absent) is None."""
    value = fields.get(name, "").strip()
    return value or None
