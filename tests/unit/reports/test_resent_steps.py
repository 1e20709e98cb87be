"""A re-sent step (executed again after a lost lease) says so in every report: its text and
JUnit lines, the failure message, the HTML page and the JSON report."""

from __future__ import annotations

import json

from orchestra.domain.execution import CheckResult
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.reports.html import render_html
from orchestra.reports.json_report import render_json
from orchestra.reports.junit import render_junit
from orchestra.reports.text import failure_message, step_lines
from tests.support.example_report import example_report, make_run, step

STATUS = CheckResult(name="status", passed=False, expected=201, actual=200)


def test_a_failed_re_send_says_so_before_the_check_in_its_failure_message() -> None:
    failing = step(0, "Task_CreateOrder", StepStatus.FAILED, checks=(STATUS,), resent_after=1)
    run = make_run(9, "happy", TestRunStatus.FAILED, (failing,))

    assert "(a re-send after claim 1 lost its lease) status: expected 201, got 200" in (
        failure_message(run)
    )
    assert "re-sent after claim 1 lost its lease" in step_lines(run.steps[0], 2)[0]


def test_every_report_marks_a_re_sent_step_and_no_other() -> None:
    resent = step(0, "Task_CreateOrder", resent_after=1)
    first = step(1, "Task_ReserveStock")
    report = example_report((make_run(9, "happy", TestRunStatus.PASSED, (resent, first)),))

    steps = json.loads(render_json(report))["report"]["test_runs"][0]["steps"]
    assert [s["resent_after"] for s in steps] == [1, None]
    assert render_html(report).count('class="resent"') == 1
    assert render_junit(report).count("re-sent after claim 1 lost its lease") == 1


def test_a_first_send_says_nothing_of_re_sending() -> None:
    run = make_run(9, "happy", TestRunStatus.FAILED, (step(0, "Task_CreateOrder", StepStatus.FAILED,
                                                            checks=(STATUS,)),))  # fmt: skip
    assert "re-send" not in failure_message(run)
    assert "re-sent" not in step_lines(run.steps[0])[0]
