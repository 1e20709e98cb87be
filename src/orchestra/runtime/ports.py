"""What the runtime needs from the outside, as small protocols (tests pass plain classes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from orchestra.domain.execution import StepContext, StepOutcome
from orchestra.domain.records import Environment
from orchestra.domain.scenario import ScenarioStep


class Executor(Protocol):
    """Executes one ACTION or ASSERTION step; never touches the database."""

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome: ...

    async def aclose(self) -> None: ...


# Builds the executor of an environment (None: the suite run names none). Called once per
# environment per worker; secrets are resolved here, from the worker's own process environment.
ExecutorFactory = Callable[[Environment | None], Awaitable[Executor]]
