"""One suite run, everything a report shows: the model every renderer reads.

The store's loader fills it from the database; renderers (`junit`, `json_report`, `html`) only
read it. Attribute docstrings become the descriptions of the published JSON Schema.
`SuiteReport` is a suite before any run (its coverage page): the same process and suite parts,
its scenarios as generated, and no outcomes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestra.domain.execution import CheckResult, StepOutcome
from orchestra.domain.process import ProcessGraph
from orchestra.domain.scenario import Coverage, ScenarioStep, TestScenario
from orchestra.domain.statuses import (
    FAILING_STATUSES,
    StepKind,
    StepStatus,
    SuiteRunStatus,
    TestRunStatus,
)

ResendCause = Literal["lost_lease", "unreachable", "drained"]


class Documented(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class SuiteRunInfo(Documented):
    id: int
    """The suite run's id, as `orchestra report` takes it."""
    status: SuiteRunStatus
    started_at: datetime | None = None
    finished_at: datetime | None = None
    environment: str | None = None
    """The environment's name the suite ran against."""
    context_keys: tuple[str, ...] = ()
    """Names exported into the suite run's shared context (values are not reported)."""


class CalledProcess(Documented):
    """A process a call activity called, inlined into the scenarios at generation: its
    elements are on their paths and steps with the call's id before theirs (`CALL/<id>`)."""

    call: str
    """The call activity's id, after those of the calls it sits in (`CALL`, `CALL/INNER`): the
    prefix, before a `/`, of the ids the called process's elements have in the scenarios."""
    call_name: str | None = None
    """The call activity's name in the process that holds it."""
    key: str
    """The called process's BPMN id (the call activity's calledElement)."""
    version: int
    """The version of the called process that was inlined."""
    name: str | None = None
    graph: ProcessGraph
    """The called process's graph as imported (its own ids), with its diagram when it has one."""


class ProcessInfo(Documented):
    key: str
    """The BPMN process id."""
    version: int
    name: str | None = None
    graph: ProcessGraph
    """The normalized process graph, with its diagram (BPMNDI) when the model has one."""
    calls: tuple[CalledProcess, ...] = ()
    """Every call activity whose called process the suite inlined, at any depth, each right
    after the call that holds it: the report draws each called process below the process."""


class SuiteInfo(Documented):
    id: int
    criterion: str
    """Coverage criterion of the generation: all-nodes, all-flows or all-paths."""
    coverage: Coverage


class StepReport(Documented):
    position: int
    """Position of the step in its scenario."""
    kind: StepKind
    element_id: str | None = None
    """The BPMN element the step comes from."""
    at: str | None = None
    """For a barrier shared with other runs (`barriers:` of the bindings), which comes from no
    element: the element a run stopping there did not reach (the one it waits before, or the
    one after the element it waits after)."""
    name: str | None = None
    branch: str = ""
    """The parallel branch label; empty on the scenario's main line."""
    attempt: int = 1
    """The claim (lease) of the test run that executed this step. It counts claims, so after a
    shared barrier or a worker's drain it grows without a lost try; which try it was: one more
    than the `lost_leases` of earlier claims (`TestRunReport.try_of`)."""
    status: StepStatus
    started_at: datetime | None = None
    duration_ms: float | None = None
    request: dict[str, Any] | None = None
    """The request as sent, secrets redacted."""
    response: dict[str, Any] | None = None
    """Status, headers and (truncated) body as received, secrets redacted."""
    command: dict[str, Any] | None = None
    """For a step whose `eventually` has a `poll`: the command sent once, as `request` and
    `response` (recorded as those two are); `request` and `response` above are then the last
    poll's, which the checks read (stored since schema 0010). None for any other step."""
    checks: tuple[CheckResult, ...] = ()
    error: str | None = None
    requests: int | None = None
    """Requests made for this step, retries and `eventually` polls included (stored since
    schema 0004; a result stored before reads 1); 0 for a step that never ran, None when not
    known."""
    resent_after: int | None = None
    """For a re-send, the claim (as `attempt` counts them) that left this step in flight (see
    `resent_cause`): its request may have reached the SUT then, and this one was sent again
    with the same idempotency key (stored since schema 0005); None for a first send."""
    resent_cause: ResendCause | None = None
    """For a re-send, what ended the claim `resent_after`: `lost_lease`, its lease expired (its
    worker crashed, hung or lost the database for longer than the lease); `unreachable`, its
    worker could not reach the database, stopped the run and released it once it was back
    (recorded since schema 0013); `drained`, its worker was shutting down and stopped the run
    mid-step past its drain deadline (since 0013). None for a first send."""
    resent_by: str | None = None
    """For a re-send, the worker that held the claim `resent_after`, when known."""
    stalled_ms: float | None = None
    """For a step sent again because its request timed out while the worker was stalled (its
    process or event loop paused: not the SUT's doing), how long that stall lasted; the step
    is this re-send, with the same idempotency key (stored since schema 0007); None otherwise."""


