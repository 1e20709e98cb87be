"""CPU per step of two parts of Orchestra's step, each alone: no network, no database.

- the executor's own work: `bench_steps`' five steps (templates, checks, `save`, redaction,
  records) executed by a `StepExecutor` whose protocol answers at once with the SUT's
  responses, so aiohttp and the SUT are left out;
- the interpreter: the same scenario run by `RunInterpreter` with an executor that returns a
  recorded outcome and a committer that builds each checkpoint's row (`checkpoint_many`'s)
  and writes nothing.
What they leave out (aiohttp, the group committer's statements, claims, the event loop's turns
between runs) is what `bench_steps` measures in place. Best of `BENCH_PARTS_ROUNDS` (default 7)
rounds of `BENCH_PARTS_RUNS` (default 400) runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any, cast

from bench.bench_steps import STEPS, bound_suite
from orchestra.binding.environment import EnvironmentSpec
from orchestra.binding.executor import StepExecutor
from orchestra.domain.execution import CheckResult, RunIdentity, StepContext, StepOutcome
from orchestra.domain.records import StoredScenario, StoredStep
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepStatus
from orchestra.protocols.base import ProtocolRequest, ProtocolResponse
from orchestra.runtime.interpreter import RunEnvironment, RunInterpreter
from orchestra.store.commits import GroupCommitter
from orchestra.store.runs import Checkpoint, ClaimedRun, Completion, _write_row

RUNS = int(os.environ.get("BENCH_PARTS_RUNS", "400"))
ROUNDS = int(os.environ.get("BENCH_PARTS_ROUNDS", "7"))
STATUSES = ("CREATED", "CREATED", "PAID", "PAID", "CANCELLED")  # what each step reads
HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "Date": "Sat, 28 Nov 2026 14:55:39 GMT",
    "Server": "Python/3.11 aiohttp/3.14.5",
}


class CannedProtocol:
    """Answers each request at once, as the steps bench's SUT would (`position` says which)."""

    name = "http"

    def __init__(self) -> None:
        self.position = 0

    async def send(self, request: ProtocolRequest) -> ProtocolResponse:
        order = {"id": 5, "status": STATUSES[self.position], "amount": 10}
        body = json.dumps(order).encode()
        headers = {**HEADERS, "Content-Length": str(len(body))}
        status = 201 if self.position == 0 else 200
        return ProtocolResponse(status, headers, body, 1.0, request.url)

    async def aclose(self) -> None:
        pass


async def executor_us() -> float:
    """The executor's own CPU per step, in microseconds."""
    steps = bound_suite().scenarios[0].steps
    canned = CannedProtocol()
    environment = EnvironmentSpec.model_validate(
        {"name": "bench", "services": {"api": {"base_url": "http://127.0.0.1:9"}}}
    )
    executor = StepExecutor(environment, {}, protocols={"http": canned})
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for i in range(RUNS):
            run = RunIdentity(suite_run_id=1, test_run_id=i, scenario="order", attempt=1)
            saved: dict[str, Any] = {}
            for step in steps:
                canned.position = step.position
                ctx = StepContext(run=run, data={"amount": 10}, vars=saved)
                outcome = await executor.execute(step, ctx)
                assert outcome.status is StepStatus.PASSED, outcome.error
                saved.update(outcome.saved)
        best = min(best, (time.process_time() - started) / (RUNS * STEPS))
    return best * 1e6


class RecordedExecutor:
    """Returns an outcome shaped as the executor's for the steps bench (records, two checks)."""

    def __init__(self) -> None:
        url = "http://127.0.0.1:9/orders/5"
        checks = (
            CheckResult(name="status eq", passed=True, expected=200, actual=200),
            CheckResult(name="jsonpath $.status eq", passed=True, expected="PAID", actual="PAID"),
        )
        request = {"method": "GET", "url": url, "headers": {"Idempotency-Key": "0" * 36}}
        response = {
            "status": 200,
            "headers": {**HEADERS, "Content-Length": "40"},
            "elapsed_ms": 1.0,
            "url": url,
            "json": {"id": 5, "status": "PAID", "amount": 10},
        }
        self.outcome = StepOutcome(
            status=StepStatus.PASSED,
            started_at=time.time(),
            duration_ms=1.0,
            request=request,
            response=response,
            checks=checks,
        )
        self.first = self.outcome.model_copy(update={"saved": {"order_id": 5}})

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        return self.first if step.position == 0 else self.outcome

    async def aclose(self) -> None:
        pass


class RowsOnly:
    """A committer that builds each write's row and writes nothing. It keeps none of them, as
    the group committer drops its rows once written: 2,000 rows kept made the collector walk
    them again and again, a quarter of what this part measured."""

    def __init__(self) -> None:
        self.rows = 0
        self.last: dict[str, Any] = {}

    async def checkpoint(self, checkpoint: Checkpoint) -> bool:
        self.last = _write_row(checkpoint)
        self.rows += 1
        return True

    async def complete(self, completion: Completion, *, schedule: bool) -> bool:
        self.last = _write_row(completion)
        self.rows += 1
        return True


async def interpreter_us() -> float:
    """The interpreter's CPU per step with its checkpoint rows built, in microseconds."""
    scenario = bound_suite().scenarios[0]
    stored = StoredScenario(
        id=1,
        scenario=scenario,
        steps=tuple(StoredStep(id=10 + s.position, step=s) for s in scenario.steps),
    )
    shared = RunEnvironment(executor=RecordedExecutor(), env={}, has_dependencies=False)
    best = float("inf")
    for _ in range(ROUNDS):
        committer = RowsOnly()
        started = time.process_time()
        for i in range(RUNS):
            claimed = ClaimedRun(
                id=i, suite_run_id=1, scenario_id=1, data_row_index=0, repeat_index=0,
                data_row={"amount": 10}, attempt=1, execution_context={}, suite_context={},
            )  # fmt: skip
            writes = cast(GroupCommitter, committer)  # what the interpreter calls of one
            await RunInterpreter(claimed, stored, shared, writes, "bench", asyncio.Event()).run()
        best = min(best, (time.process_time() - started) / (RUNS * STEPS))
        assert committer.rows == RUNS * (STEPS - 1) + RUNS  # 4 checkpoints, 1 completion
    return best * 1e6


def main() -> None:
    print(f"  executor's own work: {asyncio.run(executor_us()):.1f} us CPU per step")
    print(f"  interpreter and checkpoint rows: {asyncio.run(interpreter_us()):.1f} us per step")
    print(f"  (best of {ROUNDS} rounds of {RUNS} runs x {STEPS} steps; no network, no database)")


if __name__ == "__main__":
    main()
