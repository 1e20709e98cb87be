"""A worker: claims runs, keeps their leases alive, executes them, and stops cleanly.

One worker executes up to `concurrency` runs at once. Its loops:
- claim: one `FOR UPDATE SKIP LOCKED` statement for as many runs as it has free slots; woken by
  LISTEN/NOTIFY on `orchestra_runs`, by the expiry of the first lease another worker holds (a
  crashed worker notifies no one), with a polling fallback;
- heartbeat: renews all its leases in one statement, well inside the lease time; a run whose
  lease it no longer holds (expired and re-claimed, or cancelled) is abandoned at once, and so
  is one whose lease would end before a heartbeat could renew it (the database out of reach):
  that one goes back to the queue once the database is back, if no one took it meanwhile
  (`runtime.heartbeat`);
- sweep: the scheduler's periodic pass (queue ready runs, skip unreachable ones, close finished
  suite runs) and the reaper (FAILED_STUCK), so no wake-up is ever lost.
- announce: tells the API's event streams which suite runs had runs end here, at most ten
  times a second (`runtime.announcer`).
On `stop` (SIGTERM) it claims nothing more, lets each run finish its current step, checkpoints,
releases the runs back to QUEUED (and those it left while the database was away), and returns
within `drain_seconds`.

Each run it claimed is counted once, as it ends here: finished, released, cancelled or lost
(`runtime.tally`).

Where the pieces live: the sweep, the notifications and the watch on foreign leases in
`runtime.loops`; the heartbeat in `runtime.heartbeat`; the bookkeeping of the runs held in
`runtime.held`, and the count of how they ended in `runtime.tally`; the executors in
`runtime.executors`; every statement outside the group committer in `store.worker_store`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from psycopg_pool import AsyncConnectionPool

from orchestra.domain.records import StoredScenario
from orchestra.domain.statuses import TestRunStatus
from orchestra.errors import StatementRefused, ValueRefused
from orchestra.runtime.announcer import EndAnnouncer
from orchestra.runtime.bounded import Bounded
from orchestra.runtime.executors import ExecutorCache
from orchestra.runtime.flights import SingleFlight
from orchestra.runtime.heartbeat import heartbeat_forever
from orchestra.runtime.held import Dropped, HeldRun, HeldRuns
from orchestra.runtime.interpreter import (
    Draining,
    LeaseLost,
    Parked,
    RunInterpreter,
    RunState,
)
from orchestra.runtime.loops import ExpiryWatch, listen_forever, sweep_forever
from orchestra.runtime.ports import ExecutorFactory, Observer, Unobserved
from orchestra.runtime.stalls import Stall, StallDetector, StallPolicy
from orchestra.runtime.tally import Tally, WorkerCounts, WorkerStats
from orchestra.store.base import Connection
from orchestra.store.commits import GroupCommitter
from orchestra.store.runs import ClaimedRun, Renewal, RunRepository
from orchestra.store.worker_store import FAILURES, WorkerStore

log = logging.getLogger("orchestra.worker")
_SCENARIOS_CACHED = 1024  # scenarios it remembers
_STOP_GRACE_SECONDS = 1.0  # a cancelled run's time to end (its await, its executor handed back)


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    concurrency: int = 8
    lease_seconds: float = 10.0
    heartbeat_seconds: float | None = None  # default: a third of the lease
    poll_seconds: float = 1.0
    sweep_seconds: float = 1.0
    drain_seconds: float = 10.0
    suite_run_id: int | None = None  # serve only this suite run (`run --wait`), else all

    @property
    def heartbeat_every(self) -> float:
        return self.heartbeat_seconds or self.lease_seconds / 3


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    def __init__(
        self,
        pool: AsyncConnectionPool[Connection],
        executor_factory: ExecutorFactory,
        options: WorkerOptions | None = None,
        *,
        worker_id: str | None = None,
        listen_url: str | None = None,
        committer: GroupCommitter | None = None,
        observer: Observer | None = None,
    ) -> None:
        """`committer`: one shared with the other workers of this process (their checkpoints
        then share transactions too), open for as long as they run; by default its own.
        `observer`: told of claims, steps, ends and lost leases (a worker's metrics)."""
        self.pool = pool
        self.store = WorkerStore(pool)
        self._shared_committer = committer
        self.executor_factory = executor_factory
        self.options = options or WorkerOptions()
        self.id = worker_id or new_worker_id()
        self.listen_url = listen_url
        self.observer: Observer = observer or Unobserved()
        self._announcer = EndAnnouncer(self.store)
        self.stalls = StallDetector(on_stall=self._stalled)  # its own pauses, not the SUT's
        self.held = HeldRuns()
        self.tally = Tally(self.held, self.observer)
        self._wake = asyncio.Event()
        self._slots_free = asyncio.Event()  # enough for a claim (`_full`), or stop
        self._draining = asyncio.Event()  # `run`'s stop once it runs (see there)
        self._scenarios: Bounded[int, StoredScenario] = Bounded(_SCENARIOS_CACHED)
        self._scenario_lookups: SingleFlight[int, StoredScenario] = SingleFlight()
        self._executors = ExecutorCache(executor_factory, self.store)
        self._expiry = ExpiryWatch(self.store, self.id, self.options.poll_seconds)

    @property
    def stats(self) -> WorkerCounts:
        """What this worker has done so far."""
        return self.tally.counts

    @property
    def steps_done(self) -> int:
        """Steps executed so far, those of the runs in progress included."""
        running = sum(a.interpreter.steps_done for a in self.held.active.values() if a.interpreter)
        return self.stats.steps + running

    async def run(self, stop: asyncio.Event) -> WorkerStats:
        """Work until `stop` is set, then drain. Returns what this worker did, as it stopped."""
        # the runs look at `stop` itself before each step: none starts once it is set, though
        # the claim loop sees it only when its claim (a database round trip) has returned
        self._draining = stop
        async with contextlib.AsyncExitStack() as stack:
            committer = self._shared_committer
            if committer is None:
                committer = await stack.enter_async_context(GroupCommitter(self.pool))
            self._committer = committer
            loops = [
                asyncio.create_task(
                    heartbeat_forever(
                        self.held,
                        self._renew,
                        self.options.heartbeat_every,
                        self.options.lease_seconds,
                    ),
                    name="heartbeat",
                ),
                asyncio.create_task(
                    sweep_forever(
                        self.store, self._wake, self.options.sweep_seconds, self.observer.stuck
                    ),
                    name="sweep",
                ),
                asyncio.create_task(
                    listen_forever(self.listen_url, self._wake, self.options.poll_seconds),
                    name="listen",
                ),
                asyncio.create_task(self._announcer.run(), name="announce"),
                asyncio.create_task(self.stalls.run(), name="stalls"),
            ]
            if self.options.suite_run_id is not None:  # its runs' environment, during the claim
                prepare = self._executors.prepare(self.options.suite_run_id)
                loops.append(asyncio.create_task(prepare, name="prepare"))
            try:
                await self._claim_until(stop)
                deadline = asyncio.get_running_loop().time() + self.options.drain_seconds
                await self._drain(deadline)
                await self._await_replaced(deadline)
                await self._release_left(deadline)
            finally:
                for task in loops:
                    task.cancel()
                for task in loops:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await self._executors.aclose()
        return self.stats.snapshot()

    # --- claiming -----------------------------------------------------------------------------

    async def _claim_until(self, stop: asyncio.Event) -> None:
        """Claim and start runs until `stop`. Should that fail (a bug; `run` cancelled), the
        runs going are stopped before the error goes on: the executors they use close next."""
        try:
            await self._claim_loop(stop)
        except BaseException:
            await self._stop({a.task for a in self.held.active.values()} | self.held.replaced)
            raise

    async def _claim_loop(self, stop: asyncio.Event) -> None:
        stopping = asyncio.create_task(stop.wait())
        stopping.add_done_callback(lambda _: self._slots_free.set())
        try:
            while not stop.is_set():
                if self._full:
                    await self._wait_for_slots()
                    continue
                self._wake.clear()  # a wake-up from now on is for after this claim
                claimed = await self._claim(self.options.concurrency - len(self.held.active))
                for run in claimed:
                    self._start(run)
                if not claimed:
                    await self._wait_for_work(stopping)
        finally:
            stopping.cancel()

    @property
    def _full(self) -> bool:
        """Too few slots free for a claim: it claims several runs at once, not one by one."""
        free = self.options.concurrency - len(self.held.active)
        return free < max(1, self.options.concurrency // 4) and bool(self.held.active)

    async def _claim(self, limit: int) -> list[ClaimedRun]:
        try:
            if self.held.orphans:
                await self._release_orphans()
            claimed = await self.store.claim(
                self.id, limit, self.options.lease_seconds, self.options.suite_run_id
            )
        except FAILURES as exc:
            # the claim may have committed though its answer never came: those runs are leased
            # to this worker, which does not execute them; the next claim releases them first
            self.held.orphans = True
            log.warning("claim failed, retrying: %s", exc)
            await asyncio.sleep(self.options.poll_seconds)
            return []
        self.tally.claimed(len(claimed))
        return claimed

    async def _release_orphans(self) -> None:
        """Release the runs leased to this worker that it does not execute, but those it left
        more than once (see `HeldRuns.leave`), and count the runs it left: released, else lost
        (taken by another worker meanwhile, or left to their lease)."""
        release = self.held.orphan_release()
        released = await self.store.release_orphans(self.id, release.keep, release.left)
        self.tally.settled(*self.held.settle(release, released))

    async def _wait_for_slots(self) -> None:
        """Until enough runs ended for a claim, or the worker stops: one event, set by the
        end of a run that frees the slots (`_execute`), not a wait on every run going built
        anew as each one ends. Cleared just as the claim loop found it `_full`, with no
        await between: no end is missed."""
        self._slots_free.clear()
        await self._slots_free.wait()

    async def _wait_for_work(self, stopping: asyncio.Task[bool]) -> None:
        """Until a wake-up (a notification, the sweep, a run's end), the worker's stop, or
        the first foreign lease expires."""
        waker = asyncio.create_task(self._wake.wait())
        try:
            await asyncio.wait(
                [waker, stopping],
                timeout=await self._expiry.idle_timeout(),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            waker.cancel()

    def _start(self, claimed: ClaimedRun) -> None:
        self.held.replace(claimed.id)
        task = asyncio.create_task(self._execute(claimed), name=f"run-{claimed.id}")
        deadline = asyncio.get_running_loop().time() + self.options.lease_seconds
        self.held.active[claimed.id] = HeldRun(claimed, task, deadline)

    # --- executing one run --------------------------------------------------------------------

    async def _execute(self, claimed: ClaimedRun) -> None:
        """Execute the run and write how it ended; counted once, whatever stops it (the
        heartbeat may cancel it at any await, its ending's write included)."""
        me = self.held.own(claimed)  # its entry, even once a newer claim of the run replaced it
        async with contextlib.AsyncExitStack() as holding:  # its executor, while it runs
            try:
                await self._attempt(claimed, me, holding)
            except asyncio.CancelledError:
                self.tally.stopped(claimed, me)
            finally:
                if me is not None and self.held.active.get(claimed.id) is me:
                    del self.held.active[claimed.id]
                if me is not None and me.interpreter is not None:
                    self.stats.steps += me.interpreter.steps_done
                if not self._full:
                    self._slots_free.set()
                self._wake.set()  # a slot is free, and its dependents may be ready

    async def _attempt(
        self, claimed: ClaimedRun, me: HeldRun | None, holding: contextlib.AsyncExitStack
    ) -> None:
        """Execute the run, then end it: completed, released, ERROR, or left; counted."""
        try:
            shared = await holding.enter_async_context(self._executors.using(claimed.suite_run_id))
            interpreter = RunInterpreter(
                claimed,
                await self._scenario(claimed.scenario_id),
                shared,
                self._committer,
                self.id,
                self._draining,
                await self._responses(claimed),
                self.observer,
                StallPolicy(self.stalls, self.options.lease_seconds),
            )
            active = self.held.own(claimed)
            if active is not None:
                active.interpreter = interpreter
            await interpreter.run()
            self.tally.finished(me)
            self._announcer.ended(claimed.suite_run_id)
        except LeaseLost:
            await self._count_refused(claimed, me)
        except Parked as parked:
            await self._release(claimed, interpreter.state.snapshot(), parked.available_at, me)
        except Draining:
            await self._release(claimed, interpreter.state.snapshot(), None, me)
        except (ValueRefused, StatementRefused) as exc:  # the server is there: retrying is useless
            await self._fail(claimed, exc, me)
        except FAILURES as exc:  # out of reach, or a conflict still there after the retries
            log.warning("run %s left, released once the database is back: %s", claimed.id, exc)
            self.stats.errors.append(f"run {claimed.id}: {exc}")
            self.tally.left(claimed, me)
        except Exception as exc:  # refused data, a missing secret, a bug: end it ERROR, fenced
            await self._fail(claimed, exc, me)

    async def _count_refused(self, claimed: ClaimedRun, held: HeldRun | None = None) -> None:
        """Count a run whose lease a write found gone: cancelled when its suite run was
        cancelled under this lease, else lost. One look-up, made only when a lease is lost.
        `held`: the run's entry when this worker executes it, counted once (`HeldRun.tell`)."""
        try:
            cancelled = await self.store.cancelled_under(claimed.id, self.id, claimed.attempt)
        except FAILURES as exc:
            log.warning("run %s lost its lease; looking up why failed: %s", claimed.id, exc)
            cancelled = False
        self.tally.refused(held, cancelled=cancelled)

    async def _fail(self, claimed: ClaimedRun, exc: Exception, held: HeldRun | None) -> None:
        """End a run that cannot go on ERROR, naming why; a write refused again is logged."""
        message = f"{type(exc).__name__}: {exc}" if not str(exc).strip() else str(exc)
        if isinstance(exc, StatementRefused):  # a ValueRefused names the value and statement
            message = f"PostgreSQL refused the run's results: {exc.__cause__ or exc}"
        log.warning("run %s ends ERROR: %s", claimed.id, message)
        self.stats.errors.append(f"run {claimed.id}: {message}")
        context = {**claimed.execution_context, "outcome": {"status": "ERROR", "error": message}}

        async def end(repo: RunRepository) -> bool:
            suite_run_id = await repo.complete(
                claimed.id, self.id, claimed.attempt, TestRunStatus.ERROR, message, context
            )
            if suite_run_id is not None:
                await repo.schedule(suite_run_id)  # its dependents are skipped now, not later
            return suite_run_id is not None

        if await self._last_write(claimed, end, "end", held):
            self.tally.finished(held, ended_error=True)
            self._announcer.ended(claimed.suite_run_id)

    def _ending(self, claimed: ClaimedRun) -> None:
        """The run's lease ends with the write about to be committed (its release, its end):
        the heartbeat leaves it to that write, whose answer says whether it still held."""
        active = self.held.own(claimed)
        if active is not None:
            active.ending = True

    async def _responses(self, claimed: ClaimedRun) -> dict[str, Any] | None:
        """A resumed run's recorded responses, for its templates (see `RunState`)."""
        if not RunState.needs_responses(claimed.execution_context):
            return None
        return await self.store.step_responses(claimed.id)

    async def _release(
        self,
        claimed: ClaimedRun,
        context: dict[str, Any] | None,
        available_at: float | None,
        held: HeldRun | None = None,
    ) -> None:
        """Back to the queue (with `context`, None: as stored); counted released only when
        it still held the lease. When the database cannot take it (gone while the worker
        stops), the run is left (`Tally.left`): released when it is back, else to its lease.
        `held`: the run's entry when this worker executes it, counted once (`HeldRun.tell`)."""
        released = await self._last_write(
            claimed,
            lambda repo: repo.release(claimed.id, self.id, claimed.attempt, context, available_at),
            "release",
            held,
        )
        if released:
            self.tally.released(held)

    async def _last_write(
        self,
        claimed: ClaimedRun,
        write: Callable[[RunRepository], Awaitable[bool]],
        what: str,
        held: HeldRun | None,
    ) -> bool:
        """The write that ends the worker's hold on a run (its release, its end), fenced by the
        lease: True when it held. A refusal is counted (`_count_refused`); a database that
        cannot take it leaves the run (`Tally.left`)."""
        self._ending(claimed)
        try:
            written = bool(await self._committer.submit(write))
        except FAILURES as exc:
            log.warning("run %s left, its %s failed: %s", claimed.id, what, exc)
            self.stats.errors.append(f"run {claimed.id}: {what} failed: {exc}")
            self.tally.left(claimed, held)
            return False
        if not written:
            await self._count_refused(claimed, held)
        return written

    async def _scenario(self, scenario_id: int) -> StoredScenario:
        """The scenario, read once for the runs of a claim that all need it."""
        found = self._scenarios.get(scenario_id)
        if found is None:
            found = await self._scenario_lookups.run(
                scenario_id, lambda: self.store.scenario(scenario_id)
            )
            self._scenarios[scenario_id] = found
        return found

    def _stalled(self, stall: Stall) -> None:
        log.warning("worker stalled for %.1f s (event loop or process paused)", stall.seconds)
        self.observer.stalled(stall.seconds)

    # --- the heartbeat (`runtime.heartbeat`) ----------------------------------------------------

    async def _renew(self, held: dict[int, int]) -> Renewal:
        """Renew this worker's leases on the runs `held` (run id -> attempt)."""
        return await self.store.heartbeat(self.id, held, self.options.lease_seconds)

    # --- stopping -----------------------------------------------------------------------------

    async def _drain(self, deadline: float) -> None:
        """Let each run finish its step and go back to the queue; past the deadline, stop the
        late ones and release them as their last checkpoint left them: as the database holds
        it, which a checkpoint on its way when the run was stopped may still have reached (the
        worker's last acknowledged one would undo it, and its step would run again). A late
        run still running once stopped (`_stop`) is released all the same: its writes are
        fenced by the lease the release ends; should it end on its own, by the stop or after
        the release, it is not counted twice (`HeldRun.tell`)."""
        active = list(self.held.active.values())
        if not active:
            return
        remaining = max(0.0, deadline - asyncio.get_running_loop().time())
        _, late = await asyncio.wait([a.task for a in active], timeout=remaining)
        # a run the heartbeat left is released with the left ones (`_release_left`)
        self.held.drained = {
            a.claimed.id: a
            for a in active
            if a.task in late and a.dropped is not Dropped.UNREACHABLE
        }
        await self._stop(late)
        for entry in self.held.drained.values():
            if not entry.told:  # else it ended as it was stopped (not by the cancel), and told
                await self._release(entry.claimed, None, None, entry)

    async def _stop(self, tasks: Collection[asyncio.Task[None]]) -> None:
        """Cancel these runs (but those being cancelled already, whose handling of it a
        second cancel would cut short) and wait a moment for them to end (a second, or the
        drain's time when shorter): one still running then (an executor that does not end on
        cancel) is logged and left, for the worker's stop to stay bounded."""
        if not tasks:
            return
        for task in tasks:
            if not task.cancelling():
                task.cancel()
        grace = min(self.options.drain_seconds, _STOP_GRACE_SECONDS)
        _, late = await asyncio.wait(tasks, timeout=grace)
        if late:
            names = ", ".join(sorted(task.get_name() for task in late))
            log.warning(
                "%d runs still running %.1f s after being stopped: %s", len(late), grace, names
            )

    async def _await_replaced(self, deadline: float) -> None:
        """Wait, by the drain's deadline, for the tasks of runs claimed anew (cancelled, see
        `HeldRuns.replace`) to end: a cancelled step may still await its executor, which is
        closed next. They get a moment (`_stop`'s) even when a drain ran to the deadline. One
        still running then is logged and left."""
        replaced = list(self.held.replaced)
        if not replaced:
            return
        grace = min(self.options.drain_seconds, _STOP_GRACE_SECONDS)
        remaining = max(grace, deadline - asyncio.get_running_loop().time())
        _, late = await asyncio.wait(replaced, timeout=remaining)
        if late:
            log.warning("%d cancelled runs still stopping at the drain's deadline", len(late))

    async def _release_left(self, deadline: float) -> None:
        """After the drain, release the runs left while the database was away (no claim
        comes to release them now), by the drain's deadline; those it cannot release are
        left to their lease, and counted lost."""
        remaining = deadline - asyncio.get_running_loop().time()
        if self.held.orphans and remaining <= 0:
            log.warning("runs left to their lease: the drain's deadline has passed")
        elif self.held.orphans:
            try:
                async with asyncio.timeout(remaining):
                    await self._release_orphans()
            except TimeoutError:
                log.warning("runs left to their lease: the drain's deadline passed")
            except FAILURES as exc:
                log.warning("runs left to their lease, their release failed: %s", exc)
        self.tally.left_to_their_lease()
