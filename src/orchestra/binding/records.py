"""What one execution of a step gathers, and the redacted StepOutcome made of it."""

from __future__ import annotations

from typing import Any

from orchestra.binding.checks import ResponseView
from orchestra.binding.redaction import Redactor
from orchestra.domain.execution import CheckResult, StepOutcome
from orchestra.domain.statuses import StepStatus
from orchestra.domain.trusted import trusted
from orchestra.protocols.base import ProtocolRequest, ProtocolResponse, with_query


class Execution:
    """What one execution of a step has gathered so far."""

    __slots__ = (
        "attempts", "checks", "command", "command_check", "error", "exports", "request",
        "response", "saved", "status", "timeout_ran_out", "view",
    )  # fmt: skip

    def __init__(self) -> None:
        self.status = StepStatus.PASSED
        self.error: str | None = None
        self.request: ProtocolRequest | None = None
        self.response: ProtocolResponse | None = None
        self.view: ResponseView | None = None
        self.checks: list[CheckResult] = []
        self.attempts = 0
        self.timeout_ran_out: float | None = None  # monotonic: the last request's timed out
        self.saved: dict[str, Any] = {}
        self.exports: dict[str, Any] = {}
        # a command followed by `eventually.poll`: its request, answer, and whether it was taken
        self.command: tuple[ProtocolRequest, ProtocolResponse, ResponseView] | None = None
        self.command_check: CheckResult | None = None

    def keep_command(self) -> None:
        """The request sent and answer read so far are the command's: polls come next."""
        assert self.request is not None
        assert self.response is not None
        assert self.view is not None
        self.command = (self.request, self.response, self.view)

    def outcome(
        self,
        started_at: float,
        duration_ms: float,
        redactor: Redactor,
        limit: int,
        *,
        resent_after: int | None = None,
        stalled_ms: float | None = None,
    ) -> StepOutcome:
        """The redacted outcome; `resent_after` and `stalled_ms` mark a re-send. Built from
        values already of its fields' types, so unvalidated (`trusted`)."""
        checks = tuple(self.checks)
        if redactor.masks_values:
            checks = tuple(_redacted_check(check, redactor) for check in checks)
        command = None
        if self.command is not None:
            request, response, view = self.command
            command = {
                "request": _request_record(request, redactor, limit),
                "response": _response_record(response, view, redactor, limit),
            }
        failed = self.status is not StepStatus.PASSED
        return trusted(
            StepOutcome,
            {
                "status": self.status,
                "started_at": started_at,
                "duration_ms": duration_ms,
                "request": _request_record(self.request, redactor, limit),
                "response": _response_record(self.response, self.view, redactor, limit),
                "command": command,
                "checks": checks,
                "error": redactor.text(self.error) if self.error else None,
                "attempts": max(self.attempts, 1),
                "resent_after": resent_after,
                "stalled_ms": stalled_ms,
                "timeout_ran_out": self.timeout_ran_out if failed else None,
                "saved": redactor.value(self.saved) if self.saved else {},
                "exports": redactor.value(self.exports) if self.exports else {},
            },
        )


def _redacted_check(check: CheckResult, redactor: Redactor) -> CheckResult:
    expected = redactor.value(check.expected)
    actual = redactor.value(check.actual)
    message = redactor.value(check.message)
    if expected is check.expected and actual is check.actual and message is check.message:
        return check
    return check.model_copy(update={"expected": expected, "actual": actual, "message": message})


def _request_record(
    request: ProtocolRequest | None, redactor: Redactor, limit: int
) -> dict[str, Any] | None:
    if request is None:
        return None
    url = with_query(request.url, request.query)
    record: dict[str, Any] = {
        "method": request.method,
        "url": redactor.text(url),
        "headers": redactor.headers(request.headers),
    }
    if request.body is not None:
        record["body"] = redactor.text(request.body[:limit].decode("utf-8", "replace"))
        if len(request.body) > limit:
            record["truncated"] = True
    return record


def _response_record(
    response: ProtocolResponse | None, view: ResponseView | None, redactor: Redactor, limit: int
) -> dict[str, Any] | None:
    if response is None or view is None:
        return None
    record: dict[str, Any] = {
        "status": response.status,
        "headers": redactor.headers(response.headers),
        "elapsed_ms": round(response.elapsed_ms, 3),
        "url": redactor.text(response.url),
    }
    body = response.body
    is_json = "json" in (view.header("content-type") or "")
    if is_json and len(body) <= limit and (parsed := view.json_or_none()) is not None:
        record["json"] = redactor.json_body(parsed, body)
    elif body:
        record["body"] = redactor.text(view.text(limit))
        if len(body) > limit:
            record["truncated"] = True
            record["size"] = len(body)
    return record
