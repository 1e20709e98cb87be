"""The JUnit XML report, as a JUnit library reads it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.reports.junit import render_junit
from orchestra.reports.model import RunReport
from orchestra.reports.text import MAX_MESSAGE_CHARS, xml_safe
from tests.support.example_report import example_report, make_run, step


def parsed(report: RunReport, tmp_path: Path) -> JUnitXml:
    target = tmp_path / "junit.xml"
    target.write_text(render_junit(report), encoding="utf-8")
    return JUnitXml.fromfile(str(target))


def test_one_testsuite_per_suite_run_with_the_totals(tmp_path: Path) -> None:
    suites = list(parsed(example_report(), tmp_path))
    assert len(suites) == 1
    suite = suites[0]
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (3, 1, 0, 0)
    assert suite.name == "Order fulfilment v1 — suite run 7"
    assert suite.time == pytest.approx(9.0)


def test_one_testcase_per_test_run_with_the_failure_message_naming_step_and_check(
    tmp_path: Path,
) -> None:
    cases = {case.name: case for case in next(iter(parsed(example_report(), tmp_path)))}
    assert set(cases) == {
        "retry then ship [row 0]",
        "address rejected, refund [row 0]",
        "declined, give up [row 0]",
    }
    assert cases["retry then ship [row 0]"].is_passed
    (failure,) = cases["declined, give up [row 0]"].result
    assert isinstance(failure, Failure)
    assert failure.message == (
        "#5 OrderCancelled (EndEvent_OrderCancelled):"
        " jsonpath $.reservation.state eq: expected RELEASED, got RESERVED"
    )
    assert cases["declined, give up [row 0]"].classname == "order_fulfilment.v1"


def test_system_out_carries_every_step_with_request_response_and_checks(tmp_path: Path) -> None:
    cases = {case.name: case for case in next(iter(parsed(example_report(), tmp_path)))}
    out = cases["declined, give up [row 0]"].system_out or ""
    assert "#1 ACTION CreateOrder (Task_CreateOrder): PASSED" in out
    assert '"url": "http://127.0.0.1:8765/orders/ord-1/cancel"' in out
    assert "FAIL jsonpath $.reservation.state eq: expected RELEASED, actual RESERVED" in out


def test_errors_and_skips_are_told_apart_from_failures(tmp_path: Path) -> None:
    runs = (
        make_run(
            1,
            "a",
            TestRunStatus.ERROR,
            (step(1, "Task_CreateOrder", StepStatus.ERROR, error="connection refused"),),
        ),
        make_run(2, "b", TestRunStatus.FAILED_STUCK, (), error="lease expired 3 times"),
        make_run(3, "c", TestRunStatus.SKIPPED, (), error="dependency a did not pass"),
    )
    suite = next(iter(parsed(example_report(runs), tmp_path)))
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (3, 0, 2, 1)
    results = {case.name: case.result[0] for case in suite}
    assert isinstance(results["a [row 0]"], Error)
    assert "connection refused" in (results["a [row 0]"].message or "")
    assert isinstance(results["b [row 0]"], Error)
    assert results["b [row 0]"].message == "lease expired 3 times"
    assert isinstance(results["c [row 0]"], Skipped)
    assert results["c [row 0]"].message == "SKIPPED: dependency a did not pass"


def test_bytes_xml_cannot_carry_are_replaced_not_fatal(tmp_path: Path) -> None:
    hostile = step(1, "Task_CreateOrder", StepStatus.FAILED, error="body \x00\x1b<]]>&")
    run = make_run(1, "x", TestRunStatus.FAILED, (hostile,))
    case = next(iter(next(iter(parsed(example_report((run,)), tmp_path)))))
    assert "body \ufffd\ufffd<]]>&" in (case.system_out or "")


def test_the_timestamp_is_utc_without_offset_as_the_junit_schema_wants(tmp_path: Path) -> None:
    suite = next(iter(parsed(example_report(), tmp_path)))
    assert suite.timestamp == "2026-11-28T07:00:00"


def test_a_long_error_is_a_one_line_message_its_whole_text_in_the_failure(
    tmp_path: Path,
) -> None:
    error = "Traceback (most recent call last):\n" + "  frame\n" * 20_000 + "ValueError: bad"
    failing = step(1, "Task_CreateOrder", StepStatus.ERROR, error=error)
    run = make_run(1, "x", TestRunStatus.ERROR, (failing,), error=f"CreateOrder: {error}")
    case = next(iter(next(iter(parsed(example_report((run,)), tmp_path)))))
    (result,) = case.result
    message = result.message or ""
    assert message.startswith("#1 CreateOrder (Task_CreateOrder): Traceback (most recent call")
    assert "\n" not in message
    assert len(message) <= MAX_MESSAGE_CHARS + 30  # the cut and how much it left out
    assert "ValueError: bad" in (result.text or "")
    assert "ValueError: bad" in (case.system_out or "")


def test_the_document_is_laid_out_and_escaped_as_elementtree_writes_it() -> None:
    awkward = "a & b < c > \"d\" 'e' \t tab\nline \x00 é — 😀"
    runs = tuple(
        make_run(
            number,
            f"{awkward} {status.value}",
            status,
            (step(1, "Task_CreateOrder", StepStatus.FAILED, error=awkward),),
            error=awkward,
        )
        for number, status in enumerate(TestRunStatus, 1)
    )
    for report in (example_report(), example_report(runs), example_report(())):
        text = render_junit(report)
        declaration, _, body = text.partition("\n")
        tree = ET.fromstring(body)
        ET.indent(tree)
        assert declaration == '<?xml version="1.0" encoding="UTF-8"?>'
        assert body == ET.tostring(tree, encoding="unicode") + "\n"


def test_only_the_characters_xml_forbids_are_replaced() -> None:
    forbidden = [chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)]
    forbidden += ["\ufffe", "\uffff", "\ud800", "\udfff"]
    allowed = ["\t", "\n", "\r", " ", "\x7f", "é", "—", "\ufffd", "\U0001f600", "\u2028"]

    for char in forbidden:
        assert xml_safe(f"a{char}é") == "a\ufffdé"
        assert xml_safe(f"ascii {char}") == "ascii \ufffd"
    for char in allowed:
        assert xml_safe(f"a{char}é") == f"a{char}é"
