"""The JSON report: complete, and valid against the schema shipped in the package."""

from __future__ import annotations

import json

import jsonschema

from orchestra.reports.json_report import json_schema, render_json, shipped_schema
from orchestra.reports.model import RunReport
from tests.support.example_report import example_report


def test_the_shipped_schema_is_the_one_the_models_generate() -> None:
    assert shipped_schema() == json_schema(), "run: python -m orchestra.reports.schema"


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
