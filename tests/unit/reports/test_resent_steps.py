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


def test_a_re_send_after_its_run_was_released_names_the_worker_and_why() -> None:
    cut_off = step(0, "Task_CreateOrder", StepStatus.FAILED, checks=(STATUS,), resent_after=1,
                   resent_cause="unreachable", resent_by="w1")  # fmt: skip
    drained = step(1, "Task_ReserveStock", resent_after=2, resent_cause="drained", resent_by="w2")
    run = make_run(9, "happy", TestRunStatus.FAILED, (cut_off, drained))

    assert failure_message(run).startswith("#0 CreateOrder (Task_CreateOrder): (a re-send")
    assert "(a re-send after worker w1 released claim 1, the database out of reach)" in (
        failure_message(run)
    )
    assert (
        "re-sent after worker w2 stopped claim 2 mid-step as it shut down"
        in (step_lines(run.steps[1])[0])
    )
    report = example_report((run,))
    steps = json.loads(render_json(report))["report"]["test_runs"][0]["steps"]
    assert [(s["resent_cause"], s["resent_by"]) for s in steps] == [
        ("unreachable", "w1"),
        ("drained", "w2"),
    ]
    assert "before worker w1 released claim 1, the database out of reach" in render_html(report)
    assert "worker w1 released claim 1, the database out of reach" in render_junit(report)
