"""Group commit: the writes of concurrent runs share transactions.

A step counts as done only once its checkpoint has committed, and committing each one alone
would cap a worker at the server's fsync rate. Writes are queued here; a flusher takes
everything queued so far (up to `max_batch`), applies it in one transaction and resolves each
writer's future once it has committed, so while one batch commits the next gathers. A batch that
hits a deadlock or a serialization failure was rolled back whole and is applied again.

Two flushers, batches of up to 64: with four (and batches of 16) each flusher took the one or
two writes queued at that moment, paying BEGIN, COMMIT and a round trip per write; with one,
every write waited for the batch in flight and then its own. Within a batch the checkpoints and
the completions go in one statement (`write_many`: a run's last step is checkpointed with its
completion, in the same row), and a batch of such rows alone is that one statement in
autocommit, committed by itself: one round trip per batch, not BEGIN, statements, COMMIT.
Measured with `python -m bench bench_steps` (concurrency 32, 1000 runs of 5 steps): 4 x 16
cost 0.73-0.75 ms CPU per step (worker + PostgreSQL); 2 x 64 with `checkpoint_many` 0.47-0.55
ms; with completions in the statement, autocommit and compact checkpoints 0.34-0.39 ms (and
`bench_claims` 0.27-0.29 ms per run instead of 0.60), back to back under the same load. Four
flushers measured no better with one-statement batches either.

A batch that counts runs off their suite runs (`unfinished`) holds those rows locked until it
commits, so two such batches in flight at once run one after the other, the second blocked in
the server. While one flusher carries such a batch, the other takes only checkpoints (`_take`).
Measured on the bench project (200 runs x 5 steps, concurrency 32): 6-7 waits of 1-31 ms on
`suite_run` per run before (log_lock_waits, deadlock_timeout 1ms), none after.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool

from orchestra.errors import StoreError
from orchestra.store.base import CONFLICTS, Connection
from orchestra.store.failures import failure
from orchestra.store.refusals import REFUSALS
from orchestra.store.runs import Checkpoint, Completion, RunRepository, Written

T = TypeVar("T")
Write = Callable[[RunRepository], Awaitable[Any]]
log = logging.getLogger("orchestra.commits")


@dataclass(slots=True)
class _Pending:
    write: Write | None  # None: `row` is applied with the batch's other rows, in one statement
    done: asyncio.Future[Any]
    row: Checkpoint | Completion | None = None
    schedule: bool = False  # a completion whose dependents are queued or skipped with it


class GroupCommitter:
    def __init__(
        self,
        pool: AsyncConnectionPool[Connection],
        *,
        max_batch: int = 64,
        flushers: int = 2,
        on_last_run: Callable[[int], None] | None = None,
    ) -> None:
        """`on_last_run` is told the id of each suite run whose last unfinished run a batch
        completed, once that batch has committed and the suite run was closed (or, should the
        closing fail, left to the sweep)."""
        self._pool = pool
        self._on_last_run = on_last_run
        self.reconnect_seconds = 8.0  # how long a batch waits for the server to come back
        self._max_batch = max_batch
        self._flushers = flushers
        self._queue: list[_Pending] = []
        self._completing = False  # a flusher's batch in flight may count runs off suite runs
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.batches = 0
        self.writes = 0

    async def __aenter__(self) -> GroupCommitter:
        self._tasks = [
            asyncio.create_task(self._flush_forever(), name=f"group-commit-{i}")
            for i in range(self._flushers)
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        while self._queue:
            await self._flush(everything=True)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def submit(self, write: Callable[[RunRepository], Awaitable[T]]) -> T:
        """Apply `write` in the next shared transaction; returns once that has committed."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(write, done))
        self._wake.set()
        return await done

    async def checkpoint(self, checkpoint: Checkpoint) -> bool:
        """`RunRepository.checkpoint` in the next shared transaction: the batch's checkpoints
        go in one statement (`write_many`). False when the run's lease was lost."""
        if checkpoint.outcome.exports:  # exports merge into the suite run: one by one
            return await self.submit(lambda repo: repo.checkpoint(checkpoint))
        return await self._queue_row(checkpoint, schedule=False)

    async def complete(self, completion: Completion, *, schedule: bool) -> bool:
        """End a run (with its last step's checkpoint, if any) in the next shared transaction;
        with `schedule`, its suite run's dependents are queued or skipped in that transaction.
        Otherwise the suite run is closed, if that was its last run, right after the commit
        (and by the sweep, should that fail). False when the run's lease was lost."""
        final = completion.final
        if final is not None and final.outcome.exports:
            return await self.submit(lambda repo: _complete_alone(repo, completion, schedule))
        return await self._queue_row(completion, schedule=schedule)

    async def _queue_row(self, row: Checkpoint | Completion, *, schedule: bool) -> bool:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(None, done, row, schedule))
        self._wake.set()
        return await done

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue and await self._flush():
                pass

    async def _flush(self, *, everything: bool = False) -> bool:
        """Apply the next batch; False when there was none this flusher may take."""
        batch = self._take(everything)
        if not batch:
            return False
        completing = any(_locks_suite_run(p) for p in batch)
        self._completing = self._completing or completing
        try:
            await self._flush_batch(batch)
        finally:
            if completing:
                self._completing = False
                if self._queue:
                    self._wake.set()  # the completions left behind: any flusher may take them
        return True

    def _take(self, everything: bool) -> list[_Pending]:
        """Up to `max_batch` queued writes, in order. While another flusher's batch counts
        runs off their suite runs, whose rows stay locked until it commits, this one leaves
        the writes that would wait for those locks queued and takes the checkpoints only: a
        checkpoint batch never waits for the other batch's commit (the writes are of other
        runs, or of the same lease awaited one by one, so their order is kept)."""
        if everything or not self._completing:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        else:
            batch, rest = [], []
            for pending in self._queue:
                if len(batch) < self._max_batch and not _locks_suite_run(pending):
                    batch.append(pending)
                else:
                    rest.append(pending)
            self._queue = rest
        if self._queue and batch:
            self._wake.set()  # more than one batch waits: let another flusher take it
        return batch

    async def _flush_batch(self, batch: list[_Pending]) -> None:
        try:
            results = await self._apply(batch)
        except (psycopg.OperationalError, OSError) as exc:  # the server is out of reach
            # a value too large (class 54 is filed here too), or a deadlock still there after
            # the retries (batches finishing runs of the same suite runs lock their rows in any
            # order): the server is there, so the writes go one by one
            if isinstance(exc, (*REFUSALS, *CONFLICTS)):
                await self._one_by_one(batch, exc)
                return
            _fail(batch, StoreError(f"a shared checkpoint transaction failed: {exc}"))
            return
        except psycopg.Error as exc:  # one write the server refuses must not sink the others
            await self._one_by_one(batch, exc)
            return
        except asyncio.CancelledError:
            _fail(batch, StoreError("the worker stopped before the write committed"))
            raise
        except Exception as exc:  # a bug in a write: its writers fail, the flusher goes on
            log.exception("a shared checkpoint transaction failed")
            _fail(batch, exc)
            return
        self.batches += 1
        self.writes += len(batch)
        for pending, result in zip(batch, results, strict=True):
            if not pending.done.done():
                pending.done.set_result(result)

    async def _one_by_one(self, batch: list[_Pending], exc: psycopg.Error) -> None:
        if len(batch) == 1:
            _fail(batch, exc)
        else:
            for pending in batch:
                await self._flush_one(pending)

    async def _flush_one(self, pending: _Pending) -> None:
        try:
            (result,) = await self._apply([pending])
        except Exception as exc:
            _fail([pending], exc)
        else:
            if not pending.done.done():
                pending.done.set_result(result)

    async def _apply(self, batch: list[_Pending], tries: int = 3) -> list[Any]:
        """A batch of rows alone is one statement, committed on its own (autocommit): one
        round trip, no BEGIN and COMMIT. Other writes, and completions that schedule their
        dependents, share an explicit transaction with the rows."""
        alone = all(p.write is None and not p.schedule for p in batch)
        loop = asyncio.get_running_loop()
        reconnect_until = loop.time() + self.reconnect_seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._pool.connection() as conn:
                    repo = RunRepository(conn)
                    alone = alone and conn.autocommit  # else it would not be committed
                    if alone:
                        written = await self._write_rows(repo, batch)
                        results = [w is not None for w in written]
                    else:
                        async with conn.transaction():
                            results, written = await self._apply_in(repo, batch)
            except CONFLICTS:
                if attempt == tries:
                    raise
                await asyncio.sleep(0.01 * attempt)  # rolled back whole: apply it again
                continue
            except psycopg.OperationalError as exc:
                # The server restarted or the connection broke. Applying the batch again is
                # safe even if it did commit: every write is fenced by its lease and a stored
                # step result is kept, so a run loses no attempt to a database restart.
                if isinstance(exc, REFUSALS) or loop.time() > reconnect_until:
                    raise
                await asyncio.sleep(0.25)
                continue
            if alone:
                await self._close_finished(written)
            self._tell_last_runs(written)
            return results

    def _tell_last_runs(self, written: list[Written | None]) -> None:
        if self._on_last_run is None:
            return
        for suite_run_id in sorted(_drained(written)):
            self._on_last_run(suite_run_id)

    @staticmethod
    async def _write_rows(repo: RunRepository, batch: list[_Pending]) -> list[Written | None]:
        rows = [p.row for p in batch if p.row is not None]
        return await repo.write_many(rows) if rows else []

    async def _close_finished(self, written: list[Written | None]) -> None:
        """Close the suite runs whose last run this batch completed (committed already; the
        sweep closes them too, should this fail)."""
        drained = _drained(written)
        if not drained:
            return
        try:
            async with self._pool.connection() as conn:
                for suite_run_id in sorted(drained):
                    await RunRepository(conn).close_if_done(suite_run_id)
        except psycopg.Error as exc:
            log.warning("closing suite runs %s left to the sweep: %s", sorted(drained), exc)

    async def _apply_in(
        self, repo: RunRepository, batch: list[_Pending]
    ) -> tuple[list[Any], list[Written | None]]:
        """The rows first, in one statement, then the other writes in order. A run's other
        writes (release, barrier) wait for its checkpoints to commit, so they are never in the
        same batch and this order changes nothing they see. Then the completed runs' suite
        runs are scheduled (dependents) or closed (the last run)."""
        written = await self._write_rows(repo, batch)
        rows = iter(written)
        results: list[Any] = []
        schedule: set[int] = set()
        close: set[int] = set()
        for pending in batch:
            if pending.write is not None:
                results.append(await pending.write(repo))
                continue
            row = next(rows)
            results.append(row is not None)
            if row is not None and row.unfinished is not None:
                if pending.schedule:
                    schedule.add(row.suite_run_id)
                elif row.unfinished <= 0:
                    close.add(row.suite_run_id)
        for suite_run_id in sorted(schedule):
            await repo.schedule(suite_run_id)
        for suite_run_id in sorted(close - schedule):
            await repo.close_if_done(suite_run_id)
        return results, written


