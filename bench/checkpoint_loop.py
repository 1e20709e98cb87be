"""The bare aiohttp loop writing Orchestra's own checkpoints: a reference between the durable
loop (`bench.durable_loop`: the least a durable runner writes) and Orchestra.

The suite run's test runs are claimed up front by one lease; then the bare loop runs its
scenarios, and after each step it hands Orchestra's group committer (`store.commits`) the
checkpoint Orchestra writes for it: the step's result (request and response records shaped as
the executor's, its two checks) and the run's `execution_context` (`RunState`), fenced by the
lease, in Orchestra's statement (`checkpoint_many`); the last step's checkpoint goes with the
run's completion, as Orchestra's does. What it leaves out is Orchestra's step execution
(templates, checks, redaction, records), its interpreter and its worker (claims as it goes,
heartbeats, the sweep). So Orchestra over this loop is what executing a step costs, and this
loop over the durable one is what Orchestra's checkpoint costs beyond the least one.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from psycopg_pool import AsyncConnectionPool

from bench.order_loop import order_loop
from bench.support import Measure, measure
from orchestra.domain.execution import CheckResult, StepOutcome
from orchestra.domain.records import StoredStep
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.runtime.interpreter import RunState
from orchestra.services import running
from orchestra.store.base import Connection
from orchestra.store.commits import GroupCommitter
from orchestra.store.database import Database, ServerInfo, connect_pool
from orchestra.store.repositories import UnitOfWork
from orchestra.store.runs import Checkpoint, ClaimedRun, Completion, RunRepository

WORKER = "bench-checkpoint-loop"
CLAIM = 8  # runs claimed at once: a worker at concurrency 32 claims a quarter of it
EXPECTED = ("id", "CREATED", "PAID", "PAID", "CANCELLED")  # what each step's check compares


class Checkpointer:
    """The after-step hook: step `position` of scenario `i` is checkpointed as Orchestra's.
    Scenario `i` runs as the `i`-th run claimed; runs are claimed as the loop comes to them,
    `CLAIM` at a time like a worker's claims, so only the runs in progress hold leases (the
    checkpoint statement finds a run among those)."""

    def __init__(
        self, pool: AsyncConnectionPool[Connection], committer: GroupCommitter, suite_run_id: int
    ) -> None:
        self.pool = pool
        self.committer = committer
        self.suite_run_id = suite_run_id
        self.runs: list[ClaimedRun] = []
        self.states: dict[int, RunState] = {}
        self.steps: list[StoredStep] = []
        self._claiming = asyncio.Lock()

    async def _claimed(self, i: int) -> ClaimedRun:
        async with self._claiming:
            while len(self.runs) <= i:
                async with self.pool.connection() as conn:
                    repo = RunRepository(conn)
                    claimed = await repo.claim(WORKER, CLAIM, 600.0, self.suite_run_id)
                    assert claimed, f"no run left to claim for scenario {i}"
                    if not self.steps:
                        scenario = await UnitOfWork(conn).suites.scenario(claimed[0].scenario_id)
                        assert scenario is not None
                        self.steps = list(scenario.steps)
                self.runs.extend(claimed)
        return self.runs[i]

    async def __call__(self, i: int, position: int, status: int, payload: dict[str, Any]) -> None:
        claimed = self.runs[i] if i < len(self.runs) else await self._claimed(i)
        stored = self.steps[position]
        state = self.states.setdefault(i, RunState())
        step = stored.step
        outcome = _outcome(claimed, position, status, payload)
        state.note(step, outcome)
        checkpoint = Checkpoint(
            test_run_id=claimed.id,
            worker=WORKER,
            attempt=claimed.attempt,
            step_id=stored.id,
            step=step,
            outcome=outcome,
            execution_context=state.snapshot(),
        )
        if position < len(self.steps) - 1:
            written = await self.committer.checkpoint(checkpoint)
        else:
            del self.states[i]
            state.outcome = {"status": TestRunStatus.PASSED.value, "error": None}
            completion = Completion(
                test_run_id=claimed.id,
                worker=WORKER,
                attempt=claimed.attempt,
                status=TestRunStatus.PASSED,
                error=None,
                execution_context=state.snapshot(),
                final=checkpoint,
            )
            written = await self.committer.complete(completion, schedule=False)
        assert written, f"the lease of run {claimed.id} was lost"


def _outcome(
    claimed: ClaimedRun, position: int, status: int, payload: dict[str, Any]
) -> StepOutcome:
    """A step's outcome as the executor records it (same records, same sizes)."""
    url = f"http://127.0.0.1/orders/{payload.get('id', 0)}"
    actual = payload.get("status", payload.get("id"))
    expected = actual if position == 0 else EXPECTED[position]
    checks = (
        CheckResult(name="status eq", passed=True, expected=status, actual=status),
        CheckResult(name="jsonpath $.status eq", passed=True, expected=expected, actual=actual),
    )
    return StepOutcome(
        status=StepStatus.PASSED,
        started_at=time.time(),
        duration_ms=1.0,
        request={
            "method": "POST" if position in (0, 2, 4) else "GET",
            "url": url,
            "headers": {
                "traceparent": f"00-{claimed.id:032x}-{position:016x}-01",
                "Idempotency-Key": f"{claimed.id:08x}-0000-0000-0000-{position:012x}",
            },
        },
        response={
            "url": url,
            "json": payload,
            "status": status,
            "headers": {
                "Date": "Sat, 28 Nov 2026 14:55:39 GMT",
                "Server": "Python/3.11 aiohttp/3.14.5",
                "Content-Type": "application/json; charset=utf-8",
                "Content-Length": "40",
            },
            "elapsed_ms": 1.0,
        },
        checks=checks,
        saved={"order_id": payload["id"]} if position == 0 else {},
    )


async def checkpoint_loop(
    url: str, base_url: str, suite_run_id: int, runs: int, concurrency: int
) -> float:
    """The bare loop, each step checkpointed as Orchestra's; every run must end PASSED."""
    async with connect_pool(url, max_size=4, upgrade=False) as pool:
        async with GroupCommitter(pool) as committer:
            checkpointer = Checkpointer(pool, committer, suite_run_id)
            elapsed = await order_loop(base_url, runs, concurrency, checkpointer)
        async with pool.connection() as conn:
            counts = await RunRepository(conn).counts(suite_run_id)
    assert counts == {TestRunStatus.PASSED: runs}, counts
    return elapsed


async def _suite_run(url: str, suite_id: int) -> int:
    async with connect_pool(url, max_size=1, upgrade=False) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        suite_run = await running.start_suite_run(
            db, suite_id, environment="bench", data_set="orders"
        )
        return suite_run.id


def measure_checkpoints(
    url: str, base_url: str, suite_id: int, runs: int, concurrency: int
) -> tuple[float, Measure]:
    """Elapsed seconds and the CPU it cost (this process, PostgreSQL); the suite run is made
    before the measurement starts."""
    suite_run_id = asyncio.run(_suite_run(url, suite_id))
    with measure(url) as m:
        elapsed = asyncio.run(checkpoint_loop(url, base_url, suite_run_id, runs, concurrency))
    return elapsed, m
