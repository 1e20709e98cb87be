"""The JSON report: the suite run as one document, described by `report.schema.json`.

The document is `{"format", "summary", "elements", "report", "left_out"}`: `report` is the
`RunReport` model (runs, steps, checks, timings, coverage, the process graph and the called
processes it inlined), `elements` the outcome of every node and flow (the called processes'
under their inlined ids), `summary` the counts a dashboard wants first. Like the HTML page, it
details at most `MAX_DETAILED_RUNS` runs, failures first: `report.test_runs` lists those, and
`left_out` counts the others per status and says how to get them all; `summary` and `elements`
count every run. Regenerate the shipped schema after changing a model with
`python -m orchestra.reports.schema`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from orchestra.domain.statuses import TestRunStatus
from orchestra.reports.calls import call_view
from orchestra.reports.model import (
    MAX_DETAILED_RUNS,
    Documented,
    RunReport,
    TestRunReport,
    runs_to_detail,
)
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


class LeftOut(Documented):
    """The runs beyond the document's bound: counted, not listed in `report.test_runs`."""

    test_runs: int
    """How many runs of the suite run `report.test_runs` leaves out."""
    by_status: dict[str, int]
    """The runs left out, per status (the statuses they have)."""
    detailed: int
    """How many runs `report.test_runs` details, with their steps: the failures first, then
    the others in order, up to the bound."""
    get_all: str
    """How to get a document that details every run."""


class ReportDocument(Documented):
    """Orchestra's JSON report of one suite run."""

    format: Literal["orchestra.report/1"]
    summary: Summary
    elements: tuple[ElementOutcome, ...]
    """Every node and sequence flow of the process with its outcome, then those of each called
    process it inlined (`report.process.calls`), by their inlined ids (`CALL/<id>`), counting
    every run (those left out too)."""
    report: RunReport
    """The suite run, with the runs the document details (all of them unless `left_out`)."""
    left_out: LeftOut | None = None
    """Beyond the bound (1,000 runs by default), the runs not listed in `report.test_runs`;
    null when every run is."""


def build_document(report: RunReport, *, detailed_runs: int = MAX_DETAILED_RUNS) -> ReportDocument:
    """The document of `report`, detailing at most `detailed_runs` runs (failures first)."""
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
    detailed = runs_to_detail(report, detailed_runs)
    left_out = _left_out(report, detailed)
    if left_out is not None:
        report = report.model_copy(update={"test_runs": detailed})
    return ReportDocument(
        format=FORMAT,
        summary=summary,
        elements=(*outcomes.values(), *called),
        report=report,
        left_out=left_out,
    )


def _left_out(report: RunReport, detailed: tuple[TestRunReport, ...]) -> LeftOut | None:
    if len(detailed) == len(report.test_runs):
        return None
    listed = {run.id for run in detailed}
    by_status: dict[str, int] = {}
    for run in report.test_runs:
        if run.id not in listed:
            by_status[run.status.value] = by_status.get(run.status.value, 0) + 1
    suite_run = report.suite_run.id
    return LeftOut(
        test_runs=len(report.test_runs) - len(detailed),
        by_status=by_status,
        detailed=len(detailed),
        get_all=(
            f"orchestra report {suite_run} --format json --all-runs, or"
            f" GET /suite-runs/{suite_run}/report?format=json&all_runs=true"
        ),
    )


def render_json(report: RunReport, *, detailed_runs: int = MAX_DETAILED_RUNS) -> str:
    """The JSON report, valid against `report.schema.json`, detailing at most `detailed_runs`
    runs (failures first; `left_out` counts the others)."""
    document = build_document(report, detailed_runs=detailed_runs)
    return document.model_dump_json(indent=2) + "\n"


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the JSON report, as generated from the models."""
    from orchestra.schemas.attribute_docs import with_attribute_docs

    schema = ReportDocument.model_json_schema(mode="serialization")
    schema = with_attribute_docs(schema, ReportDocument)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def shipped_schema() -> dict[str, Any]:
    """The schema file shipped in the package (kept equal to `json_schema()` by a test)."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def schema_text() -> str:
    """`json_schema()` as the shipped file holds it, byte for byte (a test compares the two, so
    regenerating the file changes only what the models changed)."""
    return json.dumps(json_schema(), indent=2) + "\n"


def write_schema() -> None:
    """Regenerate the shipped schema file from the models."""
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
