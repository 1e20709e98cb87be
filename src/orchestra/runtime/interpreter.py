"""Executes one claimed test run: walks its steps, branches concurrently, checkpoints each step.

Resuming is reading the checkpoint: `execution_context["done"]` holds the positions of the steps
that completed (their results are stored), so a re-claimed run skips them and re-executes only
the step that was interrupted — with the same idempotency key, which the executor derives from
the run and the step, never from the attempt.

Once the scenario's steps end, whatever the outcome, the run cleans up (`orchestra.runtime.
cleanup`): each undo and cleanup action is checkpointed like a step, in `execution_context
["cleanup"]` and as a step result of the cleanup phase, so a resumed run runs each once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

from orchestra.domain.execution import RunIdentity, StepContext, StepOutcome
from orchestra.domain.records import StoredScenario
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind, StepStatus, TestRunStatus
from orchestra.domain.trusted import trusted
from orchestra.runtime.cleanup import CLEANUP, CleanupStep, cleanup_steps, verdict
from orchestra.runtime.plan import Block, StepSequence, build_plan, next_steps
from orchestra.runtime.ports import Executor, Observer, Unobserved
from orchestra.runtime.stalls import Stall, StallPolicy
from orchestra.store.commits import GroupCommitter
from orchestra.store.runs import BarrierArrival, Checkpoint, ClaimedRun, Completion, RunRepository

log = logging.getLogger("orchestra.worker")


class LeaseLost(Exception):
    """The run's lease passed to another worker (or the run was cancelled): stop, write nothing."""


class Parked(Exception):
    """The run waits at a barrier shared with other runs; it is released until `available_at`."""

    def __init__(self, available_at: float | None) -> None:
        super().__init__(available_at)
        self.available_at = available_at


class StepStopped(Exception):
    """A step ended FAILED or ERROR: the run ends with that status."""

    def __init__(self, status: TestRunStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Draining(Exception):
    """The worker is shutting down: the run goes back to the queue after its current step."""


@dataclass(frozen=True, slots=True)
class RunEnvironment:
    """What the runs of one suite run share."""

    executor: Executor
    env: dict[str, Any]
    has_dependencies: bool = True  # False: a completion has no dependent to queue or skip
    # scenario id -> the scenario, its plan (read only) and the step whose checkpoint waits
    # for the completion, worked out at its first run (again for a scenario loaded anew)
    plans: dict[int, tuple[StoredScenario, StepSequence, int | None]] = field(default_factory=dict)


@dataclass(slots=True)
class RunState:
    """The checkpointed part: `execution_context` in the database.

    `steps` (element id -> status, response and saved values, for templates) is checkpointed
    without the responses: each is stored with its step's result already, and carrying every
    earlier response in every checkpoint made each one re-send (and PostgreSQL re-parse and
    re-log) the whole run so far. A resumed run gets them back from the step results
    (`RunRepository.step_responses`), so templates see the same `steps.<id>.response`.
    """

    done: dict[str, str] = field(default_factory=dict)  # position -> step status
    vars: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, Any] = field(default_factory=dict)  # element id -> result, for templates
    outcome: dict[str, Any] | None = None
    cleanup: dict[str, str] = field(default_factory=dict)  # cleanup position -> its status
    # `steps` as checkpointed, without the responses; a view is replaced, never changed, so a
    # snapshot copies this dict alone rather than every view in it
    checkpointed_steps: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, raw: dict[str, Any], responses: dict[str, Any] | None = None) -> RunState:
        views = raw.get("steps", {})
        steps = {key: dict(view) for key, view in views.items()}
        for element_id, response in (responses or {}).items():
            if element_id in steps:
                steps[element_id]["response"] = response
        return cls(
            done=dict(raw.get("done", {})),
            vars=dict(raw.get("vars", {})),
            steps=steps,
            outcome=raw.get("outcome"),
            cleanup=dict(raw.get("cleanup", {})),
            checkpointed_steps={
                key: {name: value for name, value in view.items() if name != "response"}
                for key, view in views.items()
            },
        )

    def note(self, step: ScenarioStep, outcome: StepOutcome) -> None:
        """A step's result: done, its saved values, and its view for later templates."""
        status = outcome.status.value
        self.done[str(step.position)] = status
        self.vars.update(outcome.saved)
        if step.element_id is not None:
            saved = outcome.saved
            self.steps[step.element_id] = {
                "status": status,
                "response": outcome.response,
                "saved": saved,
            }
            self.checkpointed_steps[step.element_id] = {"status": status, "saved": saved}

    @staticmethod
    def needs_responses(raw: dict[str, Any]) -> bool:
        """Whether resuming from `raw` needs the recorded responses (`load`'s second part)."""
        return any("response" not in view for view in raw.get("steps", {}).values())

    def snapshot(self) -> dict[str, Any]:
        snapshot = {
            "done": dict(self.done),
            "vars": dict(self.vars),
            "steps": dict(self.checkpointed_steps),
            "outcome": self.outcome,
        }
        if self.cleanup:
            snapshot["cleanup"] = dict(self.cleanup)
        return snapshot


