"""Plain-text pieces shared by the renderers: values, steps and failure messages."""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from typing import Any

from orchestra.domain.execution import NO_MATCH, READ_MARK, CheckResult
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind, StepStatus, TestRunStatus
from orchestra.domain.timestamps import rfc3339
from orchestra.reports.model import LostLeaseReport, StepReport, TestRunReport

MAX_VALUE_CHARS = 4000
MAX_MESSAGE_CHARS = 500
"""A one-line message (JUnit's `message`, the HTML run's summary): the rest is in the steps."""


@cache
def _not_xml() -> re.Pattern[str]:
    """Characters XML 1.0 cannot carry at all (a SUT's body may contain them); compiled when
    first met (a millisecond: the class spans the surrogates)."""
    return re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


# The control characters among them, as UTF-8 bytes: looked for in bytes, the usual text
# without any is told apart ten times faster than by the expression (a JUnit report holds MBs).
_NOT_XML_ASCII = bytes(set(range(0x20)) - {0x09, 0x0A, 0x0D})


def xml_safe(text: str) -> str:
    """`text` with the characters XML 1.0 forbids replaced by U+FFFD."""
    try:
        data = text.encode()  # a lone surrogate, which XML forbids, does not encode
    except UnicodeEncodeError:
        return _not_xml().sub("\ufffd", text)
    if len(data.translate(None, _NOT_XML_ASCII)) != len(data):
        return _not_xml().sub("\ufffd", text)
    if "\ufffe" in text or "\uffff" in text:
        return _not_xml().sub("\ufffd", text)
    return text


# `json.dumps(value, default=str, ensure_ascii=False)`, its encoder built once, not per value
_ONE_LINE = json.JSONEncoder(default=str, ensure_ascii=False)
_JSON_CONSTANTS = {True: "true", False: "false", None: "null"}


