"""A worker's door to PostgreSQL: every operation it makes outside the group committer's
batches (claims, heartbeats, look-ups, notifications), built on the pool.

Each operation takes its own pooled connection, applies again a transaction PostgreSQL rolled
back whole for a conflict with a concurrent one (a deadlock, a serialization failure: nothing
changed; a heartbeat meets one with a committing batch of checkpoints, which locks the same rows
in another order), and raises only Orchestra's errors (`store.failures`). What an operation may
raise is `FAILURES`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool

from orchestra.domain.records import Environment, StoredScenario, SuiteRun
from orchestra.errors import Conflict, StoreError, ValueRefused
from orchestra.store.base import CONFLICTS, Connection
from orchestra.store.failures import failure
from orchestra.store.repositories import UnitOfWork
from orchestra.store.runs import ClaimedRun, Renewal, RunRepository

T = TypeVar("T")
# what a `WorkerStore` operation raises: the server out of reach or refusing the statement,
# a conflict still there after the retries, a value refused
FAILURES = (StoreError, Conflict, ValueRefused)
_TRIES = 3


@dataclass(frozen=True, slots=True)
class SuiteRunSetting:
    """What a worker needs of a suite run to execute its runs: the run and its environment."""

    suite_run: SuiteRun
    environment: Environment | None


class WorkerStore:
    def __init__(self, pool: AsyncConnectionPool[Connection]) -> None:
        self.pool = pool

    async def claim(
        self, worker: str, limit: int, lease_seconds: float, suite_run_id: int | None = None
    ) -> list[ClaimedRun]:
        """Claim up to `limit` runs (of one suite run only, when `suite_run_id` is given)."""
        return await self._apply(
            lambda runs: runs.claim(worker, limit, lease_seconds, suite_run_id)
        )

    async def release_orphans(
        self, worker: str, held: Sequence[tuple[int, int]], left: Mapping[int, int]
    ) -> list[int]:
        """Release the runs leased to `worker` but `held` (run id, attempt), recording those
        `left` (run id -> attempt) as released claims: the ids released."""
        return await self._apply(lambda runs: runs.release_orphans(worker, held, left))

    async def next_foreign_expiry(self, worker: str) -> float | None:
        """Seconds until the first lease another worker holds expires; None when none is."""
        return await self._apply(lambda runs: runs.next_foreign_expiry(worker))

    async def heartbeat(
        self, worker: str, held: Mapping[int, int], lease_seconds: float
    ) -> Renewal:
        """Renew the leases of `held` (run id -> attempt)."""
        return await self._apply(lambda runs: runs.heartbeat(worker, held, lease_seconds))

    async def cancelled_under(self, test_run_id: int, worker: str, attempt: int) -> bool:
        """Whether the run's suite run was cancelled while `worker` held it under `attempt`."""
        return await self._apply(lambda runs: runs.cancelled_under(test_run_id, worker, attempt))

    async def step_responses(self, test_run_id: int) -> dict[str, Any]:
        """A resumed run's recorded responses by element id."""
        return await self._apply(lambda runs: runs.step_responses(test_run_id))

    async def notify_changed(self, suite_run_ids: Sequence[int]) -> None:
        """Wake the event streams of these suite runs."""
        await self._apply(lambda runs: runs.notify_changed(suite_run_ids))

    async def scenario(self, scenario_id: int) -> StoredScenario:
        """A scenario with its steps; `StoreError` when it is gone."""
        found = await self._apply(lambda runs: UnitOfWork(runs.conn).suites.scenario(scenario_id))
        if found is None:
            raise StoreError(f"scenario {scenario_id} is gone")
        return found

    async def suite_run_setting(self, suite_run_id: int) -> SuiteRunSetting:
        """A suite run and its environment; `StoreError` when it is gone."""

        async def look_up(runs: RunRepository) -> SuiteRunSetting:
            uow = UnitOfWork(runs.conn)
            suite_run = await uow.runs.get(suite_run_id)
            if suite_run is None:
                raise StoreError(f"suite run {suite_run_id} is gone")
            env_id = suite_run.environment_id
            environment = await uow.config.environment_by_id(env_id) if env_id else None
            return SuiteRunSetting(suite_run, environment)

        return await self._apply(look_up)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection for work of several transactions (a sweep's pass); a driver
        error leaving the block leaves as Orchestra's."""
        try:
            async with self.pool.connection() as conn:
                yield conn
        except psycopg.Error as exc:
            raise failure(exc) from exc

    async def _apply(self, operation: Callable[[RunRepository], Awaitable[T]]) -> T:
        """`operation` on a connection of its own; again after a conflict (rolled back whole:
        nothing changed), up to three times; a driver error leaves as Orchestra's."""
        for attempt in range(1, _TRIES + 1):
            try:
                async with self.pool.connection() as conn:
                    return await operation(RunRepository(conn))
            except CONFLICTS as exc:
                if attempt == _TRIES:
                    raise failure(exc) from exc
                await asyncio.sleep(0.01 * attempt)
            except psycopg.Error as exc:
                raise failure(exc) from exc
        raise AssertionError("unreachable")
