"""A step's request as a `curl` command line, to replay it by hand ("copy as cURL").

Built from the request as the step recorded it (`binding.records`): its secrets were masked
("***") before it was stored, so the command holds them masked too, exactly as the reports show
them; whoever replays it puts the secret back. A body the record cut short is said so in a
comment after the command. Pure functions.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

CONTINUATION = " \\\n  "


def curl_command(request: Mapping[str, Any]) -> str:
    """`curl -X METHOD URL -H 'Name: value' ... --data-raw BODY`, each option on its own line;
    every argument quoted for a POSIX shell."""
    method = str(request.get("method") or "GET").upper()
    parts = ["curl", *_method(method, request), shlex.quote(str(request.get("url", "")))]
    headers = request.get("headers") or {}
    for name, value in headers.items() if isinstance(headers, Mapping) else ():
        parts.append(f"-H {shlex.quote(f'{name}: {value}')}")
    body = request.get("body")
    if body is not None:
        parts.append(f"--data-raw {shlex.quote(str(body))}")
    command = CONTINUATION.join(parts)
    if request.get("truncated"):
        command += "\n# the body above was cut short when the step was recorded"
    return command


def _method(method: str, request: Mapping[str, Any]) -> list[str]:
    """`-X METHOD` unless curl would choose it: GET without a body, POST with one."""
    has_body = request.get("body") is not None
    if (method == "GET" and not has_body) or (method == "POST" and has_body):
        return []
    if method == "HEAD" and not has_body:
        return ["--head"]
    return [f"-X {method}"]
