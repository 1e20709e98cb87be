"""Suite runs and test runs in PostgreSQL: what the scheduler, the workers and reports need."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from orchestra.domain.dependencies import RunKey, resolve_run_dependencies
from orchestra.domain.execution import CheckResult, StepOutcome
from orchestra.domain.records import (
    DataSet,
    StepResult,
    StoredSuite,
    SuiteRun,
    TestRun,
)
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepStatus, SuiteRunStatus, TestRunStatus
from orchestra.domain.trusted import trusted
from orchestra.store.base import Repository
from orchestra.store.jsontext import checkpoint_dumps
from orchestra.store.queries import sql

if TYPE_CHECKING:
    from orchestra.domain.history import LostLease, ReleasedClaim

_ANALYZE_FROM = 100  # runs created at once that may make the planner's statistics misleading


@dataclass(frozen=True, slots=True)
class ClaimedRun:
    id: int
    suite_run_id: int
    scenario_id: int
    data_row_index: int | None
    repeat_index: int
    data_row: dict[str, Any]
    attempt: int
    execution_context: dict[str, Any]
    suite_context: dict[str, Any]  # SuiteRun.context when the run was claimed
    # the last lease the run lost, {"attempt": claim, "done": position -> status}, if any
    lost: dict[str, Any] | None = None
    # an ended run claimed only to run its cleanup (it stays CANCELLED or FAILED_STUCK)
    cleanup_only: bool = False


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A completed step, fenced by the lease (`worker`, `attempt`) of the run it belongs to."""

    test_run_id: int
    worker: str
    attempt: int
    step_id: int | None
    step: ScenarioStep
    outcome: StepOutcome
    execution_context: dict[str, Any]
    phase: str = "main"  # or "cleanup": one of the actions run once the scenario ended


@dataclass(frozen=True, slots=True)
class Completion:
    """A run's end, fenced by its lease like a checkpoint; `final` is its last step's
    checkpoint when that is written together with the end (in the same statement)."""

    test_run_id: int
    worker: str
    attempt: int
    status: TestRunStatus
    error: str | None
    execution_context: dict[str, Any]
    final: Checkpoint | None = None


@dataclass(frozen=True, slots=True)
class Renewal:
    """What a heartbeat found: the runs whose lease it renewed, and those cancelled under it
    (their suite run cancelled); any other run it was asked to renew is no longer held."""

    kept: frozenset[int]
    cancelled: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Written:
    """A row of `write_many` that was written: its run's suite run and, for a completion,
    how many runs of that suite run are still unfinished."""

    suite_run_id: int
    unfinished: int | None


class SweepAction(StrEnum):
    """What the sweep does for a suite run whose state changed since it last looked."""

    CLOSE = "close"  # none of its runs is left unfinished
    SCHEDULE = "schedule"  # a PENDING run can be queued or skipped
    IDLE = "idle"  # nothing (a run ended, but no PENDING run can be queued or skipped yet)
    GONE = "gone"  # no longer in progress (closed, cancelled or deleted)


@dataclass(frozen=True, slots=True)
class SweepChange:
    """A suite run whose `unfinished` count is not the one the sweeper knew: what it is now
    (None when gone) and what the sweep has to do for it."""

    suite_run_id: int
    unfinished: int | None
    action: SweepAction