async def _complete_alone(repo: RunRepository, completion: Completion, schedule: bool) -> bool:
    """A completion whose last step exports values: the checkpoint merges them into the suite
    run, then the run ends, in the batch's transaction."""
    c = completion
    if c.final is not None:
        # refused when the lease was lost, and when this transaction was applied already (it
        # committed, its answer was lost): `complete` tells which
        await repo.checkpoint(c.final)
    suite_run_id = await repo.complete(
        c.test_run_id,
        c.worker,
        c.attempt,
        c.status,
        c.error,
        c.execution_context,
        close_suite_run=not schedule,
    )
    if suite_run_id is None:
        return False
    if schedule:
        await repo.schedule(suite_run_id)
    return True


def _locks_suite_run(pending: _Pending) -> bool:
    """Whether the write may lock its suite run's row until its batch commits: a completion
    (`unfinished`), an export merged into the context, a scheduling (any other write, to be
    safe)."""
    return pending.write is not None or pending.schedule or isinstance(pending.row, Completion)


def _drained(written: list[Written | None]) -> set[int]:
    """The suite runs whose last unfinished run these rows completed."""
    return {
        w.suite_run_id
        for w in written
        if w is not None and w.unfinished is not None and w.unfinished <= 0
    }


def _fail(batch: list[_Pending], error: BaseException) -> None:
    """Fail the batch's writers, with Orchestra's error for a driver's (`store.failures`)."""
    if isinstance(error, psycopg.Error):
        wrapped = failure(error)
        wrapped.__cause__ = error
        error = wrapped
    for pending in batch:
        if not pending.done.done():
            pending.done.set_exception(error)
