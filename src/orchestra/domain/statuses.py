"""The state machines of runs, written once: each status and the statuses it may move to.

SuiteRun:  IN_PROGRESS -> PASSED | FAILED | CANCELLED

TestRun:   PENDING -> QUEUED -> RUNNING -> PASSED | FAILED | ERROR
              |         |   ^      |
              |         |   +------+  (lease released or expired: back to QUEUED, or re-claimed)
              |         |          +-> FAILED_STUCK (lease expired more than max_attempts)
              +---------+----------+-> SKIPPED (a dependency cannot reach its outcome)
                                   +-> CANCELLED (the suite run was cancelled)
"""

from __future__ import annotations

from enum import StrEnum


class SuiteRunStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    PASSED = "PASSED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_terminal(self) -> bool:
        return self is not SuiteRunStatus.IN_PROGRESS

    def can_become(self, other: SuiteRunStatus) -> bool:
        return other in _SUITE_RUN_TRANSITIONS[self]


_SUITE_RUN_TRANSITIONS: dict[SuiteRunStatus, frozenset[SuiteRunStatus]] = {
    SuiteRunStatus.IN_PROGRESS: frozenset(
        {SuiteRunStatus.PASSED, SuiteRunStatus.FAILED, SuiteRunStatus.CANCELLED}
    ),
    SuiteRunStatus.PASSED: frozenset(),
    SuiteRunStatus.FAILED: frozenset(),
    SuiteRunStatus.CANCELLED: frozenset(),
}


class TestRunStatus(StrEnum):
    __test__ = False  # not a pytest test class

    PENDING = "PENDING"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    PASSED = "PASSED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"
    CANCELLED = "CANCELLED"
    FAILED_STUCK = "FAILED_STUCK"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    def can_become(self, other: TestRunStatus) -> bool:
        return other in _TEST_RUN_TRANSITIONS[self]


_TERMINAL = frozenset(
    {
        TestRunStatus.PASSED,
        TestRunStatus.FAILED,
        TestRunStatus.ERROR,
        TestRunStatus.SKIPPED,
        TestRunStatus.CANCELLED,
        TestRunStatus.FAILED_STUCK,
    }
)

# The runs a report counts as failed: a skipped or cancelled run did not fail.
FAILING_STATUSES = frozenset(
    {TestRunStatus.FAILED, TestRunStatus.ERROR, TestRunStatus.FAILED_STUCK}
)

_TEST_RUN_TRANSITIONS: dict[TestRunStatus, frozenset[TestRunStatus]] = {
    TestRunStatus.PENDING: frozenset(
        {TestRunStatus.QUEUED, TestRunStatus.SKIPPED, TestRunStatus.CANCELLED}
    ),
    TestRunStatus.QUEUED: frozenset(
        {TestRunStatus.RUNNING, TestRunStatus.SKIPPED, TestRunStatus.CANCELLED}
    ),
    TestRunStatus.RUNNING: frozenset(
        {
            TestRunStatus.RUNNING,  # re-claimed after its lease expired
            TestRunStatus.QUEUED,  # released on a graceful shutdown, or parked at a barrier
            TestRunStatus.PASSED,
            TestRunStatus.FAILED,
            TestRunStatus.ERROR,
            TestRunStatus.CANCELLED,
            TestRunStatus.FAILED_STUCK,
        }
    ),
    **{status: frozenset() for status in _TERMINAL},
}


class StepStatus(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"  # a check did not hold
    ERROR = "ERROR"  # transport error, timeout, bad template, unbound task: not the SUT's verdict
    SKIPPED = "SKIPPED"

    @property
    def run_ending(self) -> TestRunStatus | None:
        """The status a run ends with when one of its steps ends so; None: the run goes on."""
        return _RUN_ENDING.get(self)


_RUN_ENDING = {StepStatus.FAILED: TestRunStatus.FAILED, StepStatus.ERROR: TestRunStatus.ERROR}


class StepKind(StrEnum):
    ACTION = "ACTION"
    ASSERTION = "ASSERTION"
    BARRIER = "BARRIER"
