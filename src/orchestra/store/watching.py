"""What watching suite runs reads from PostgreSQL: pages of test runs, the statuses an event
stream starts from and the changes it reads at each look after, the gauges `/metrics` publishes
(`store/sql/watching.sql`). Only reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import DictRow

from orchestra.domain.records import TestRun
from orchestra.domain.statuses import TestRunStatus
from orchestra.store.base import Repository


@dataclass(frozen=True, slots=True)
class RunState:
    """A test run as an event stream sees it."""

    id: int
    status: TestRunStatus
    scenario: str
    data_row_index: int | None
    error: str | None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RunStatuses:
    """Every test run of a suite run with its status, read in `snapshot` (PostgreSQL's
    `pg_snapshot` as text: where the next look goes on from)."""

    snapshot: str
    statuses: dict[int, TestRunStatus]


@dataclass(frozen=True, slots=True)
class RunChanges:
    """The test runs of a suite run whose status changed since a snapshot, in id order, read
    in `snapshot` (where the next look goes on from)."""

    snapshot: str
    states: list[RunState]


@dataclass(frozen=True, slots=True)
class OutcomeGroup:
    """Test runs that colour a suite run's diagram alike: the first of them, and how many."""

    test_run_id: int
    runs: int


@dataclass(frozen=True, slots=True)
class StepsState:
    """A test run as its event stream sees it: its status and its recorded steps."""

    suite_run_id: int
    status: TestRunStatus
    steps: int


@dataclass(frozen=True, slots=True)
class Gauges:
    """How things stand now: suite runs in progress, their test runs by status, and the runs
    a worker could claim at once."""

    suite_runs_in_progress: int
    open_test_runs: dict[TestRunStatus, int]
    claimable: int


class WatchRepository(Repository):
    async def test_run_page(
        self,
        suite_run_id: int,
        *,
        statuses: Sequence[TestRunStatus] = (),
        after: int | None = None,
        limit: int = 50,
    ) -> list[TestRun]:
        """Up to `limit` test runs of the suite run in id order, in one of `statuses` and with
        ids above `after` (each when given)."""
        rows = await self._filtered(
            "list_test_runs",
            suite_run_id=suite_run_id,
            statuses=[status.value for status in statuses] or None,
            after=after,
            limit=limit,
        )
        return [TestRun.model_validate(row) for row in rows]

    async def run_statuses(self, suite_run_id: int) -> RunStatuses:
        rows = await self._all("test_run_statuses", suite_run_id=suite_run_id)
        statuses = {
            int(row["id"]): TestRunStatus(row["status"]) for row in rows if row["id"] is not None
        }
        return RunStatuses(str(rows[0]["snapshot"]), statuses)

    async def run_changes(self, suite_run_id: int, since: str) -> RunChanges:
        """The runs whose status changed since the snapshot `since` (a `RunStatuses`' or a
        `RunChanges`' `snapshot`)."""
        rows = await self._all("test_run_changes", suite_run_id=suite_run_id, since=since)
        states = [run_state(row) for row in rows if row["id"] is not None]
        return RunChanges(str(rows[0]["snapshot"]), states)

    async def outcome_groups(self, suite_run_id: int) -> list[OutcomeGroup]:
        rows = await self._all("outcome_groups", suite_run_id=suite_run_id)
        return [OutcomeGroup(int(row["test_run_id"]), int(row["runs"])) for row in rows]

    async def failures_first(self, suite_run_id: int, limit: int) -> list[TestRun]:
        """The first `limit` test runs of the suite run, those that failed first."""
        rows = await self._all("failures_first", suite_run_id=suite_run_id, limit=limit)
        return [TestRun.model_validate(row) for row in rows]

    async def steps_state(self, test_run_id: int) -> StepsState | None:
        row = await self._one("test_run_state", id=test_run_id)
        if row is None:
            return None
        return StepsState(int(row["suite_run_id"]), TestRunStatus(row["status"]), int(row["steps"]))

    async def gauges(self) -> Gauges:
        row = await self._one("gauges")
        assert row is not None  # scalar sub-selects: one row
        return Gauges(
            suite_runs_in_progress=int(row["suite_runs_in_progress"]),
            open_test_runs={
                TestRunStatus(status): int(n) for status, n in row["open_test_runs"].items()
            },
            claimable=int(row["claimable"]),
        )


def run_state(row: DictRow) -> RunState:
    """A run as an event stream sees it, from a row of `test_run_changes`."""
    return RunState(
        id=int(row["id"]),
        status=TestRunStatus(row["status"]),
        scenario=str(row["scenario"]),
        data_row_index=row["data_row_index"],
        error=row["error"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )
