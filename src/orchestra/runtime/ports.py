"""What the runtime needs from the outside, as small protocols (tests pass plain classes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.records import Environment
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepStatus, TestRunStatus


class Executor(Protocol):
    """Executes one ACTION or ASSERTION step; never touches the database."""

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome: ...

    async def aclose(self) -> None: ...


# Builds the executor of an environment (None: the suite run names none). Called once per
# environment per worker; secrets are resolved here, from the worker's own process environment.
ExecutorFactory = Callable[[Environment | None], Awaitable[Executor]]


class Observer(Protocol):
    """Told what a worker does, as it does it (its metrics); every call is cheap and never
    fails. `Unobserved` is the default."""

    def claimed(self, runs: int) -> None: ...

    def step_recorded(self, status: StepStatus, seconds: float | None) -> None: ...

    def run_ended(self, status: TestRunStatus) -> None: ...

    def leases_lost(self, runs: int) -> None: ...

    def stuck(self, runs: int) -> None: ...

    def stalled(self, seconds: float) -> None: ...

    def resent_after_stall(self) -> None: ...


class Unobserved:
    """An observer that keeps nothing."""

    def claimed(self, runs: int) -> None:
        pass

    def step_recorded(self, status: StepStatus, seconds: float | None) -> None:
        pass

    def run_ended(self, status: TestRunStatus) -> None:
        pass

    def leases_lost(self, runs: int) -> None:
        pass

    def stuck(self, runs: int) -> None:
        pass

    def stalled(self, seconds: float) -> None:
        pass

    def resent_after_stall(self) -> None:
        pass
