"""What the API reads and answers: a `...Create` model per request body, a `...Public` model
per answer. Answers are built from what the services return, never from database rows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from orchestra.domain.generation import (
    DEFAULT_LOOP_BOUND,
    DEFAULT_MAX_SCENARIOS,
    MAX_LOOP_BOUND,
    MAX_SCENARIOS,
    Criterion,
)
from orchestra.domain.process import Problem
from orchestra.domain.records import MAX_NAME_LENGTH, StoredScenario, StoredSuite
from orchestra.domain.scenario import Coverage
from orchestra.domain.statuses import SuiteRunStatus, TestRunStatus
from orchestra.reports.model import TestRunReport
from orchestra.reports.outcomes import Tally, run_elements
from orchestra.reports.text import failure_message
from orchestra.services.importing import FileImport
from orchestra.services.running import Progress, SuiteRunPage
from orchestra.services.watching import TestRunDetail, TestRunPage

MAX_BINDINGS_CHARS = 4 * 1024 * 1024
# A name PostgreSQL can store as text: no NUL character.
NAME_PATTERN = r"^[^\x00]+$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=MAX_NAME_LENGTH)]


class Create(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class Health(Public):
    status: str
    database: str


class ProtocolPublic(Public):
    name: str
    origin: str = Field(description='"built-in", or the entry point and its distribution')
    status: Literal["ok", "broken"]
    action: str | None = Field(None, description="The model validating its binding actions")
    fields: list[str] = Field(default_factory=list, description="Its actions' own fields")
    error: str | None = None


class ProtocolsPublic(Public):
    """The action protocols binding files may name here: built in and plugged in."""

    entry_point_group: str
    available: list[str]
    protocols: list[ProtocolPublic]
    broken: int


class ProcessVersion(Public):
    key: str
    version: int
    name: str | None
    checksum: str
    created: bool = Field(description="False: this very content was stored before")


class ImportPublic(Public):
    source: str
    processes: list[ProcessVersion]
    warnings: list[Problem]

    @classmethod
    def of(cls, outcome: FileImport) -> ImportPublic:
        versions = [
            ProcessVersion(
                key=item.stored.key,
                version=item.stored.version,
                name=item.stored.name,
                checksum=item.stored.checksum,
                created=item.created,
            )
            for item in outcome.processes
        ]
        return cls(source=outcome.source, processes=versions, warnings=list(outcome.warnings))


class ProcessPublic(Public):
    key: str
    version: int
    name: str | None
    checksum: str
    source: str | None
    imported_at: datetime
    executable: bool | None
    exporter: str | None
    pool: str | None
    lanes: int
    has_diagram: bool
    counts: dict[str, int]
    counts_by_type: dict[str, int]
    errors: int
    warnings: int
    problems: list[Problem]


class SuiteCreate(Create):
    process: str = Field(
        pattern=r"^[^@\x00]+(@[0-9]+)?$",  # a BPMN id (an XML NCName) has no "@"
        description="PROCESS_KEY, or PROCESS_KEY@VERSION",
        examples=["order_fulfilment", "order_fulfilment@2"],
    )
    coverage: Criterion = Criterion.ALL_FLOWS
    loop_bound: int = Field(
        DEFAULT_LOOP_BOUND, ge=0, le=MAX_LOOP_BOUND, description="all-paths: loop repetitions"
    )
    max_scenarios: int = Field(
        DEFAULT_MAX_SCENARIOS, ge=1, le=MAX_SCENARIOS, description="all-paths: hard cap"
    )
    bindings: str | None = Field(
        None, max_length=MAX_BINDINGS_CHARS, description="A binding file's YAML text"
    )
    data_values: Literal["solved", "boundary"] = Field(
        "solved",
        description="solved: each scenario's data takes its path; boundary: each scenario"
        " also at both sides of each bound on its path (docs/data.md)",
    )


class ProcessRef(Public):
    key: str
    version: int


class UnsetVariable(Public):
    scenario: str
    step: int
    element_id: str | None
    name: str | None
    field: str = Field(description="Where in the step's binding, e.g. `action.path`")
    variable: str = Field(
        description="`vars.X` no earlier step saves, or `suite.X` no scenario it depends on exports"
    )


class SuiteGenerated(Public):
    suite: int
    process: ProcessRef
    criterion: str
    parameters: dict[str, Any]
    scenarios: int
    scenario_names: list[str]
    coverage: Coverage
    unbound: list[str] = Field(description="Elements executed without a binding yet")
    unset_variables: list[UnsetVariable] = Field(
        description="Variables read before anything provides them: the step would end in ERROR"
    )
    conditions: dict[str, Any] | None = Field(
        None,
        description="Gateway conditions not understood, infeasible scenarios, loops"
        " (docs/data.md); absent when a stored suite is reused",
    )


class SuitePublic(Public):
    id: int
    process_key: str
    process_version: int
    criterion: str
    parameters: dict[str, Any]
    coverage: Coverage
    unbound: list[str]
    created_at: datetime

    @classmethod
    def of(cls, suite: StoredSuite) -> SuitePublic:
        return cls.model_validate(suite.model_dump(exclude={"scenarios"}))


class SuiteDetail(SuitePublic):
    scenarios: list[StoredScenario]

    @classmethod
    def of(cls, suite: StoredSuite) -> SuiteDetail:
        return cls.model_validate(suite.model_dump())


class EnvironmentPublic(Public):
    environment: str
    id: int
    services: dict[str, str | None]
    secret_refs: list[str] = Field(
        description="Variables whose values are secrets: read at run time, masked in results"
    )
    variables: list[str] = Field(description="Every variable read at run time, secret or not")


class DataSetPublic(Public):
    data_set: str
    id: int
    rows: int
    columns: list[str] | None = None


class SuiteRunCreate(Create):
    suite: int | Name = Field(
        description="The suite: its id, `latest`, or PROCESS[@VERSION][:CRITERION] (the newest"
        " such suite)",
        examples=[42, "order_fulfilment", "order_fulfilment@2:all-paths"],
    )
    environment: Name | None = None
    data_set: Name | None = None
    max_attempts: int = Field(
        3,
        ge=1,
        le=100,
        description="Attempts a run gets: each lost lease costs one; FAILED_STUCK when the"
        " last is lost",
    )
    allow_unbound: bool = Field(
        False,
        description="Run even when tasks have no binding (their runs end in ERROR there); by"
        " default such a suite is refused with 422 naming them",
    )
    force_rows: bool = Field(
        False,
        description="Run every data row, even one that contradicts a scenario's path; by"
        " default that run is SKIPPED, its `error` saying which condition the row turns",
    )


class SuiteRunPublic(Public):
    suite_run: int
    suite: int
    status: SuiteRunStatus
    total: int
    done: int
    counts: dict[TestRunStatus, int]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, progress: Progress) -> SuiteRunPublic:
        run = progress.suite_run
        return cls(
            suite_run=run.id,
            suite=run.suite_id,
            status=run.status,
            total=progress.total,
            done=progress.done,
            counts=dict(sorted(progress.counts.items())),
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
        )


class SuiteRunPagePublic(Public):
    suite_runs: list[SuiteRunPublic] = Field(description="Newest first")
    next_before: int | None = Field(
        description="The `before` that asks for the next page; null: this page is the last"
    )
    next: str | None = Field(
        description="The next page's path and query (the filters kept); null: the last page"
    )

    @classmethod
    def of(cls, page: SuiteRunPage, next_url: str | None) -> SuiteRunPagePublic:
        return cls(
            suite_runs=[SuiteRunPublic.of(progress) for progress in page.suite_runs],
            next_before=page.next_before,
            next=next_url,
        )


class ErrorPublic(Public):
    """Every refusal: `error` names the class, `message` says what to fix; details may follow."""

    model_config = ConfigDict(frozen=True, extra="allow")
    error: str
    message: str


class TestRunPublic(Public):
    """A test run without its steps, as a page of them lists it."""

    __test__ = False
    id: int
    scenario: str
    data_row_index: int | None
    status: TestRunStatus
    attempts: int = Field(description="Tries: 1 and one more per lease the run lost")
    error: str | None
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, report: TestRunReport) -> TestRunPublic:
        return cls.model_validate(
            report.model_dump(exclude={"steps", "path", "lost_leases"}), from_attributes=False
        )


class TestRunPagePublic(Public):
    __test__ = False
    suite_run: int
    test_runs: list[TestRunPublic] = Field(description="In id order: by scenario, then data row")
    next_after: int | None = Field(
        description="The `after` that asks for the next page; null: this page is the last"
    )
    next: str | None = Field(
        description="The next page's path and query (the filters kept); null: the last page"
    )

    @classmethod
    def of(cls, page: TestRunPage, next_url: str | None) -> TestRunPagePublic:
        return cls(
            suite_run=page.suite_run_id,
            test_runs=[TestRunPublic.of(run) for run in page.test_runs],
            next_after=page.next_after,
            next=next_url,
        )


class ElementCountPublic(Public):
    passed: int = Field(description="Runs that went through the element without failing there")
    failed: int = Field(description="Runs that failed at the element")
    first_failed: int | None = Field(
        description="The first test run (lowest id) that failed at it; null when none did"
    )


class ElementCountsPublic(Public):
    suite_run: int
    elements: dict[str, ElementCountPublic] = Field(
        description="By BPMN element id (nodes and flows; `CALL/<id>` inside an inlined call),"
        " each element some run reached: the counts on the report's diagram"
    )

    @classmethod
    def of(cls, suite_run_id: int, counted: Tally) -> ElementCountsPublic:
        reached = sorted(set(counted.passed) | set(counted.failed))
        return cls(
            suite_run=suite_run_id,
            elements={
                element: ElementCountPublic(
                    passed=counted.passed.get(element, 0),
                    failed=counted.failed.get(element, 0),
                    first_failed=counted.first_failed.get(element),
                )
                for element in reached
            },
        )


class TestRunDetailPublic(TestRunReport):
    """A test run with its steps (request and response as sent and received, secrets masked;
    each check's expected and actual) and the leases it lost, as the reports show it."""

    __test__ = False
    suite_run: int
    failure: str | None = Field(
        description="Why it did not pass, in one line naming the step and the check or error"
        " (the reports' summary line); null when it passed or has not ended"
    )
    passed_elements: list[str] = Field(
        description="BPMN elements (nodes and flows) it went through without failing there:"
        " its share of the counts on the report's diagram"
    )
    failed_elements: list[str] = Field(
        description="BPMN elements it failed at (for a step inside an inlined call, the call"
        " activities around it too): the diagram shows them red"
    )

    @classmethod
    def of(cls, detail: TestRunDetail) -> TestRunDetailPublic:
        report = detail.report
        passed, failed = run_elements(report)
        ended = report.status.is_terminal and report.status is not TestRunStatus.PASSED
        return cls(
            suite_run=detail.suite_run_id,
            failure=failure_message(report) if ended else None,
            passed_elements=passed,
            failed_elements=failed,
            **dict(report),
        )
