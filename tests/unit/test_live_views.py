"""What the live pages make of a test run: the step a red element leads to, bodies for reading,
recorded requests and responses of any shape."""

from __future__ import annotations

import re

from orchestra.api.web.live import (
    drawings,
    focused_step,
    request_view,
    response_view,
    shown_value,
)
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.reports.outcomes import element_outcomes, tallied_outcomes, tally
from tests.support.call_process import checkout_run_report
from tests.support.example_report import example_report, make_run, step


def test_a_red_element_leads_to_the_step_that_failed_there_else_to_the_first_failure() -> None:
    run = make_run(
        1,
        "parallel",
        TestRunStatus.FAILED,
        (
            step(0, "Task_CreateOrder"),
            step(1, "Task_ReserveStock", StepStatus.FAILED),
            step(2, "Task_ChargePayment", StepStatus.ERROR),
        ),
    )

    assert [
        focused.position if (focused := focused_step(run, element)) else None
        for element in ("Task_ChargePayment", "Task_ReserveStock", "Task_CreateOrder", None)
    ] == [2, 1, 1, 1]


def test_a_step_inside_an_inlined_call_is_reached_from_the_call_activity() -> None:
    steps = (step(0, "Task_A"), step(1, "Call/Task_X", StepStatus.FAILED))
    run = make_run(1, "call", TestRunStatus.FAILED, steps)

    focused = focused_step(run, "Call")

    assert focused is not None
    assert focused.position == 1


def test_bodies_are_indented_when_json_and_shown_as_they_came_otherwise() -> None:
    assert shown_value('{"a": [1, 2]}') == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert shown_value("plain <b>text</b>") == "plain <b>text</b>"
    assert shown_value({"ok": True}) == '{\n  "ok": true\n}'
    assert shown_value("42") == "42"


def test_requests_and_responses_of_any_shape_are_read_without_failing() -> None:
    request = request_view(
        {"method": "POST", "url": "http://h/o", "headers": {"A": "1"}, "body": "x", "truncated": 1}
    )
    response = response_view(
        {"status": 200, "elapsed_ms": 5, "json": {"id": 1}, "truncated": True, "size": 9}
    )
    plugin = response_view({"reply": "pong"})

    assert (request.line, request.headers, request.body) == ("POST http://h/o", {"A": "1"}, "x")
    assert request.notes == ("body cut short when recorded",)
    assert response.line == "200 in 5 ms"
    assert response.body == '{\n  "id": 1\n}'
    assert response.notes == ("body cut at the recorded limit of 9 bytes",)
    assert (plugin.line, plugin.body) == ("", None)
    assert plugin.notes == ('{\n  "reply": "pong"\n}',)


def test_the_live_page_draws_each_called_process_with_a_badge_on_every_node() -> None:
    report = checkout_run_report()

    found = drawings(report.process, tally((run, 1) for run in report.test_runs))

    assert len(found) == 1 + len(report.process.calls)
    for drawing in found:
        nodes = re.findall(r'<g class="el (?:task|event|gateway)[^>]*>', drawing.svg)
        assert nodes
        assert drawing.svg.count('<text class="badge"') == len(nodes)
    inner = {e for d in found[1:] for e in re.findall(r'data-element="([^"]+)"', d.svg)}
    assert inner
    assert all("/" in element for element in inner)  # under the call's ids, as runs name them


def test_a_run_standing_for_its_group_counts_as_many_runs_as_the_group_holds() -> None:
    report = example_report()
    doubled = report.model_copy(update={"test_runs": report.test_runs * 2})

    counted = tally((run, 2) for run in report.test_runs)

    assert tallied_outcomes(counted, report.process.graph) == element_outcomes(doubled)
    failing = [run.id for run in report.test_runs if run.is_failure]
    assert failing
    assert set(counted.first_failed.values()) <= set(failing)
    assert min(failing) in counted.first_failed.values()
