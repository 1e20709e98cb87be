"""The JSON report: complete, and valid against the schema shipped in the package."""

from __future__ import annotations

import json
import time

import jsonschema
import pytest

from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.reports import render
from orchestra.reports.json_report import SCHEMA_PATH, render_json, schema_text, shipped_schema
from orchestra.reports.model import MAX_DETAILED_RUNS, RunReport, TestRunReport
from tests.support.example_report import example_report, make_run, step


def test_the_shipped_schema_is_the_one_the_models_generate() -> None:
    # the text, not the parsed document: a file written in another key order would make the next
    # regeneration a diff of hundreds of lines that hides what changed
    shipped = SCHEMA_PATH.read_text(encoding="utf-8")
    assert shipped == schema_text(), "run: python -m orchestra.reports.schema"


def test_the_report_validates_against_the_shipped_schema() -> None:
    document = json.loads(render_json(example_report()))
    jsonschema.Draft202012Validator.check_schema(shipped_schema())
    jsonschema.validate(document, shipped_schema(), cls=jsonschema.Draft202012Validator)


def test_the_schema_refuses_a_report_missing_its_runs_status() -> None:
    document = json.loads(render_json(example_report()))
    del document["report"]["test_runs"][0]["status"]
    errors = list(jsonschema.Draft202012Validator(shipped_schema()).iter_errors(document))
    assert [list(error.path) for error in errors] == [["report", "test_runs", 0]]


def test_the_report_carries_runs_steps_checks_timings_and_coverage() -> None:
    document = json.loads(render_json(example_report()))
    assert document["format"] == "orchestra.report/1"
    assert document["summary"]["by_status"]["FAILED"] == 1
    assert document["summary"]["by_status"]["PASSED"] == 2
    assert document["summary"]["elements"]["node"] == {"passed": 16, "failed": 1, "not-covered": 0}
    failed = document["report"]["test_runs"][2]
    assert failed["steps"][-1]["checks"][1]["expected"] == "RELEASED"
    assert failed["steps"][-1]["checks"][1]["actual"] == "RESERVED"
    assert failed["steps"][-1]["duration_ms"] == 62.5
    assert document["report"]["suite"]["coverage"]["flows_covered"] == 17


def test_the_report_reads_back_into_the_model() -> None:
    report = example_report()
    document = json.loads(render_json(report))
    assert RunReport.model_validate(document["report"]) == report


def _runs(count: int, failing: set[int]) -> tuple[TestRunReport, ...]:
    return tuple(
        make_run(
            n,
            "declined, give up",
            TestRunStatus.FAILED if n in failing else TestRunStatus.PASSED,
            tuple(step(k, "Task_CreateOrder") for k in range(1, 9)),
        )
        for n in range(1, count + 1)
    )


def test_beyond_the_bound_the_failures_are_detailed_first_and_the_others_counted() -> None:
    report = example_report(_runs(6, failing={3, 6}))
    document = json.loads(render_json(report, detailed_runs=3))
    jsonschema.validate(document, shipped_schema(), cls=jsonschema.Draft202012Validator)
    assert [run["id"] for run in document["report"]["test_runs"]] == [1, 3, 6]
    left_out = document["left_out"]
    assert (left_out["test_runs"], left_out["by_status"], left_out["detailed"]) == (
        3,
        {"PASSED": 3},
        3,
    )
    assert "orchestra report 7 --format json --all-runs" in left_out["get_all"]
    assert "GET /suite-runs/7/report?format=json&all_runs=true" in left_out["get_all"]
    assert (document["summary"]["test_runs"], document["summary"]["by_status"]["PASSED"]) == (6, 4)


def test_failures_beyond_the_bound_are_counted_and_still_colour_their_elements() -> None:
    failing = make_run(
        9,
        "declined, give up",
        TestRunStatus.FAILED,
        (step(1, "Task_CreateOrder", StepStatus.ERROR),),
    )
    report = example_report((*_runs(2, failing={1, 2}), failing))
    document = json.loads(render_json(report, detailed_runs=2))
    assert [run["id"] for run in document["report"]["test_runs"]] == [1, 2]
    assert document["left_out"]["by_status"] == {"FAILED": 1}
    outcomes = {e["element_id"]: e for e in document["elements"]}
    assert (outcomes["Task_CreateOrder"]["outcome"], outcomes["Task_CreateOrder"]["failed"]) == (
        "failed",
        1,
    )


def test_a_report_within_the_bound_or_asked_for_all_runs_leaves_none_out() -> None:
    report = example_report(_runs(MAX_DETAILED_RUNS + 1, failing={5}))
    bounded = json.loads(render(report, "json"))
    assert (len(bounded["report"]["test_runs"]), bounded["left_out"]["test_runs"]) == (
        MAX_DETAILED_RUNS,
        1,
    )
    assert 5 in {run["id"] for run in bounded["report"]["test_runs"]}
    everything = json.loads(render(report, "json", all_runs=True))
    assert (len(everything["report"]["test_runs"]), everything["left_out"]) == (
        MAX_DETAILED_RUNS + 1,
        None,
    )
    assert json.loads(render_json(example_report()))["left_out"] is None


@pytest.mark.slow
def test_ten_thousand_runs_make_a_document_of_bounded_size() -> None:
    report = example_report(_runs(10_000, failing=set(range(10, 10_001, 10))))
    started = time.perf_counter()
    text = render_json(report)
    elapsed = time.perf_counter() - started
    document = json.loads(text)
    assert len(document["report"]["test_runs"]) == MAX_DETAILED_RUNS
    assert {run["status"] for run in document["report"]["test_runs"]} == {"FAILED"}
    assert document["left_out"]["by_status"] == {"PASSED": 9_000}
    print(f"10,000 runs of 8 steps: {len(text.encode()) / 1e6:.1f} MB JSON in {elapsed:.1f} s")
    assert len(text.encode()) < 15_000_000, len(text.encode())  # 94 MB with every step