def show(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """A value as compact JSON (strings as they are), cut at `limit` characters."""
    if isinstance(value, str):
        text = value
    elif type(value) is int:  # most checks' values: what JSON writes, without an encoder
        text = int.__repr__(value)
    elif type(value) is bool or value is None:
        text = _JSON_CONSTANTS[value]
    else:
        text = _ONE_LINE.encode(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more chars)"


def show_actual(check: CheckResult, limit: int = MAX_VALUE_CHARS) -> str:
    """What a check read: `no match` when nothing was there (a JSONPath matching nothing),
    which is not JSON `null`."""
    return show(check.actual, limit) if check.found else NO_MATCH


def pretty(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """A value as indented JSON, cut at `limit` characters."""
    text = json.dumps(value, default=str, ensure_ascii=False, indent=2)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more chars)"


def _describe(step: StepReport | ScenarioStep) -> str:
    if step.name and step.element_id and step.name != step.element_id:
        label = f"{step.name} ({step.element_id})"
    else:
        label = step.name or step.element_id or step.kind.value.lower()
    return f"{label} [{step.branch}]" if step.branch else label


def step_label(step: StepReport | ScenarioStep) -> str:
    """`#6 Order cancelled (EndEvent_OrderCancelled)`, with ` [branch]` on a parallel branch."""
    return f"#{step.position} {_describe(step)}"


def step_title(step: StepReport) -> str:
    """`#6 ASSERTION Order cancelled (EndEvent_OrderCancelled)`."""
    return f"#{step.position} {step.kind.value} {_describe(step)}"


def format_ms(duration_ms: float | None) -> str:
    if duration_ms is None:
        return "-"
    return f"{duration_ms:.0f} ms" if duration_ms < 10_000 else f"{duration_ms / 1000:.1f} s"


def step_lines(step: StepReport, try_number: int = 1) -> list[str]:
    """One step as readable lines: title and status, request, response, checks, error;
    `try_number`: the run's try that executed it (`TestRunReport.try_of`)."""
    # said only when retries or polls made more than one (a step that never ran says so)
    requests = f", {step.requests} requests" if step.requests and step.requests > 1 else ""
    lines = [
        f"{step_title(step)}: {step.status.value} in {format_ms(step.duration_ms)}"
        f" (try {try_number}{requests}{resent(step)})"
    ]
    if step.command is not None:  # sent once; `request` and `response` are the last poll's
        lines.append(f"  command:  {show(step.command.get('request'))}")
        lines.append(f"  answered: {show(step.command.get('response'))}")
    polled = "last poll " if step.command is not None else ""
    if step.request is not None:
        lines.append(f"  {polled}request:  {show(step.request)}")
    if step.response is not None:
        lines.append(f"  {polled}response: {show(step.response)}")
    for check in step.checks:
        verdict = "ok  " if check.passed else "FAIL"
        lines.append(
            f"  {verdict} {check.name}: expected {show(check.expected, 500)},"
            f" actual {show_actual(check, 500)}" + (f" ({check.message})" if check.message else "")
        )
    if step.error:
        lines.append(f"  error: {step.error}")
    return lines


def resent(step: StepReport) -> str:
    """`, re-sent after claim 1 lost its lease` (or `after worker W released claim 1, the
    database out of reach`, `after the worker stalled 9.1 s`) for a re-send, else nothing."""
    said = ""
    if step.resent_after is not None:
        said = f", re-sent after {resent_after(step)}"
    if step.stalled_ms is not None:
        said += f", re-sent after the worker stalled {format_ms(step.stalled_ms)}"
    return said


def resent_after(step: StepReport) -> str:
    """What ended the claim a step was re-sent after: `claim 1 lost its lease`, `worker W
    released claim 1, the database out of reach`, `worker W stopped claim 1 mid-step as it
    shut down`."""
    claim = f"claim {step.resent_after}"
    worker = f"worker {step.resent_by}" if step.resent_by else "its worker"
    if step.resent_cause == "unreachable":
        return f"{worker} released {claim}, the database out of reach"
    if step.resent_cause == "drained":
        return f"{worker} stopped {claim} mid-step as it shut down"
    return f"{claim} lost its lease"


def one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`text` on one line (each run of whitespace one space), cut at `limit` characters."""
    return show(" ".join(text.split()), limit)


def failure_message(run: TestRunReport) -> str:
    """Why a run did not pass, in one line naming the step and the check or error (at most
    `MAX_MESSAGE_CHARS`: the whole error is in the step's lines)."""
    step = run.failing_step() or strict_cleanup_failed(run)
    if step is None:
        why = run.error or f"test run {run.id} ended {run.status.value}"
        stuck = run.stuck_step()
        return one_line(f"{step_label(stuck)}: {why}" if stuck else why)
    failed = [check for check in step.checks if not check.passed]
    if failed:
        check = failed[0]
        why = f"{check.name}: expected {show(check.expected, 200)}, got {show_actual(check, 200)}"
        read = (check.message or "").partition(READ_MARK)[2]
        why += f"{READ_MARK}{read}" if read else ""
    else:
        why = step.error or run.error or step.status.value
    if step.resent_after is not None:  # said before the detail the message may be cut in
        why = f"(a re-send after {resent_after(step)}) {why}"
    elif step.stalled_ms is not None:
        why = f"(a re-send after the worker stalled {format_ms(step.stalled_ms)}) {why}"
    return one_line(f"{step_label(step)}: {why}")


def strict_cleanup_failed(run: TestRunReport) -> StepReport | None:
    """The strict cleanup action that failed a run whose steps passed, if one did."""
    if run.failing_step() is not None or run.status is TestRunStatus.PASSED:
        return None
    return next((step for step in run.failed_cleanup() if step.strict), None)


def cleanup_summary(run: TestRunReport) -> str | None:
    """`cleanup: 1 of 2 actions did not pass (undo Create order: FAILED)`; None when the
    run's cleanup passed or it has none."""
    failed = run.failed_cleanup()
    if not failed:
        return None
    names = ", ".join(
        f"{step.name or step.element_id or f'#{step.position}'}: {step.status.value}"
        + (" (strict)" if step.strict else "")
        for step in failed
    )
    return (
        f"cleanup: {len(failed)} of {len(run.cleanup)} action"
        f"{'s' if len(run.cleanup) != 1 else ''} did not pass ({names})"
    )


def cleanup_lines(run: TestRunReport) -> list[str]:
    """The run's cleanup, as `step_lines` gives steps, under a heading."""
    if not run.cleanup:
        return []
    lines = [f"cleanup ({len(run.cleanup)} action{'s' if len(run.cleanup) != 1 else ''}):"]
    for step in run.cleanup:
        lines.extend(step_lines(step, run.try_of(step.attempt)))
    return lines


def lost_lease_text(run: TestRunReport, lease: LostLeaseReport) -> str:
    """One lost lease in a sentence: who held it, when it ran out, what it had in flight."""
    heartbeat = _clock(lease.heartbeat_at) if lease.heartbeat_at else "none"
    given_up = run.status is TestRunStatus.FAILED_STUCK and lease == run.lost_leases[-1]
    ended = "given up on" if given_up else "claimed again"
    text = (
        f"try {run.try_of(lease.attempt)} lost its lease: worker {lease.worker}, last heartbeat"
        f" {heartbeat}, lease expired {_clock(lease.expired_at)}, {ended}"
        f" {_clock(lease.noticed_at)}; {lease.steps_done} step"
        f"{'s' if lease.steps_done != 1 else ''} checkpointed"
    )
    by_position = {step.position: step for step in run.steps}
    flying = [by_position.get(p) for p in lease.in_flight]
    if flying:
        labels = [
            step_label(s) if s else f"#{p}" for s, p in zip(flying, lease.in_flight, strict=True)
        ]
        became = _what_became_of(flying, given_up, run.status.is_terminal)
        text += f"; in flight: {', '.join(labels)} ({became})"
    return text


def _what_became_of(flying: list[StepReport | None], given_up: bool, finished: bool) -> str:
    """Of the steps a lost lease had in flight: a barrier sends nothing; a request may have
    reached the SUT, and was sent again if a later try has its result (not when the run was
    given up on, nor when it ended first: cancelled, or failed on another branch)."""
    if all(s is not None and s.kind is StepKind.BARRIER for s in flying):
        return "a barrier: nothing was sent to the SUT"
    if given_up:
        return "may have reached the SUT; not executed again: the run was given up"
    again = [s for s in flying if s is not None and s.status is not StepStatus.SKIPPED]
    if len(again) == len(flying):
        return "may have reached the SUT; executed again with the same idempotency key"
    later = ": the run ended first" if finished else " yet"
    if not again:
        return f"may have reached the SUT; not executed again{later}"
    return (
        f"may have reached the SUT; {', '.join(f'#{s.position}' for s in again)} executed again"
        f" with the same idempotency key, the others not{later}"
    )


def _clock(moment: datetime) -> str:
    return rfc3339(moment, timespec="milliseconds")