@dataclass(frozen=True, slots=True)
class BarrierArrival:
    """A run's arrival at a shared barrier, as the barrier stood after it: how many of its
    `parties` have arrived, whether the last one released it or it timed out (its deadline,
    epoch seconds: the run parks until then), and the runs that doom it (`barrier_doomed_by`,
    looked up only while it waits)."""

    arrived: int
    parties: int
    released: bool
    timed_out: bool
    timeout_at: float
    doomed_by: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Every party arrived in time: the barrier is (to be) released."""
        return self.arrived >= self.parties and not self.timed_out

    @property
    def waiting(self) -> bool:
        return not self.released and self.arrived < self.parties


@dataclass(frozen=True, slots=True)
class BarrierWake:
    """What `wake_doomed_barriers` did and saw: how many runs it woke, the suite runs with a
    doomed barrier that a party arrived at without having parked yet, and the bounds of the
    statement's snapshot (transaction ids: every one below `xmin` had ended, every one still
    in progress was below `xmax`)."""

    woken: int
    arriving: frozenset[int]
    xmin: int
    xmax: int


@dataclass(frozen=True, slots=True)
class RunSelection:
    """Which runs a new suite run gets: the scenarios named (None: all; their dependencies
    must be among them), the data rows by index (None: every row), each `repeat` times."""

    scenarios: frozenset[str] | None = None
    row_indexes: tuple[int, ...] | None = None
    repeat: int = 1

    def keeps(self, scenario: str) -> bool:
        return self.scenarios is None or scenario in self.scenarios

    def rows(self, data_set: DataSet | None) -> list[int | None]:
        if data_set is None:
            return [None]
        if self.row_indexes is None:
            return list(range(len(data_set.rows)))
        return list(self.row_indexes)


def _created_status(key: RunKey, waiting: set[RunKey], error: str | None) -> TestRunStatus:
    if error is not None:
        return TestRunStatus.SKIPPED
    return TestRunStatus.PENDING if key in waiting else TestRunStatus.QUEUED


class RunRepository(Repository):
    async def create(
        self,
        suite: StoredSuite,
        *,
        environment_id: int | None,
        data_set: DataSet | None,
        max_attempts: int = 3,
        selection: RunSelection | None = None,
        data_skips: Mapping[tuple[str, int], str] | None = None,
    ) -> SuiteRun:
        """A SuiteRun with one TestRun per scenario, data row and repeat (of those `selection`
        keeps), PENDING behind their deps; those `data_skips` names ((scenario, row) -> why)
        are SKIPPED for their data row."""
        selection = selection or RunSelection()
        rows = selection.rows(data_set)
        keys = [
            RunKey(stored.scenario.name, row, repeat)
            for stored in suite.scenarios
            if selection.keeps(stored.scenario.name)
            for row in rows
            for repeat in range(selection.repeat)
        ]
        return await self.create_runs(
            suite,
            keys,
            data_rows=data_set.rows if data_set else (),
            environment_id=environment_id,
            data_set_id=data_set.id if data_set else None,
            max_attempts=max_attempts,
            data_skips=data_skips,
        )

    async def create_runs(
        self,
        suite: StoredSuite,
        keys: Sequence[RunKey],
        *,
        data_rows: Sequence[dict[str, Any]],
        environment_id: int | None,
        data_set_id: int | None,
        max_attempts: int = 3,
        summary: Mapping[str, Any] | None = None,
        data_skips: Mapping[tuple[str, int], str] | None = None,
    ) -> SuiteRun:
        """A SuiteRun with the TestRuns `keys` (a scenario for a row, whose values are
        `data_rows[row]`, in a repeat), PENDING behind those of their deps among them;
        `summary` is added to the suite run's (and `repeat`, the number of repeats, when the
        keys have more than one: its runs then keep their exports apart per repeat). A run
        `data_skips` names by (scenario, row) is SKIPPED at once, with the reason given, and
        those waiting on it are skipped in turn."""
        scenarios = [s.scenario for s in suite.scenarios]
        rows = sorted({key.row for key in keys}, key=lambda row: -1 if row is None else row)
        repeats = 1 + max((key.repeat for key in keys), default=0)
        chosen = set(keys)
        dependencies = [
            d
            for d in resolve_run_dependencies(scenarios, rows, repeats)
            if d.run in chosen and d.depends_on in chosen
        ]
        waiting = {dep.run for dep in dependencies}
        skips = data_skips or {}
        errors = [None if key.row is None else skips.get((key.scenario, key.row)) for key in keys]
        total = len(keys)
        extra = {**(summary or {}), **({"repeat": repeats} if repeats > 1 else {})}
        suite_run_row = await self._one(
            "insert_suite_run",
            suite_id=suite.id,
            environment_id=environment_id,
            data_set_id=data_set_id,
            summary=Jsonb({"total": total, "has_dependencies": bool(dependencies), **extra}),
            unfinished=total - sum(error is not None for error in errors),
        )
        assert suite_run_row is not None
        ids_by_name = {stored.scenario.name: stored.id for stored in suite.scenarios}
        inserted = await self._all(
            "insert_test_runs",
            suite_run_id=suite_run_row["id"],
            scenario_ids=[ids_by_name[key.scenario] for key in keys],
            row_indexes=[key.row for key in keys],
            repeat_indexes=[key.repeat for key in keys],
            statuses=[
                _created_status(key, waiting, error).value
                for key, error in zip(keys, errors, strict=True)
            ],
            errors=errors,
            data_rows=Jsonb(list(data_rows)),
            max_attempts=max_attempts,
        )
        names = {stored.id: stored.scenario.name for stored in suite.scenarios}
        ids = {
            RunKey(names[r["scenario_id"]], r["data_row_index"], r["repeat_index"]): int(r["id"])
            for r in inserted
        }
        await self._refresh_statistics(len(ids), inserted[0]["estimate"] if inserted else -1.0)
        if dependencies:
            params = [
                {
                    "test_run_id": ids[d.run],
                    "depends_on_id": ids[d.depends_on],
                    "outcome": d.outcome.value,
                }
                for d in dependencies
            ]
            async with self.conn.cursor() as cursor:
                await cursor.executemany(sql("insert_dependency"), params)
        if any(error is not None for error in errors):
            await self.schedule(suite_run_row["id"])  # skips those waiting; may close it
            suite_run_row = await self._one("get_suite_run", id=suite_run_row["id"])
        return SuiteRun.model_validate(suite_run_row)  # insert_suite_run woke the workers

    async def _refresh_statistics(self, created: int, known: float) -> None:
        """The claim walks its partial index in order only while the planner knows roughly how
        many runs there are: on a table it never analyzed, or that just grew a lot, it guesses
        a handful and scans and sorts every queued run at each claim instead (4 ms a claim with
        20,000 queued), and a worker's prepared claim keeps that plan. So the statistics are
        refreshed here, in the creating transaction (whose own rows ANALYZE counts), when the
        new runs are many compared with what the planner last counted. ANALYZE keeps its lock
        on test_run until the transaction ends and the lock excludes another ANALYZE (or a
        VACUUM): SKIP_LOCKED leaves the refresh to whoever holds it rather than wait for it.
        `known`: the planner's count of test_run's rows (-1: never analyzed)."""
        if created < _ANALYZE_FROM:
            return
        if known < 0 or created > float(known) / 5:
            await self.conn.execute("ANALYZE (SKIP_LOCKED) test_run", prepare=False)

    async def notify(self) -> None:
        """Wake the workers (delivered when the transaction commits)."""
        await self.conn.execute("SELECT pg_notify('orchestra_runs', '')")

    async def notify_changed(self, suite_run_ids: Sequence[int]) -> None:
        """Wake the event streams of these suite runs (delivered when the transaction
        commits): runs of theirs ended, or they did."""
        await self.conn.execute(
            "SELECT pg_notify('orchestra_events', id::text) FROM unnest(%s::bigint[]) AS id",
            (list(suite_run_ids),),
        )

    async def get(self, suite_run_id: int) -> SuiteRun | None:
        row = await self._one("get_suite_run", id=suite_run_id)
        return SuiteRun.model_validate(row) if row else None

    async def page(
        self,
        *,
        suite_id: int | None = None,
        statuses: Sequence[SuiteRunStatus] = (),
        before: int | None = None,
        limit: int = 50,
        process: str | None = None,
    ) -> list[tuple[SuiteRun, dict[TestRunStatus, int]]]:
        """Up to `limit` suite runs, newest first, with their test runs counted by status:
        of suite `suite_id`, in one of `statuses`, of a suite of process key `process`, with
        ids below `before` (each when given)."""
        rows = await self._filtered(
            "list_suite_runs",
            suite_id=suite_id,
            process=process,
            statuses=[status.value for status in statuses] or None,
            before=before,
            limit=limit,
        )
        return [_with_counts(row) for row in rows]

    async def test_runs(self, suite_run_id: int) -> list[TestRun]:
        rows = await self._all("get_test_runs", suite_run_id=suite_run_id)
        return [_test_run(row) for row in rows]

    async def failing_runs(self, suite_run_id: int) -> list[TestRun]:
        """The runs a failure summary lists (`get_failing_test_runs`), in report order."""
        rows = await self._all("get_failing_test_runs", suite_run_id=suite_run_id)
        return [_test_run(row) for row in rows]

    async def test_runs_by_id(self, ids: Sequence[int]) -> list[TestRun]:
        """Some test runs, in id order."""
        rows = await self._all("test_runs_by_id", ids=list(ids))
        return [_test_run(row) for row in rows]

    async def test_run(self, test_run_id: int) -> TestRun | None:
        row = await self._one("get_test_run", id=test_run_id)
        return TestRun.model_validate(row) if row else None

    async def counts(self, suite_run_id: int) -> dict[TestRunStatus, int]:
        rows = await self._all("count_test_runs", suite_run_id=suite_run_id)
        return {TestRunStatus(row["status"]): int(row["n"]) for row in rows}

    async def step_results(self, test_run_ids: Sequence[int]) -> list[StepResult]:
        rows = await self._all("get_step_results", test_run_ids=list(test_run_ids))
        return [_step_result(row) for row in rows]

    async def step_outlines(self, test_run_ids: Sequence[int]) -> list[StepResult]:
        """`step_results` without requests, responses, commands, nor the checks of steps
        that passed: what a report shows of a run it does not detail."""
        rows = await self._all("get_step_outlines", test_run_ids=list(test_run_ids))
        return [_step_result(row) for row in rows]

    async def read_one_snapshot(self) -> None:
        """This transaction's statements read one snapshot (read only); run it first."""
        await self._run("read_one_snapshot", {}, prepare=False)  # no plan to keep

    async def report_order(self, suite_run_id: int) -> list[tuple[int, TestRunStatus]]:
        """The suite run's test runs in its report's order (as `test_runs`), by id and status."""
        rows = await self._all("report_order", suite_run_id=suite_run_id)
        return [(int(row["id"]), TestRunStatus(row["status"])) for row in rows]

    async def cleanup_failed(self, suite_run_id: int) -> bool:
        """Whether an undo or cleanup action of one of the suite run's runs did not pass."""
        row = await self._one("cleanup_failed", suite_run_id=suite_run_id)
        return bool(row and row["failed"])

    async def lost_leases(self, test_run_ids: Sequence[int]) -> list[LostLease]:
        """The leases these runs lost, by run and claim."""
        rows = await self._all("get_lost_leases", test_run_ids=list(test_run_ids))
        if not rows:  # the history module is imported when a run has lost a lease
            return []
        from orchestra.domain.history import LostLease

        return [LostLease.model_validate(row) for row in rows]

    async def released_claims(self, test_run_ids: Sequence[int]) -> list[ReleasedClaim]:
        """The claims of these runs their workers released mid-step, by run and claim."""
        rows = await self._all("get_released_claims", test_run_ids=list(test_run_ids))
        if not rows:
            return []
        from orchestra.domain.history import ReleasedClaim

        return [ReleasedClaim.model_validate(row) for row in rows]

    async def prunable(
        self,
        *,
        suite_id: int | None = None,
        older_than_seconds: float | None = None,
        keep_last: int | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[dict[str, Any]]:
        """Ended suite runs matching every filter given (see `prunable_suite_runs`), with the
        test runs and step results each holds."""
        return [
            dict(row)
            for row in await self._filtered(
                "prunable_suite_runs",
                suite_id=suite_id,
                older_than=older_than_seconds,
                keep_last=keep_last,
                ids=None if ids is None else list(ids),
            )
        ]

    async def delete_suite_runs(self, ids: Sequence[int]) -> list[int]:
        """Delete these suite runs (ended ones only) and all that is theirs; the ids deleted."""
        return [int(row["id"]) for row in await self._all("delete_suite_runs", ids=list(ids))]

    async def cancel(self, suite_run_id: int) -> bool:
        """Cancel the suite run and its unfinished runs; False when it has ended, or when
        none of its runs is left unfinished (its last completion committed, its closing to
        follow): then it is closed now, as they ended, not CANCELLED."""
        if await self.close_if_done(suite_run_id) is not None:
            return False
        cancelled = await self._one("cancel_suite_run", id=suite_run_id)
        if cancelled is None:
            return False
        runs = await self._all("cancel_test_runs", suite_run_id=suite_run_id)
        if any(run["cleanup_pending"] for run in runs):
            await self.notify()  # workers claim their cleanup
        await self.notify_changed([suite_run_id])
        return True

    async def cleanup_pending(self, suite_run_id: int) -> int:
        """How many ended runs of the suite run (cancelled or stuck) still owe their cleanup."""
        row = await self._one("cleanup_pending", suite_run_id=suite_run_id)
        return int(row["n"]) if row else 0

    async def finish_cleanup(
        self, test_run_id: int, worker: str, attempt: int, execution_context: dict[str, Any]
    ) -> bool:
        """An ended run's cleanup is done (fenced by the lease); False when it was lost."""
        row = await self._one(
            "finish_cleanup",
            test_run_id=test_run_id,
            worker=worker,
            attempt=attempt,
            execution_context=Jsonb(execution_context),
        )
        return row is not None

    # --- the worker's statements -------------------------------------------------------------

    async def claim(
        self, worker: str, limit: int, lease_seconds: float, suite_run_id: int | None = None
    ) -> list[ClaimedRun]:
        """Claim up to `limit` runs (of one suite run only, when `suite_run_id` is given)."""
        # a worker claims again and again, on each of the pool's connections in turn: planned
        # once, at its first run on a connection, for any suite run (see `claim_runs`)
        rows = await self._all(
            "claim_runs",
            prepare=True,
            worker=worker,
            limit=limit,
            lease_seconds=lease_seconds,
            suite_run_id=suite_run_id,
        )
        return [ClaimedRun(**row) for row in rows]

    async def release_orphans(
        self,
        worker: str,
        held: Sequence[tuple[int, int]],
        left: Mapping[int, int] | None = None,
    ) -> list[int]:
        """Release the runs leased to `worker` other than `held` (run id, attempt): see
        `release_orphans`; those of `left` (run id -> attempt: stopped with a step possibly in
        flight) are recorded as released claims. Returns the ids released."""
        left = left or {}
        rows = await self._all(
            "release_orphans",
            worker=worker,
            ids=[run_id for run_id, _ in held],
            attempts=[attempt for _, attempt in held],
            left_ids=list(left),
            left_attempts=list(left.values()),
        )
        if rows:
            await self.notify()
        return [int(row["id"]) for row in rows]

    async def next_foreign_expiry(self, worker: str) -> float | None:
        """Seconds until the first lease held by another worker expires; None when none is."""
        row = await self._one("next_foreign_expiry", worker=worker)
        return None if row is None or row["seconds"] is None else float(row["seconds"])

    async def heartbeat(
        self, worker: str, held: Mapping[int, int], lease_seconds: float
    ) -> Renewal:
        """Renew the leases of `held` (run id -> attempt): which are still held, and which
        runs were cancelled under theirs."""
        rows = await self._all(
            "heartbeat",
            worker=worker,
            ids=list(held),
            attempts=list(held.values()),
            lease_seconds=lease_seconds,
        )
        return Renewal(
            kept=frozenset(int(row["id"]) for row in rows if not row["cancelled"]),
            cancelled=frozenset(int(row["id"]) for row in rows if row["cancelled"]),
        )

    async def cancelled_under(self, test_run_id: int, worker: str, attempt: int) -> bool:
        """Whether the run was cancelled (its suite run) while `worker` held it under
        `attempt`: why a write of that lease was refused, unless another worker took it."""
        rows = await self._all("run_statuses", ids=[test_run_id])
        return any(
            row["status"] == TestRunStatus.CANCELLED.value
            and row["locked_by"] == worker
            and row["attempt"] == attempt
            for row in rows
        )

    async def checkpoint(self, cp: Checkpoint) -> bool:
        """Store a step's result and the run's context; False when the lease was lost."""
        outcome = cp.outcome
        row = await self._one(
            "checkpoint",
            test_run_id=cp.test_run_id,
            worker=cp.worker,
            attempt=cp.attempt,
            execution_context=Jsonb(cp.execution_context),
            step_id=cp.step_id,
            position=cp.step.position,
            element_id=cp.step.element_id,
            branch=cp.step.branch,
            status=outcome.status.value,
            started_at=outcome.started_at,
            duration_ms=outcome.duration_ms,
            request=Jsonb(outcome.request) if outcome.request is not None else None,
            response=Jsonb(outcome.response) if outcome.response is not None else None,
            checks=Jsonb([c.model_dump(mode="json") for c in outcome.checks]),
            error=outcome.error,
            attempts=outcome.attempts,
            resent_after=outcome.resent_after,
            stalled_ms=outcome.stalled_ms,
            phase=cp.phase,
            command=Jsonb(outcome.command) if outcome.command is not None else None,
            exports=Jsonb(outcome.exports),
        )
        return row is not None and int(row["fenced"]) == 1

    async def checkpoint_many(self, cps: Sequence[Checkpoint]) -> list[bool]:
        """`checkpoint` for several runs in one statement (no exports); for each, False when
        its run's lease was lost."""
        return [written is not None for written in await self.write_many(cps)]

    async def write_many(self, writes: Sequence[Checkpoint | Completion]) -> list[Written | None]:
        """Checkpoints (no exports) and completions of several runs in one statement, each
        fenced by its run's lease; for each, None when that lease was lost. A completion's
        suite run is not closed here: `close_if_done` or `schedule` it afterwards."""
        payload = Jsonb([_write_row(w) for w in writes], dumps=checkpoint_dumps)
        # a flusher runs it again and again: planned once, at its first run on a connection
        rows = await self._all("checkpoint_many", prepare=True, rows=payload)
        written = {
            int(row["n"]): Written(int(row["suite_run_id"]), row["unfinished"]) for row in rows
        }
        return [written.get(n) for n in range(1, len(writes) + 1)]

    async def step_responses(self, test_run_id: int) -> dict[str, Any]:
        """Element id -> the response recorded for it (the last one), for a resumed run."""
        rows = await self._all("step_responses", test_run_id=test_run_id)
        return {str(row["element_id"]): row["response"] for row in rows}

    async def complete(
        self,
        test_run_id: int,
        worker: str,
        attempt: int,
        status: TestRunStatus,
        error: str | None,
        execution_context: dict[str, Any],
        *,
        close_suite_run: bool = True,
    ) -> int | None:
        """Finish a run (and its suite run, if it was the last one and `close_suite_run`);
        returns its suite run id, or None when the lease was lost."""
        row = await self._one(
            "complete_run",
            test_run_id=test_run_id,
            worker=worker,
            attempt=attempt,
            status=status.value,
            error=error,
            execution_context=Jsonb(execution_context),
        )
        if row is None:
            return None
        suite_run_id = int(row["suite_run_id"])
        if close_suite_run and row["unfinished"] <= 0:
            await self.close_if_done(suite_run_id)
        return suite_run_id

    async def release(
        self,
        test_run_id: int,
        worker: str,
        attempt: int,
        execution_context: dict[str, Any] | None,
        available_at: float | None = None,
    ) -> bool:
        """Back to the queue with `execution_context` (None: the one stored, its last
        checkpoint's); False when the lease was lost."""
        row = await self._one(
            "release_run",
            test_run_id=test_run_id,
            worker=worker,
            attempt=attempt,
            execution_context=None if execution_context is None else Jsonb(execution_context),
            available_at=available_at,
        )
        return row is not None

    # --- the scheduler's and the reaper's statements -----------------------------------------

    async def schedule(self, suite_run_id: int) -> tuple[int, int, str | None]:
        """Skip runs whose dependencies cannot be met (to a fixpoint), queue the ready ones,
        and close the suite run when every run is terminal. Returns (queued, skipped, closed)."""
        skipped = 0
        while True:
            row = await self._one("skip_unreachable", suite_run_id=suite_run_id)
            newly = int(row["skipped"]) if row else 0
            if newly == 0:
                break
            skipped += newly
        queued = len(await self._all("promote_ready", suite_run_id=suite_run_id))
        closed = await self.close_if_done(suite_run_id)
        if queued:
            await self.notify()
        return queued, skipped, closed

    async def close_if_done(self, suite_run_id: int) -> str | None:
        closed = await self._one("close_if_done", suite_run_id=suite_run_id)
        if closed is None:
            return None
        await self.notify_changed([suite_run_id])
        return str(closed["status"])

    async def suite_runs_to_sweep(self, known: Mapping[int, int]) -> list[SweepChange]:
        """The suite runs whose `unfinished` count is not the one in `known` (suite run id ->
        count when the sweeper last looked): new ones, changed ones (a run of theirs ended)
        with what to do for each, and known ones no longer in progress. Only reads."""
        rows = await self._all(
            "suite_runs_to_sweep",
            known_ids=_int_array(known),
            known_unfinished=_int_array(known.values()),
        )
        return [
            SweepChange(int(row["id"]), row["unfinished"], SweepAction(row["action"]))
            for row in rows
        ]

    async def reap_stuck(self) -> list[tuple[int, int]]:
        rows = await self._all("reap_stuck")
        return [(int(row["id"]), int(row["suite_run_id"])) for row in rows]

    async def arrive_at_barrier(
        self,
        suite_run_id: int,
        name: str,
        parties: int,
        test_run_id: int,
        timeout_seconds: float,
        *,
        worker: str,
        attempt: int,
    ) -> BarrierArrival | None:
        """Register the run at the barrier; None when the lease was lost (the run cancelled,
        claimed again or deleted), and then nothing is written."""
        row = await self._one(
            "arrive_at_barrier",
            suite_run_id=suite_run_id,
            name=name,
            parties=parties,
            test_run_id=test_run_id,
            timeout_seconds=timeout_seconds,
            worker=worker,
            attempt=attempt,
        )
        if row is None:
            return None
        return BarrierArrival(
            arrived=int(row["arrived"]),
            parties=int(row["parties"]),
            released=bool(row["released"]),
            timed_out=bool(row["timed_out"]),
            timeout_at=float(row["timeout_at"]),
        )

    async def barrier_doomed_by(self, suite_run_id: int, name: str) -> list[str]:
        """The runs whose ending without arriving means a barrier can no longer be met (e.g.
        "S02 (test run 17) ended FAILED"); empty while it still can."""
        row = await self._one("barrier_outlook", suite_run_id=suite_run_id, name=name)
        if row is None or not row["doomed"]:
            return []
        return [str(ended) for ended in row["ended"]]

    async def wake_doomed_barriers(self, suite_run_ids: Sequence[int]) -> BarrierWake:
        """Wake the runs parked at the barriers of these suite runs that can no longer be met
        (a party ended without arriving and too few may still come), so they fail now rather
        than at the timeout: one statement for every barrier (and a notification when any
        woke)."""
        row = await self._one("wake_doomed_barriers", suite_run_ids=_int_array(suite_run_ids))
        assert row is not None  # an aggregate: one row
        wake = BarrierWake(
            woken=int(row["woken"]),
            arriving=frozenset(int(i) for i in row["arriving"]),
            xmin=int(row["xmin"]),
            xmax=int(row["xmax"]),
        )
        if wake.woken:
            await self.notify()
        return wake

    async def release_barrier(self, suite_run_id: int, name: str) -> None:
        await self._execute("release_barrier", suite_run_id=suite_run_id, name=name)
        await self.notify()


def _int_array(values: Iterable[int]) -> str:
    """Integers as the text form of a PostgreSQL array (`{1,2,3}`), for a parameter cast to
    one: psycopg adapts a list element by element (about 0.5 us each, 1 ms for the 2,000 open
    suite runs a sweep sends), this is a join."""
    return "{" + ",".join(map(str, values)) + "}"


def _with_counts(row: dict[str, Any]) -> tuple[SuiteRun, dict[TestRunStatus, int]]:
    counts = row.pop("counts")
    return SuiteRun.model_validate(row), {TestRunStatus(k): int(n) for k, n in counts.items()}


def _write_row(write: Checkpoint | Completion) -> dict[str, Any]:
    if isinstance(write, Checkpoint):
        return _checkpoint_row(write)
    row = _checkpoint_row(write.final) if write.final is not None else {}
    row.update(
        test_run_id=write.test_run_id,
        worker=write.worker,
        attempt=write.attempt,
        execution_context=write.execution_context,
        finish=write.status.value,
    )
    if write.error is not None:
        row["finish_error"] = write.error
    return row


_JSON_SCALARS = frozenset({str, int, bool, type(None)})  # not float: NaN is dumped as null


def _check_row(check: CheckResult) -> dict[str, Any]:
    """`check.model_dump(mode="json")`, built directly when the values compared are plain."""
    if type(check.expected) in _JSON_SCALARS and type(check.actual) in _JSON_SCALARS:
        return dict(check.__dict__)  # its fields, all plain: a third of building the dict
    return check.model_dump(mode="json")


def _checkpoint_row(cp: Checkpoint) -> dict[str, Any]:
    """One row of `checkpoint_many`; None values left out, so they read as SQL NULL. One `if`
    per optional column: a loop over (key, value) pairs built them all for every row."""
    outcome, step = cp.outcome, cp.step
    row = {
        "test_run_id": cp.test_run_id,
        "worker": cp.worker,
        "attempt": cp.attempt,
        "execution_context": cp.execution_context,
        "position": step.position,
        "branch": step.branch,
        "status": outcome.status.value,
        "started_at": outcome.started_at,
        "checks": [_check_row(check) for check in outcome.checks],
    }
    if cp.step_id is not None:
        row["step_id"] = cp.step_id
    if step.element_id is not None:
        row["element_id"] = step.element_id
    if outcome.duration_ms is not None:
        row["duration_ms"] = outcome.duration_ms
    if outcome.request is not None:
        row["request"] = outcome.request
    if outcome.response is not None:
        row["response"] = outcome.response
    if outcome.error is not None:
        row["error"] = outcome.error
    if outcome.attempts != 1:  # SQL's default: 1
        row["attempts"] = outcome.attempts
    if outcome.resent_after is not None:
        row["resent_after"] = outcome.resent_after
    if outcome.stalled_ms is not None:
        row["stalled_ms"] = outcome.stalled_ms
    if cp.phase != "main":  # SQL's default: main
        row["phase"] = cp.phase
    if outcome.command is not None:
        row["command"] = outcome.command
    return row


# A report reads every step result of a suite run (a thousand for 200 runs of 5 steps): rows
# of our own tables, typed by their columns, are not validated again (see `domain.trusted`).
_TEST_RUN_FIELDS = tuple(TestRun.model_fields)


def _test_run(row: Mapping[str, Any]) -> TestRun:
    values = {name: row[name] for name in _TEST_RUN_FIELDS}
    values["status"] = TestRunStatus(values["status"])
    return trusted(TestRun, values)


def _step_result(row: dict[str, Any]) -> StepResult:
    """A row of `get_step_results`, which selects StepResult's fields in their order."""
    row["status"] = StepStatus(row["status"])
    row["checks"] = tuple(row["checks"])
    return trusted(StepResult, row)
