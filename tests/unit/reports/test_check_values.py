"""A check whose subject is not there reads "no match" in every output, never null; a failed
`that` check's values read are in the one-line failure message."""

from __future__ import annotations

import json

from orchestra.domain.execution import CheckResult
from orchestra.domain.statuses import StepKind, StepStatus, TestRunStatus
from orchestra.reports.html import render_html
from orchestra.reports.json_report import render_json
from orchestra.reports.junit import render_junit
from orchestra.reports.model import RunReport, TestRunReport
from orchestra.reports.text import failure_message, step_lines
from tests.support.example_report import example_report, make_run, step

NOTHING = CheckResult(
    name="jsonpath $.refund.id exists",
    passed=False,
    expected=None,
    actual=None,
    found=False,
    message="jsonpath $.refund.id eq: expected None, got no match",
)
NULL = CheckResult(name="jsonpath $.note eq", passed=False, expected="x", actual=None)
THAT = CheckResult(
    name="that",
    passed=False,
    expected=True,
    actual=False,
    message="that {{ vars.total > 10 }}: expected true, got False; it read vars.total = 3",
)


def _report(*checks: CheckResult) -> tuple[RunReport, TestRunReport]:
    failing = step(1, "EndEvent_OrderCancelled", StepStatus.FAILED, kind=StepKind.ASSERTION,
                   checks=checks, error="failed")  # fmt: skip
    run = make_run(9, "declined, give up", TestRunStatus.FAILED, (failing,))
    return example_report((run,)), run


def test_the_text_of_a_step_says_no_match_where_nothing_was_found_and_null_for_null() -> None:
    _, run = _report(NOTHING, NULL)
    lines = step_lines(run.steps[0])

    assert "  FAIL jsonpath $.refund.id exists: expected null, actual no match" in lines[-3]
    assert "  FAIL jsonpath $.note eq: expected x, actual null" in lines[-2]
    assert failure_message(run).endswith("jsonpath $.refund.id exists: expected null, got no match")


def test_junit_html_and_json_tell_no_match_from_null() -> None:
    report, _ = _report(NOTHING, NULL)

    assert "got no match" in render_junit(report)
    html = render_html(report)
    assert "<code>no match</code>" in html
    assert "<code>null</code>" in html
    checks = json.loads(render_json(report))["report"]["test_runs"][0]["steps"][0]["checks"]
    assert [(c["actual"], c["found"]) for c in checks] == [(None, False), (None, True)]


def test_the_failure_message_of_a_that_check_tells_the_values_it_read() -> None:
    _, run = _report(THAT)

    assert failure_message(run).endswith("that: expected true, got false; it read vars.total = 3")