class CleanupStepReport(StepReport):
    """An undo or cleanup action the run ran once its scenario ended (`undo:` of a task,
    `cleanup:` of the bindings), numbered from 0 in the order they ran (`position`)."""

    strict: bool = False
    """Whether a failure of this action fails a run that had passed; otherwise it is only
    reported here."""


def barrier_anchor(step: ScenarioStep | None, next_element: str | None = None) -> str | None:
    """Where a run stopped at a shared barrier step (None for any other step): the element it
    waits before; for one waiting after an element, the next element the scenario has
    (`next_element`, when known), which the run did not reach, else that element."""
    if step is None or not step.meta.get("sharedBarrier"):
        return None
    before, after = step.meta.get("before"), step.meta.get("after")
    anchor = before or next_element or after
    return str(anchor) if anchor else None


def step_report(
    step: ScenarioStep,
    outcome: StepOutcome | None,
    attempt: int = 1,
    *,
    next_element: str | None = None,
) -> StepReport:
    """A scenario step with what executing it gave; SKIPPED if it never ran (no outcome).
    `next_element`: the element of the next main-line step (where a shared barrier waits)."""
    identity: dict[str, Any] = {
        "position": step.position,
        "kind": step.kind,
        "element_id": step.element_id,
        "at": barrier_anchor(step, next_element),
        "name": step.name,
        "branch": step.branch,
        "attempt": attempt,
    }
    if outcome is None:
        return StepReport(**identity, status=StepStatus.SKIPPED, requests=0)
    return StepReport(
        **identity,
        status=outcome.status,
        started_at=datetime.fromtimestamp(outcome.started_at, UTC),
        duration_ms=outcome.duration_ms,
        request=outcome.request,
        response=outcome.response,
        command=outcome.command,
        checks=outcome.checks,
        error=outcome.error,
        requests=outcome.attempts,
        resent_after=outcome.resent_after,
        stalled_ms=outcome.stalled_ms,
    )


class LostLeaseReport(Documented):
    """A try of the test run that ended with its lease expiring: its worker crashed, hung or
    lost the database, and the run was claimed again (or marked FAILED_STUCK)."""

    attempt: int
    """The claim that lost the lease (as `StepReport.attempt` counts claims)."""
    worker: str
    """The worker that held it."""
    heartbeat_at: datetime | None = None
    """Its last heartbeat."""
    expired_at: datetime
    """When the lease ran out."""
    noticed_at: datetime
    """When another worker claimed the run again, or the reaper gave up on it."""
    steps_done: int = 0
    """Steps checkpointed by then (kept: the next try did not execute them again)."""
    in_flight: tuple[int, ...] = ()
    """Positions of the steps the lost try was executing or about to (one per running
    branch): each may or may not have reached the SUT; the next try executed it again with
    the same idempotency key, and its result is the one recorded."""


class TestRunReport(Documented):
    __test__ = False

    id: int
    scenario: str
    data_row_index: int | None = None
    data_row_label: str | None = None
    """A readable value of its data row (its `name`, `id`, `key` or `title`, else its first
    text value), when it has one."""
    repeat_index: int = 0
    """Which of the suite run's repeats (`orchestra test --repeat N`) it is, from 0."""
    status: TestRunStatus
    attempts: int = 1
    """Tries: 1 and one more per lease the run lost (a FAILED_STUCK run lost its last one too).
    Being claimed again after waiting at a shared barrier or a worker's drain is no new try."""
    error: str | None = None
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    path: tuple[str, ...] = ()
    """Element ids (nodes and flows) of the scenario's path, in token-game order."""
    race: str | None = None
    """For a scenario expecting one outcome of concurrent branches racing to terminate end
    events, which the SUT decides: what it expects (see docs/semantics.md); None otherwise."""
    steps: tuple[StepReport, ...] = ()
    lost_leases: tuple[LostLeaseReport, ...] = ()
    """The tries that ended with a lost lease, oldest first (recorded since schema 0003)."""
    cleanup: tuple[CleanupStepReport, ...] = ()
    """The undo and cleanup actions run once the scenario ended, in the order they ran
    (recorded since schema 0007). A failed one changes `status` only when it is strict."""

    @property
    def is_failure(self) -> bool:
        return self.status in FAILING_STATUSES

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def display_name(self) -> str:
        row = "" if self.data_row_index is None else f" [row {self.data_row_index}]"
        repeat = f" #{self.repeat_index + 1}" if self.repeat_index else ""
        return f"{self.scenario}{row}{repeat}"

    def try_of(self, claim: int) -> int:
        """Which try of the run a claim (`StepReport.attempt`, `LostLeaseReport.attempt`)
        belonged to: 1 and one more per lease lost by an earlier claim. Waiting at a shared
        barrier or a worker's drain takes a new claim but is the same try."""
        return 1 + sum(1 for lease in self.lost_leases if lease.attempt < claim)

    def failed_cleanup(self) -> tuple[CleanupStepReport, ...]:
        """The cleanup actions that did not pass."""
        return tuple(step for step in self.cleanup if step.status is not StepStatus.PASSED)

    def failing_step(self) -> StepReport | None:
        """The first step that failed or errored, in execution order."""
        return next((s for s in self.steps if s.status.run_ending is not None), None)

    def stuck_step(self) -> StepReport | None:
        """For a run given up on (FAILED_STUCK): the first step its last lost lease had in
        flight, where it hung (None for any other run, or when none is known)."""
        if self.status is not TestRunStatus.FAILED_STUCK or not self.lost_leases:
            return None
        by_position = {step.position: step for step in self.steps}
        flying = (by_position.get(p) for p in self.lost_leases[-1].in_flight)
        return next((s for s in flying if s is not None and (s.element_id or s.at)), None)


