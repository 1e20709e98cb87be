"""The JSON report: the whole suite run as one document, described by `report.schema.json`.

The document is `{"format", "summary", "elements", "report"}`: `report` is the `RunReport`
model as is (runs, steps, checks, timings, coverage, the process graph and the called processes
it inlined), `elements` the outcome of every node and flow (the called processes' under their
inlined ids), `summary` the counts a dashboard wants first. Regenerate the shipped
schema after changing a model with `python -m orchestra.reports.schema`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from orchestra.domain.statuses import TestRunStatus
from orchestra.reports.calls import call_view
from orchestra.reports.model import Documented, RunReport
from orchestra.reports.outcomes import ElementOutcome, element_outcomes, outcome_counts

FORMAT = "orchestra.report/1"
SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
SCHEMA_ID = "urn:orchestra:schema:report:1"


class Summary(Documented):
    status: str
    """The suite run's status."""
    test_runs: int
    by_status: dict[str, int]
    """Test runs per status, every status listed."""
    duration_s: float | None = None
    elements: dict[str, dict[str, int]]
    """{"node"|"flow": {"passed"|"failed"|"not-covered": count}}, of the process itself (not
    of the called processes it inlined)."""


class ReportDocument(Documented):
    """Orchestra's JSON report of one suite run."""

    format: Literal["orchestra.report/1"]
    summary: Summary
    elements: tuple[ElementOutcome, ...]
    """Every node and sequence flow of the process with its outcome, then those of each called
    process it inlined (`report.process.calls`), by their inlined ids (`CALL/<id>`)."""
    report: RunReport


def build_document(report: RunReport) -> ReportDocument:
    outcomes = element_outcomes(report)
    summary = Summary(
        status=report.suite_run.status.value,
        test_runs=len(report.test_runs),
        by_status={status.value: report.count(status) for status in TestRunStatus},
        duration_s=report.duration_s,
        elements=outcome_counts(outcomes),
    )
    called = [
        outcome
        for call in report.process.calls
        for outcome in element_outcomes(report, call_view(call)).values()
    ]
    return ReportDocument(
        format=FORMAT, summary=summary, elements=(*outcomes.values(), *called), report=report
    )


def render_json(report: RunReport) -> str:
    """The JSON report, valid against `report.schema.json`."""
    return build_document(report).model_dump_json(indent=2) + "\n"


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the JSON report, as generated from the models."""
    schema = ReportDocument.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def shipped_schema() -> dict[str, Any]:
    """The schema file shipped in the package (kept equal to `json_schema()` by a test)."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def write_schema() -> None:
    """Regenerate the shipped schema file from the models."""
    SCHEMA_PATH.write_text(json.dumps(json_schema(), indent=2) + "\n", encoding="utf-8")
