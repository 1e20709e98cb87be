"""A step sent again because its request timed out while the worker stalled says so in every
report: its text and JUnit lines, the failure message, the HTML page and the JSON report."""

from __future__ import annotations

import json

from orchestra.domain.execution import CheckResult
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.reports.html import render_html
from orchestra.reports.json_report import render_json
from orchestra.reports.junit import render_junit
from orchestra.reports.text import failure_message, step_lines
from tests.support.example_report import example_report, make_run, step

STATUS = CheckResult(name="status", passed=False, expected=201, actual=500)


def test_a_failed_re_send_after_a_stall_says_so_before_the_check() -> None:
    failing = step(0, "Task_CreateOrder", StepStatus.FAILED, checks=(STATUS,), stalled_ms=9057)
    run = make_run(9, "happy", TestRunStatus.FAILED, (failing,))

    assert "(a re-send after the worker stalled 9057 ms) status: expected 201" in (
        failure_message(run)
    )
    assert "re-sent after the worker stalled 9057 ms" in step_lines(run.steps[0])[0]


def test_every_report_marks_a_step_re_sent_after_a_stall_and_no_other() -> None:
    resent = step(0, "Task_CreateOrder", stalled_ms=12_500.0)
    first = step(1, "Task_ReserveStock")
    report = example_report((make_run(9, "happy", TestRunStatus.PASSED, (resent, first)),))

    steps = json.loads(render_json(report))["report"]["test_runs"][0]["steps"]
    assert [s["stalled_ms"] for s in steps] == [12_500.0, None]
    assert render_html(report).count("re-sent after a stall") == 1
    assert render_junit(report).count("re-sent after the worker stalled 12.5 s") == 1