class RunReport(Documented):
    """One suite run of one suite of one process version, with every test run and step."""

    suite_run: SuiteRunInfo
    process: ProcessInfo
    suite: SuiteInfo
    test_runs: tuple[TestRunReport, ...] = Field(default_factory=tuple)
    generated_at: datetime | None = None
    """When the report was built."""

    @property
    def duration_s(self) -> float | None:
        started, finished = self.suite_run.started_at, self.suite_run.finished_at
        return None if started is None or finished is None else (finished - started).total_seconds()

    def count(self, *statuses: TestRunStatus) -> int:
        return sum(1 for run in self.test_runs if run.status in statuses)


MAX_DETAILED_RUNS = 1_000
"""Runs whose steps (requests, responses, checks) the HTML and JSON reports detail: failures
first, then the others in order. 10,000 runs of 8 steps would otherwise make a page of 72 MB
and a JSON document of 94 MB; beyond them the page lists a run by its summary line, and
the document counts the runs it leaves out per status. `orchestra report --all-runs` (the API's
`all_runs=true`) details every run."""


def runs_to_detail(report: RunReport, limit: int = MAX_DETAILED_RUNS) -> tuple[TestRunReport, ...]:
    """The runs a report bounded to `limit` details, in the report's order: the failures first
    (all of them when there are fewer than `limit`), then the others, in order, to the limit."""
    chosen = set(RunOrder.of(report.test_runs).to_detail(limit))
    return tuple(run for run in report.test_runs if run.id in chosen)


@dataclass(frozen=True)
class RunOrder:
    """A suite run's test runs in its report's order, each by its id and status: what a report
    counts and chooses the runs to detail from, without their steps."""

    ids: tuple[int, ...]
    statuses: tuple[TestRunStatus, ...]

    @classmethod
    def of(cls, runs: Iterable[TestRunReport]) -> RunOrder:
        pairs = [(run.id, run.status) for run in runs]
        return cls(tuple(i for i, _ in pairs), tuple(status for _, status in pairs))

    def __len__(self) -> int:
        return len(self.ids)

    def counts(self) -> dict[TestRunStatus, int]:
        """The runs per status, every status listed."""
        counted = dict.fromkeys(TestRunStatus, 0)
        for status in self.statuses:
            counted[status] += 1
        return counted

    def to_detail(self, limit: int = MAX_DETAILED_RUNS) -> tuple[int, ...]:
        """The ids of the runs `runs_to_detail` details, in order."""
        pairs = zip(self.ids, self.statuses, strict=True)
        failing = [i for i, status in pairs if status in FAILING_STATUSES]
        chosen = set(failing[: max(limit, 0)])
        if len(chosen) < limit:
            others = (i for i in self.ids if i not in chosen)
            chosen.update(islice(others, limit - len(chosen)))
        return tuple(i for i in self.ids if i in chosen)

    def left_out(self, listed: Collection[int]) -> dict[TestRunStatus, int]:
        """The runs not `listed`, per status, each status as it first comes in order."""
        counted: dict[TestRunStatus, int] = {}
        for i, status in zip(self.ids, self.statuses, strict=True):
            if i not in listed:
                counted[status] = counted.get(status, 0) + 1
        return counted


class SuiteReport(Documented):
    """One generated suite before any run: its scenarios and what they cover of the process."""

    process: ProcessInfo
    suite: SuiteInfo
    parameters: dict[str, Any] = Field(default_factory=dict)
    """The generation's parameters (loop bound, cap, a note on the choice made)."""
    unbound: tuple[str, ...] = ()
    """Elements with no binding yet: a run reaching one ends in ERROR naming it."""
    scenarios: tuple[TestScenario, ...] = ()
    created_at: datetime | None = None
    """When the suite was generated."""
    generated_at: datetime | None = None
    """When the report was built."""


def unbound_steps(scenario: TestScenario) -> tuple[ScenarioStep, ...]:
    """The scenario's steps that have no binding yet."""
    return tuple(step for step in scenario.steps if step.meta.get("unbound"))
