"""Helpers for runtime tests: suites built in code, and an executor double driven by step specs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.process import Flow, Node, NodeCategory, ProcessGraph
from orchestra.domain.records import Environment, StoredSuite
from orchestra.domain.scenario import (
    Coverage,
    DependsOn,
    GeneratedSuite,
    ScenarioStep,
    TestScenario,
)
from orchestra.domain.statuses import StepKind, StepStatus
from orchestra.runtime.sweeper import sweep
from orchestra.store.base import Connection
from orchestra.store.database import Database
from orchestra.store.runs import ClaimedRun, RunRepository


def step(position: int, element: str, branch: str = "", **spec: Any) -> ScenarioStep:
    return ScenarioStep(
        position=position, kind=StepKind.ACTION, element_id=element, branch=branch, spec=spec
    )


def join(position: int, branches: list[str], branch: str = "") -> ScenarioStep:
    return ScenarioStep(
        position=position,
        kind=StepKind.BARRIER,
        element_id="join",
        branch=branch,
        spec={"gateway": "join", "branches": branches},
    )


def shared_barrier(position: int, name: str, parties: int, timeout: float) -> ScenarioStep:
    return ScenarioStep(
        position=position,
        kind=StepKind.BARRIER,
        element_id=f"barrier-{name}",
        spec={"name": name, "parties": parties, "timeout": timeout},
    )


def scenario(
    name: str, steps: Sequence[ScenarioStep], *deps: str, position: int = 0, outcome: str = "PASSED"
) -> TestScenario:
    return TestScenario(
        name=name,
        position=position,
        path=tuple(s.element_id or "" for s in steps),
        steps=tuple(steps),
        depends_on=tuple(DependsOn(scenario=d, outcome=outcome) for d in deps),
    )


async def store_suite(db: Database, scenarios: Sequence[TestScenario]) -> StoredSuite:
    graph = ProcessGraph(
        id="p",
        nodes=(Node(id="s", category=NodeCategory.START_EVENT, type="startEvent"),),
        flows=(Flow(id="f", source="s", target="s"),),
    )
    suite = GeneratedSuite(
        process_key="p",
        process_version=1,
        criterion="all-flows",
        scenarios=tuple(s.model_copy(update={"position": i}) for i, s in enumerate(scenarios)),
        coverage=Coverage(
            criterion="all-flows", flows_total=1, flows_covered=1, nodes_total=1, nodes_covered=1
        ),
    )
    async with db.transaction() as uow:
        process, _ = await uow.processes.add_version(
            graph, checksum="c", source_xml="<x/>", source_name=None
        )
        suite_id = await uow.suites.add(process.id, suite)
        stored = await uow.suites.get(suite_id)
    assert stored is not None
    return stored


@dataclass
class Call:
    test_run_id: int
    position: int
    attempt: int
    started: float
    ended: float = 0.0
    suite: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)


class ScriptedExecutor:
    """Does what each step's spec says: `sleep` seconds, end `result`, `save`, `export`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.closed = False

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        call = Call(
            ctx.run.test_run_id,
            step.position,
            ctx.run.attempt,
            time.monotonic(),
            suite=dict(ctx.suite),
            vars=dict(ctx.vars),
            data=dict(ctx.data),
            steps={key: dict(view) for key, view in ctx.steps.items()},
            env=dict(ctx.env),
        )
        self.calls.append(call)
        started = time.time()
        await asyncio.sleep(float(step.spec.get("sleep", 0)))
        call.ended = time.monotonic()
        result = StepStatus(step.spec.get("result", "PASSED"))
        return StepOutcome(
            status=result,
            started_at=started,
            duration_ms=(time.time() - started) * 1000,
            response=dict(step.spec.get("response", {"step": step.element_id})),
            error=None if result is StepStatus.PASSED else f"scripted {result.value}",
            saved=dict(step.spec.get("save", {})),
            exports={
                key: value.format(**ctx.data) if isinstance(value, str) else value
                for key, value in step.spec.get("export", {}).items()
            },
        )

    async def aclose(self) -> None:
        self.closed = True


def factory_for(executor: ScriptedExecutor):  # type: ignore[no-untyped-def]
    async def build(environment: Environment | None) -> ScriptedExecutor:
        del environment
        return executor

    return build


async def lock_waiters(conn: Connection) -> int:
    """How many statements of this database wait for a lock now (a race test's cue)."""
    cursor = await conn.execute(
        "SELECT count(*) AS n FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    row = await cursor.fetchone()
    return 0 if row is None else int(row["n"])


_EXPIRE_LEASES = """
UPDATE test_run
SET heartbeat_at = heartbeat_at - (lock_until - now() + interval '10 milliseconds'),
    lock_until = now() - interval '10 milliseconds'
WHERE status = 'RUNNING' AND lock_until > now() - interval '10 milliseconds'
  AND (CAST(%(ids)s AS bigint[]) IS NULL OR id = ANY(%(ids)s))
"""


async def expire_leases(db: Database, *run_ids: int) -> None:
    """End the leases of these runs (of every RUNNING run when none is named) a moment ago by
    the database's clock, as if their holders had stopped heartbeating that long ago: the
    lease and its last heartbeat move back together, so a test sets the time with SQL
    instead of sleeping until the lease runs out."""
    async with db.pool.connection() as conn:
        await conn.execute(_EXPIRE_LEASES, {"ids": list(run_ids) or None})


async def expire_again_and_reap(db: Database) -> None:
    """A run claimed by "w1" (with `max_attempts=2`) loses its lease, is claimed by "w2" and
    loses that one too; the sweep's reaper then gives it up (FAILED_STUCK)."""
    await expire_leases(db)
    async with db.transaction() as uow:
        assert await uow.runs.claim("w2", 1, lease_seconds=30)
    await expire_leases(db)
    async with db.pool.connection() as conn:
        assert await sweep(conn)


async def until(condition: Callable[[], object], what: str, tries: int = 500) -> None:
    """Poll `condition` (every 20 ms, `tries` times at most) until it holds; fail naming it."""
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"gave up waiting until {what}")


async def claimed_by_another(db: Database, worker: str) -> ClaimedRun:
    """The one run, claimed by `worker` as soon as its lease has expired."""
    for _ in range(500):  # bounded: 10 s
        async with db.pool.connection() as conn:
            claimed = await RunRepository(conn).claim(worker, 1, lease_seconds=30)
        if claimed:
            return claimed[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"{worker} could not claim the run")
