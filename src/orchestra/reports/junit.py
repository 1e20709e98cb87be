"""JUnit XML in the schema CI systems read (Jenkins, GitLab, GitHub Actions reporters, ...).

<testsuites>                       all of it
  <testsuite>                      the suite run (properties: process, suite, coverage)
    <testcase>                     one test run (scenario × data row)
      <failure>|<error>|<skipped>  FAILED | ERROR, FAILED_STUCK | anything else not PASSED
      <system-out>                 every step: request, response, checks, error; then
                                   the cleanup actions, which fail the case only when strict
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from orchestra.domain.statuses import TestRunStatus
from orchestra.reports.model import RunOrder, RunReport, TestRunReport
from orchestra.reports.text import (
    cleanup_lines,
    cleanup_summary,
    failure_message,
    lost_lease_text,
    one_line,
    step_lines,
    strict_cleanup_failed,
    xml_safe,
)

_ERRORS = frozenset({TestRunStatus.ERROR, TestRunStatus.FAILED_STUCK})
_INDENT = "  "


def render_junit(report: RunReport) -> str:
    """The suite run as a JUnit XML document (UTF-8, with its declaration)."""
    counts = RunOrder.of(report.test_runs).counts()
    return junit_head(report, counts) + junit_testcases(report, report.test_runs) + JUNIT_TAIL


# The document in three parts, for a writer to stream the test cases page by page: the head
# (the totals and properties), each page's test cases, the tail.


def junit_head(report: RunReport, counts: Mapping[TestRunStatus, int]) -> str:
    """The document up to its first test case: the totals count `counts` (of every run of the
    suite run, whichever `report.test_runs` holds)."""
    process = report.process
    name = f"{process.name or process.key} v{process.version} — suite run {report.suite_run.id}"
    properties = [
        _leaf("property", {"name": key, "value": xml_safe(value)})
        for key, value in _properties(report).items()
    ]
    suite = {**_totals(report, counts, name=name), "id": str(report.suite_run.id)}
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"{_start('testsuites', _totals(report, counts, name='orchestra'))}>\n{_INDENT}"
        f"{_start('testsuite', suite)}>\n{_INDENT * 2}"
        + _parent("properties", {}, properties, level=2)
    )


def junit_testcases(report: RunReport, runs: Iterable[TestRunReport]) -> str:
    """The test cases of `runs`, following the head or the test cases before them."""
    classname = f"{report.process.key}.v{report.process.version}"
    return "".join(f"\n{_INDENT * 2}{_testcase(run, classname)}" for run in runs)


JUNIT_TAIL = f"\n{_INDENT}</testsuite>\n</testsuites>\n"
"""The document after its last test case."""


def _totals(report: RunReport, counts: Mapping[TestRunStatus, int], *, name: str) -> dict[str, str]:
    tests = sum(counts.values())
    failures = counts.get(TestRunStatus.FAILED, 0)
    errors = sum(counts.get(status, 0) for status in _ERRORS)
    passed = counts.get(TestRunStatus.PASSED, 0)
    totals = {
        "name": xml_safe(name),
        "tests": str(tests),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(tests - failures - errors - passed),
        "time": f"{report.duration_s or 0.0:.3f}",
    }
    if report.suite_run.started_at is not None:
        totals["timestamp"] = _timestamp(report.suite_run.started_at)
    return totals


def _timestamp(moment: datetime) -> str:
    """UTC without offset: the JUnit schema's timestamp is an ISO 8601 local date-time."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def _properties(report: RunReport) -> dict[str, str]:
    coverage = report.suite.coverage
    return {
        "orchestra.process.key": report.process.key,
        "orchestra.process.version": str(report.process.version),
        "orchestra.suite.id": str(report.suite.id),
        "orchestra.suite.criterion": report.suite.criterion,
        "orchestra.suite_run.status": report.suite_run.status.value,
        "orchestra.environment": report.suite_run.environment or "",
        "orchestra.coverage.flows": f"{coverage.flows_covered}/{coverage.flows_total}",
        "orchestra.coverage.nodes": f"{coverage.nodes_covered}/{coverage.nodes_total}",
    }


def _testcase(run: TestRunReport, classname: str) -> str:
    outcome = _outcome_element(run)
    out = _leaf("system-out", {}, xml_safe(_step_log(run)))
    return _parent(
        "testcase",
        {
            "name": xml_safe(run.display_name),
            "classname": xml_safe(classname),
            "time": f"{run.duration_s or 0.0:.3f}",
        },
        [out] if outcome is None else [outcome, out],
        level=2,
    )


def _outcome_element(run: TestRunReport) -> str | None:
    if run.status is TestRunStatus.PASSED:
        return None
    message = xml_safe(failure_message(run))
    if run.status is TestRunStatus.FAILED:
        tag = "failure"
    elif run.status in _ERRORS:
        tag = "error"
    else:
        unfinished = "the run had not finished when the report was made"
        reason = run.error or (
            f"test run ended {run.status.value}" if run.status.is_terminal else unfinished
        )
        return _leaf("skipped", {"message": xml_safe(one_line(f"{run.status.value}: {reason}"))})
    step = run.failing_step() or strict_cleanup_failed(run)
    lines = step_lines(step, run.try_of(step.attempt)) if step else [message]
    attributes = {"message": message, "type": run.status.value}
    return _leaf(tag, attributes, xml_safe("\n".join(lines)))


def _step_log(run: TestRunReport) -> str:
    header = (
        f"test run {run.id}: {run.display_name} — {run.status.value}"
        f" after {run.attempts} {'try' if run.attempts == 1 else 'tries'}"
    )
    lines = [header, f"path: {' -> '.join(run.path)}" if run.path else "path: -"]
    lines.extend(lost_lease_text(run, lease) for lease in run.lost_leases)
    for step in run.steps:
        lines.extend(step_lines(step, run.try_of(step.attempt)))
    lines.extend(cleanup_lines(run))
    summary = cleanup_summary(run)
    if summary:
        lines.append(summary)
    if run.error:
        lines.append(f"error: {run.error}")
    return "\n".join(lines)


# The document is written as ElementTree writes an indented tree (`ET.indent`, then
# `ET.tostring`), to the byte, without building one: an element of 200 runs' steps is text.


def _parent(tag: str, attributes: dict[str, str], children: list[str], *, level: int) -> str:
    """An element holding `children` (each written already), each on a line of its own one
    level deeper than the element's (`level`)."""
    if not children:
        return _leaf(tag, attributes)
    inner = "\n" + _INDENT * (level + 1)
    return f"{_start(tag, attributes)}>{inner}{inner.join(children)}\n{_INDENT * level}</{tag}>"


def _leaf(tag: str, attributes: dict[str, str], text: str = "") -> str:
    if not text:
        return f"{_start(tag, attributes)} />"
    return f"{_start(tag, attributes)}>{_escape_text(text)}</{tag}>"


def _start(tag: str, attributes: dict[str, str]) -> str:
    return f"<{tag}" + "".join(f' {k}="{_escape_attribute(v)}"' for k, v in attributes.items())


def _escape_text(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _escape_attribute(value: str) -> str:
    """`_escape_text`, with quotes escaped, and the line breaks and tabs as character
    references (a parser would make them spaces)."""
    value = _escape_text(value)
    if '"' in value:
        value = value.replace('"', "&quot;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    if "\n" in value:
        value = value.replace("\n", "&#10;")
    if "\t" in value:
        value = value.replace("\t", "&#09;")
    return value
