"""Stored entities as the repositories hand them out: domain data plus identity and timestamps."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from orchestra.domain.process import Frozen, Problem, ProcessGraph
from orchestra.domain.scenario import Coverage, ScenarioStep, TestScenario
from orchestra.domain.statuses import StepStatus, SuiteRunStatus, TestRunStatus

# The longest name of a data set, an environment or one of its services that Orchestra takes,
# from the CLI, the API and environment files alike.
MAX_NAME_LENGTH = 512


class StoredProcess(Frozen):
    id: int
    key: str
    version: int
    name: str | None
    checksum: str
    graph: ProcessGraph
    problems: tuple[Problem, ...] = ()
    source_name: str | None = None
    imported_at: datetime


class ProcessText(Frozen):
    """A stored process version with its graph as the JSON text it is stored as, unparsed (a
    large graph is parsed off the event loop), and the keys its call activities name."""

    id: int
    key: str
    version: int
    graph_json: str
    called: tuple[str, ...] = ()


class StoredStep(Frozen):
    id: int
    step: ScenarioStep


class StoredScenario(Frozen):
    id: int
    scenario: TestScenario
    steps: tuple[StoredStep, ...] = ()


class StoredSuite(Frozen):
    id: int
    process_id: int
    process_key: str
    process_version: int
    criterion: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    coverage: Coverage
    unbound: tuple[str, ...] = ()
    fingerprint: str | None = None
    created_at: datetime
    scenarios: tuple[StoredScenario, ...] = ()


class DataSet(Frozen):
    id: int
    name: str
    rows: tuple[dict[str, Any], ...]


class Environment(Frozen):
    id: int
    name: str
    configuration: dict[str, Any]
    secret_refs: tuple[str, ...] = ()

    @property
    def template_values(self) -> dict[str, Any]:
        """The configuration as templates see it (`env.*`): without `applied_from`, which
        says where its file was read and is no value of the user's."""
        return {key: value for key, value in self.configuration.items() if key != "applied_from"}


class SuiteRun(Frozen):
    id: int
    suite_id: int
    environment_id: int | None
    data_set_id: int | None
    status: SuiteRunStatus
    context: dict[str, Any] = Field(default_factory=dict)
    summary: dict[str, Any] = Field(default_factory=dict)
    unfinished: int = 0
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class TestRun(Frozen):
    __test__ = False

    id: int
    suite_run_id: int
    scenario_id: int
    scenario_name: str
    data_row_index: int | None
    repeat_index: int = 0
    data_row: dict[str, Any] = Field(default_factory=dict)
    status: TestRunStatus
    execution_context: dict[str, Any] = Field(default_factory=dict)
    locked_by: str | None = None
    lock_until: datetime | None = None
    heartbeat_at: datetime | None = None
    attempt: int = 0
    max_attempts: int = 3
    lost_leases: int = 0
    available_at: datetime | None = None
    created_at: datetime
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None  # why it ended ERROR, FAILED_STUCK or SKIPPED
    skipped_by_data: bool = False  # SKIPPED: its data row contradicts its scenario's path
    cleanup_pending: bool = False  # cancelled after it started, or stuck: its cleanup is owed
    status_changed: int | None = None  # the transaction that last set `status` (xid8)


class StepResult(Frozen):
    id: int
    test_run_id: int
    step_id: int | None = None
    position: int
    element_id: str | None
    branch: str
    attempt: int
    status: StepStatus
    started_at: datetime
    duration_ms: float
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    checks: tuple[dict[str, Any], ...] = ()
    error: str | None = None
    # with `eventually.poll`: the command sent once, {"request", "response"} (since 0010)
    command: dict[str, Any] | None = None
    attempts: int = 1  # requests made: retries and `eventually` polls (StepOutcome.attempts)
    # a re-send: the claim that lost its lease (since 0005) or was released mid-step (0013)
    resent_after: int | None = None
    stalled_ms: float | None = None  # a re-send: the worker's stall behind it (since 0007)
    recorded_at: datetime | None = None
    phase: Literal["main", "cleanup"] = "main"  # cleanup: an undo or cleanup action (0007)
