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

from orchestra.reports.calls import call_view
from orchestra.reports.model import (
    MAX_DETAILED_RUNS,
    Documented,
    RunOrder,
    RunReport,
)
from orchestra.reports.outcomes import (
    ElementOutcome,
    Tally,
    outcome_counts,
    tallied_outcomes,
    tally,
)

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
    order = RunOrder.of(report.test_runs)
    elements = tally((run, 1) for run in report.test_runs)
    detailed = set(order.to_detail(detailed_runs))
    if len(detailed) < len(order):
        listed = tuple(run for run in report.test_runs if run.id in detailed)
        report = report.model_copy(update={"test_runs": listed})
    return document(report, order, elements)


def document(report: RunReport, order: RunOrder, elements: Tally) -> ReportDocument:
    """The document of the runs of `order`, `report.test_runs` those it details (in order);
    `elements` counts every run at each element."""
    outcomes = tallied_outcomes(elements, report.process.graph)
    summary = Summary(
        status=report.suite_run.status.value,
        test_runs=len(order),
        by_status={status.value: n for status, n in order.counts().items()},
        duration_s=report.duration_s,
        elements=outcome_counts(outcomes),
    )
    called = [
        outcome
        for call in report.process.calls
        for outcome in tallied_outcomes(elements, call_view(call)).values()
    ]
    return ReportDocument(
        format=FORMAT,
        summary=summary,
        elements=(*outcomes.values(), *called),
        report=report,
        left_out=_left_out(report, order),
    )


def _left_out(report: RunReport, order: RunOrder) -> LeftOut | None:
    detailed = len(report.test_runs)
    if detailed == len(order):
        return None
    by_status = order.left_out({run.id for run in report.test_runs})
    suite_run = report.suite_run.id
    return LeftOut(
        test_runs=len(order) - detailed,
        by_status={status.value: n for status, n in by_status.items()},
        detailed=detailed,
        get_all=(
            f"orchestra report {suite_run} --format json --all-runs, or"
            f" GET /suite-runs/{suite_run}/report?format=json&all_runs=true"
        ),
    )


def render_json(report: RunReport, *, detailed_runs: int = MAX_DETAILED_RUNS) -> str:
    """The JSON report, valid against `report.schema.json`, detailing at most `detailed_runs`
    runs (failures first; `left_out` counts the others)."""
    return document_text(build_document(report, detailed_runs=detailed_runs))


def document_text(built: ReportDocument) -> str:
    """The document as the JSON report's file holds it."""
    return built.model_dump_json(indent=2) + "\n"


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