class RunInterpreter:
    def __init__(
        self,
        claimed: ClaimedRun,
        scenario: StoredScenario,
        shared: RunEnvironment,
        committer: GroupCommitter,
        worker_id: str,
        draining: asyncio.Event,
        responses: dict[str, Any] | None = None,
        observer: Observer | None = None,
        stalls: StallPolicy | None = None,
    ) -> None:
        """`stalls`: a step that timed out while the worker stalled is sent again (see
        `_execute`); None: it ends in ERROR as any timeout."""
        self.claimed = claimed
        self.stalls = stalls
        self.observer: Observer = observer or Unobserved()
        self.scenario = scenario
        self.shared = shared
        self.committer = committer
        self.worker_id = worker_id
        self.draining = draining
        self.state = RunState.load(claimed.execution_context, responses)
        self.step_ids = {s.step.position: s.id for s in scenario.steps}
        # the last step's checkpoint commits together with the run's completion (see `run`)
        self._last_position: int | None = None
        self._final: Checkpoint | None = None
        # SuiteRun.context as of the claim (exports of finished runs included), plus this run's
        self.suite_context = dict(claimed.suite_context)
        self.finishing = False  # its completion is being committed: the lease ends with it
        self.steps_done = 0  # steps this interpreter executed and recorded
        self._stop_branches = False
        self._checkpointing = asyncio.Lock()  # a run's checkpoints commit in order
        self._resends: dict[int, int] = {}  # position -> the lost claim it may have reached
        self.identity = RunIdentity(
            suite_run_id=claimed.suite_run_id,
            test_run_id=claimed.id,
            scenario=scenario.scenario.name,
            attempt=claimed.attempt,
            data_row_index=claimed.data_row_index,
        )

    async def run(self) -> None:
        """Execute to the end, then complete the run (fenced). Raises LeaseLost, Parked,
        Draining when the run must be left (released) rather than completed."""
        if self.claimed.cleanup_only:
            await self._clean_up_owed()
            return
        plan, self._last_position = self._plan()
        self._resends = _resends(plan, self.claimed.lost, self.state.done)
        status, error = TestRunStatus.PASSED, None
        try:
            self._stop_if_failed_before()
            await self._sequence(plan)
        except StepStopped as stopped:
            status, error = stopped.status, stopped.message
        status, error = await self._clean_up(status, error)
        await self._complete(status, error)

    def _plan(self) -> tuple[StepSequence, int | None]:
        scenario = self.scenario
        found = self.shared.plans.get(scenario.id)
        if found is None or found[0] is not scenario:
            plan = build_plan([s.step for s in scenario.steps])
            found = self.shared.plans[scenario.id] = (scenario, plan, _final_position(plan))
        return found[1], found[2]

    async def _clean_up(
        self, status: TestRunStatus, error: str | None
    ) -> tuple[TestRunStatus, str | None]:
        """Run the undo and cleanup actions not run yet (each checkpointed); the run's status
        and error as they leave them. Raises LeaseLost, Draining like the steps do."""
        steps = [stored.step for stored in self.scenario.steps]
        actions = cleanup_steps(self.scenario.scenario, steps, self.state.done)
        if not actions:
            return status, error
        await self._write_final()  # the steps' last result is stored before any cleanup
        ran = []
        for action in actions:
            recorded = self.state.cleanup.get(action.key)
            if recorded is None:
                if self.draining.is_set() and not self.claimed.cleanup_only:
                    raise Draining  # a cancelled run's cleanup is finished, not released
                outcome = await self._execute(action.step)
                await self._record_cleanup(action, outcome)
                ran.append((action, outcome.status, outcome.error))
            else:
                why = f"{action.step.name}: {recorded}, recorded before the run was claimed again"
                ran.append((action, StepStatus(recorded), why))
        return verdict(status, error, ran)

    async def _clean_up_owed(self) -> None:
        """A run ended CANCELLED or FAILED_STUCK, claimed for its cleanup alone: run what is
        left of it, then say it is done. Its status stays, whatever the cleanup gives."""
        await self._clean_up(TestRunStatus.CANCELLED, None)
        context = self.state.snapshot()

        async def finish(repo: RunRepository) -> bool:
            return await repo.finish_cleanup(
                self.claimed.id, self.worker_id, self.claimed.attempt, context
            )

        self.finishing = True
        if not await self.committer.submit(finish):
            raise LeaseLost(self.claimed.id)

    async def _write_final(self) -> None:
        """The last step's checkpoint, kept for the completion, written now."""
        final, self._final = self._final, None
        if final is not None:
            async with self._checkpointing:
                if not await self.committer.checkpoint(final):
                    raise LeaseLost(self.claimed.id)

    async def _record_cleanup(self, action: CleanupStep, outcome: StepOutcome) -> None:
        self.state.cleanup[action.key] = outcome.status.value
        checkpoint = Checkpoint(
            test_run_id=self.claimed.id,
            worker=self.worker_id,
            attempt=self.claimed.attempt,
            step_id=None,
            step=action.step,
            outcome=outcome,
            execution_context=self.state.snapshot(),
            phase=CLEANUP,
        )
        async with self._checkpointing:
            if not await self.committer.checkpoint(checkpoint):
                raise LeaseLost(self.claimed.id)
        self.steps_done += 1
        seconds = None if outcome.duration_ms is None else outcome.duration_ms / 1000
        self.observer.step_recorded(outcome.status, seconds)

    def _stop_if_failed_before(self) -> None:
        """A step the checkpoint holds as failed (a crash or a drain came between its result
        and the run's completion) ends the run as it would have then: nothing more runs."""
        if not self.state.done:
            return
        steps = {stored.step.position: stored.step for stored in self.scenario.steps}
        for position, status in sorted(self.state.done.items(), key=lambda item: int(item[0])):
            step = steps.get(int(position))
            ending = StepStatus(status).run_ending
            if ending is not None and step is not None:
                why = f"{status}, recorded before the run was claimed again"
                raise StepStopped(ending, _stop_message(step, why))

    async def _sequence(self, sequence: StepSequence) -> None:
        for item in sequence.items:
            if self._stop_branches:
                return
            if isinstance(item, Block):
                await self._block(item)
            else:
                await self._step(item)

    async def _block(self, block: Block) -> None:
        started = time.time()
        results = await asyncio.gather(
            *(self._sequence(branch) for branch in block.branches.values()),
            return_exceptions=True,
        )
        for result in results:  # the first branch's failure wins; lease loss above all
            if isinstance(result, LeaseLost):
                raise result
        for result in results:
            if isinstance(result, BaseException):
                raise result
        if self._stop_branches:
            return  # a step failed on another branch: these stopped short of their join
        if block.barrier is not None and str(block.barrier.position) not in self.state.done:
            waited = StepOutcome(
                status=StepStatus.PASSED,
                started_at=started,
                duration_ms=(time.time() - started) * 1000,
                response={"joined": sorted(block.branches)},
            )
            await self._record(block.barrier, waited)

    async def _step(self, step: ScenarioStep) -> None:
        if str(step.position) in self.state.done:
            return  # completed before a crash or a release: its result is stored
        if self.draining.is_set():
            raise Draining
        if step.kind is StepKind.BARRIER:
            outcome = await self._shared_barrier(step)
        else:
            outcome = await self._execute(step)
        await self._record(step, outcome)
        ending = outcome.status.run_ending
        if ending is not None:
            self._stop_branches = True
            raise StepStopped(ending, _stop_message(step, outcome.error or outcome.status.value))

    async def _execute(self, step: ScenarioStep) -> StepOutcome:
        """The step's outcome; one whose time ran out while this worker was stalled (not the
        SUT's doing: a request's timeout fired late, when the worker ran again, answer or no
        answer; an `eventually` lost its polls to the stall) is sent again with the same
        idempotency key, the lease renewed first."""
        outcome = await self._send(step, self._context(step))
        stalled_ms = 0.0
        for _ in range(self.stalls.resends if self.stalls is not None else 0):
            stall = self._stall_behind(outcome)
            if stall is None:
                break
            await self._renew_lease()
            stalled_ms += stall.seconds * 1000
            log.warning(
                "run %s: %s timed out while the worker stalled for %.1f s: sent again",
                self.claimed.id,
                step.element_id or f"step {step.position}",
                stall.seconds,
            )
            self.observer.resent_after_stall()
            outcome = await self._send(step, self._context(step, stalled_ms))
        if stalled_ms and outcome.stalled_ms != stalled_ms:  # an executor that left it out
            outcome = outcome.model_copy(update={"stalled_ms": stalled_ms})
        return outcome

    def _stall_behind(self, outcome: StepOutcome) -> Stall | None:
        """The worker's stall during which the step's time ran out (a request's timeout, an
        `eventually`'s), when that is why it did not pass."""
        if self.stalls is None or outcome.timeout_ran_out is None:
            return None
        if outcome.status not in (StepStatus.ERROR, StepStatus.FAILED):
            return None
        return self.stalls.detector.covering(outcome.timeout_ran_out)

    async def _renew_lease(self) -> None:
        """Renew the run's lease before sending a step again: a stall that outlasted it
        takes the lost-lease path (another worker may run the step by now)."""
        assert self.stalls is not None
        held = {self.claimed.id: self.claimed.attempt}
        lease = self.stalls.lease_seconds
        renewal = await self.committer.submit(
            lambda repo: repo.heartbeat(self.worker_id, held, lease)
        )
        if self.claimed.id not in renewal.kept:
            raise LeaseLost(self.claimed.id)

    async def _send(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        """The executor's outcome, marked a re-send when it is one: the run's record of what
        it sent again does not rest on an executor (a plug-in's) saying so."""
        started = time.time()
        try:
            outcome = await self.shared.executor.execute(step, ctx)
        except Exception as exc:  # an executor bug must end the run, not hang it
            return StepOutcome(
                status=StepStatus.ERROR,
                started_at=started,
                duration_ms=(time.time() - started) * 1000,
                error=f"internal error in the executor: {type(exc).__name__}: {exc}",
                resent_after=ctx.resending,
                stalled_ms=ctx.stalled_ms,
            )
        if ctx.resending is not None and outcome.resent_after is None:
            outcome = outcome.model_copy(update={"resent_after": ctx.resending})
        return outcome

    def _context(self, step: ScenarioStep, stalled_ms: float | None = None) -> StepContext:
        """Built unvalidated (`domain.trusted`): every value is the run's own, of its field's
        type. Each namespace is a copy, as validation made: a step sees the run's state as of
        its start, not what a concurrent branch saves while it waits."""
        cleanup = step.meta.get("phase") == CLEANUP
        return trusted(
            StepContext,
            {
                "run": self.identity,
                "data": dict(self.claimed.data_row),
                "vars": dict(self.state.vars),
                "steps": dict(self.state.steps),
                "suite": dict(self.suite_context),
                "env": dict(self.shared.env),
                # a cleanup step is numbered apart: the lost claim's steps in flight are not it
                "resending": None if cleanup else self._resends.get(step.position),
                "stalled_ms": stalled_ms,
            },
        )

    async def _record(self, step: ScenarioStep, outcome: StepOutcome) -> None:
        if step.position == self._last_position and not step.branch:
            self._final = self._note(step, outcome)  # written with the completion
        else:
            # One at a time, each holding what the others committed: concurrent branches'
            # checkpoints in two batches could commit in either order (a batch rolled back for
            # a deadlock is applied again after the other), the older context undoing the newer.
            async with self._checkpointing:
                checkpoint = self._note(step, outcome)
                if not await self.committer.checkpoint(checkpoint):
                    raise LeaseLost(self.claimed.id)
        self.steps_done += 1
        seconds = None if outcome.duration_ms is None else outcome.duration_ms / 1000
        self.observer.step_recorded(outcome.status, seconds)
        if outcome.exports:
            self.suite_context.update(outcome.exports)

    def _note(self, step: ScenarioStep, outcome: StepOutcome) -> Checkpoint:
        """The step's result in the run's state, and the checkpoint of that state."""
        self.state.note(step, outcome)
        return Checkpoint(
            test_run_id=self.claimed.id,
            worker=self.worker_id,
            attempt=self.claimed.attempt,
            step_id=self.step_ids.get(step.position),
            step=step,
            outcome=outcome,
            execution_context=self.state.snapshot(),
        )

    async def _shared_barrier(self, step: ScenarioStep) -> StepOutcome:
        """A barrier several runs of the suite run meet at (`name`, `parties`, `timeout`). It
        fails when it times out, or as soon as it can no longer be met: a run that would have
        been a party ended without arriving, and too few may still come."""
        started = time.time()
        name = str(step.spec.get("name") or step.element_id or step.position)
        if self.claimed.data_row_index is not None:
            name = f"{name}@row{self.claimed.data_row_index}"  # the parties of one data row
        if self.claimed.repeat_index:
            name = f"{name}@rep{self.claimed.repeat_index}"  # ... of one repeat
        if step.branch:
            return _barrier_outcome(
                started,
                StepStatus.ERROR,
                f"shared barrier {name!r} is on a parallel branch; shared barriers must be on "
                "the scenario's main line",
            )
        parties = int(step.spec.get("parties", 1))
        timeout = float(step.spec.get("timeout", 300))
        arrival = await self.committer.submit(
            lambda repo: _arrive(repo, self.claimed, self.worker_id, name, parties, timeout)
        )
        if arrival is None:  # the run was cancelled, claimed again or pruned meanwhile
            raise LeaseLost(self.claimed.id)
        if arrival.released:
            return _barrier_outcome(started, StepStatus.PASSED, None, arrival)
        if arrival.timed_out:  # broken for every party: one arriving late fails too
            message = f"barrier {name!r} timed out after {timeout:g}s with " + (
                f"{arrival.arrived} of {parties} parties"
                if arrival.arrived < parties
                else f"all {parties} parties arrived, the last too late"
            )
            return _barrier_outcome(started, StepStatus.FAILED, message, arrival)
        if arrival.arrived >= parties:
            return _barrier_outcome(started, StepStatus.PASSED, None, arrival)
        if arrival.doomed_by:
            message = (
                f"barrier {name!r} can no longer be met: {arrival.arrived} of {parties} "
                f"parties arrived and {', '.join(arrival.doomed_by)} without reaching it"
            )
            return _barrier_outcome(started, StepStatus.FAILED, message, arrival)
        raise Parked(arrival.timeout_at)

    async def _complete(self, status: TestRunStatus, error: str | None) -> None:
        self.finishing = True
        self.state.outcome = {"status": status.value, "error": error}
        completion = Completion(
            test_run_id=self.claimed.id,
            worker=self.worker_id,
            attempt=self.claimed.attempt,
            status=status,
            error=error,
            execution_context=self.state.snapshot(),
            final=self._final,
        )
        # with dependents, `schedule` queues or skips them and then closes the suite run
        if not await self.committer.complete(completion, schedule=self.shared.has_dependencies):
            raise LeaseLost(self.claimed.id)
        self.observer.run_ended(status)


async def _arrive(
    repo: RunRepository,
    claimed: ClaimedRun,
    worker: str,
    name: str,
    parties: int,
    wait_seconds: float,
) -> BarrierArrival | None:
    """Arrive, fenced by the lease (None: lost), release the barrier if this was the last
    party, and say who dooms it while it waits."""
    arrival = await repo.arrive_at_barrier(
        claimed.suite_run_id,
        name,
        parties,
        claimed.id,
        wait_seconds,
        worker=worker,
        attempt=claimed.attempt,
    )
    if arrival is None:
        return None
    if arrival.complete and not arrival.released:
        await repo.release_barrier(claimed.suite_run_id, name)
    if not arrival.waiting:
        return arrival
    doomed_by = await repo.barrier_doomed_by(claimed.suite_run_id, name)
    return replace(arrival, doomed_by=tuple(doomed_by))


def _barrier_outcome(
    started: float, status: StepStatus, error: str | None, arrival: BarrierArrival | None = None
) -> StepOutcome:
    response = None
    if arrival is not None:
        response = {"arrived": arrival.arrived, "parties": arrival.parties}
    return StepOutcome(
        status=status,
        started_at=started,
        duration_ms=(time.time() - started) * 1000,
        response=response,
        error=error,
    )


def _resends(
    plan: StepSequence, lost: dict[str, Any] | None, done: dict[str, str]
) -> dict[int, int]:
    """The steps that are re-sends (position -> the claim that lost its lease): those the lost
    claim had in flight (next after what it had checkpointed) and not done since."""
    if not lost:
        return {}
    lost_done = {int(position) for position in lost.get("done", {})}
    attempt = int(lost["attempt"])
    flying = next_steps(plan, lost_done)
    return {s.position: attempt for s in flying if str(s.position) not in done}


def _final_position(plan: StepSequence) -> int | None:
    """The step that ends the scenario, whose checkpoint can wait for the completion: the last
    main-line step or join; none after branches that never join (a step before them is
    followed by theirs, whose checkpoints already hold it done)."""
    last = plan.items[-1] if plan.items else None
    if isinstance(last, Block):
        return None if last.barrier is None else last.barrier.position
    return None if last is None else last.position


def _stop_message(step: ScenarioStep, error: str) -> str:
    """Why the run stopped, naming the step (executors' errors usually name it already)."""
    if step.element_id and step.element_id in error:
        return error
    return f"{step.name or step.element_id or f'step {step.position}'}: {error}"
