"""What executing one step takes and gives: the contract between the runtime and executors.

The runtime (`orchestra.runtime`) owns leases, checkpoints and branches; an executor
(`orchestra.binding.executor`) turns one ScenarioStep plus a StepContext into a StepOutcome and
never touches the database. Everything here is plain data, JSON-serializable, so it can be
checkpointed in `test_run.execution_context` and stored in `step_result`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from orchestra.domain.process import Frozen
from orchestra.domain.statuses import StepStatus


class RunIdentity(Frozen):
    """Who is executing: the template namespace `run`, and the idempotency key's ingredients."""

    suite_run_id: int
    test_run_id: int
    scenario: str
    attempt: int
    data_row_index: int | None = None


class StepContext(Frozen):
    """Everything a step's templates may read. Namespaces match the template names."""

    run: RunIdentity
    data: dict[str, Any] = Field(default_factory=dict)  # data row merged with branch data
    vars: dict[str, Any] = Field(default_factory=dict)  # values saved by earlier steps
    steps: dict[str, Any] = Field(default_factory=dict)  # element id -> earlier step's result
    suite: dict[str, Any] = Field(default_factory=dict)  # SuiteRun.context
    env: dict[str, Any] = Field(default_factory=dict)  # the environment's configuration
    # a re-send: the claim that lost its lease while this step may have reached the SUT
    resending: int | None = None
    # a re-send: how long the worker stalled while the first send's timeout ran out
    stalled_ms: float | None = None

    @property
    def is_resend(self) -> bool:
        """Whether an earlier send of this step may have reached the SUT."""
        return self.resending is not None or self.stalled_ms is not None


NO_MATCH = "no match"  # what reports show for a check whose subject is not there (`found`)
READ_MARK = "; it read "  # in a failed `that` check's message, before the values it read


class CheckResult(Frozen):
    name: str  # e.g. "status", "jsonpath $.state eq"
    passed: bool
    expected: Any = None
    actual: Any = None
    message: str | None = None
    # False when what the check reads is not there: a JSONPath matching nothing, a header
    # the response lacks. `actual` is then null, which reports show as "no match", not null.
    found: bool = True


class StepOutcome(Frozen):
    """The result of one execution of one step (all polls of an `eventually` included)."""

    status: StepStatus
    started_at: float  # unix seconds
    duration_ms: float
    request: dict[str, Any] | None = None  # as sent, secrets redacted
    response: dict[str, Any] | None = None  # status, headers, body (truncated), secrets redacted
    # with `eventually.poll`: the command sent once, {"request", "response"} recorded as
    # `request` and `response` are; those two are then the last poll's, which the checks read
    command: dict[str, Any] | None = None
    checks: tuple[CheckResult, ...] = ()
    error: str | None = None  # why the step is FAILED or ERROR, naming the culprit
    attempts: int = 1  # requests made (retries and polls)
    resent_after: int | None = None  # a re-send: the claim whose lease was lost (`resending`)
    stalled_ms: float | None = None  # a re-send: the worker's stall behind it (`stalled_ms`)
    # FAILED or ERROR as its time ran out (no answer within the request's timeout, checks
    # still failing when `eventually` ended): the monotonic moment it did, which the runtime
    # compares with the worker's stalls; never stored
    timeout_ran_out: float | None = Field(default=None, exclude=True)
    saved: dict[str, Any] = Field(default_factory=dict)  # `save`: into the run's vars
    exports: dict[str, Any] = Field(default_factory=dict)  # `exportAs`: into SuiteRun.context
