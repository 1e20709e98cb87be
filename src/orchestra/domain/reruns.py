"""Which runs a re-run of a suite run's failures executes: the runs that ended FAILED, ERROR or
FAILED_STUCK, each for its own data row (and repeat), and every run they depend on
(`dependsOn`, for the same row and repeat), transitively, whatever it ended: a re-run starts
from an empty suite-run context, so what a failed run reads of its dependencies' exports is
made again, against the SUT as it is now, instead of reusing values (an order id, a token)
whose state the failed run may have changed. SKIPPED and CANCELLED runs did not fail and are
left out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from orchestra.domain.dependencies import RunKey
from orchestra.domain.scenario import TestScenario
from orchestra.domain.statuses import TestRunStatus

RERUN_STATUSES = frozenset({TestRunStatus.FAILED, TestRunStatus.ERROR, TestRunStatus.FAILED_STUCK})


@dataclass(frozen=True, slots=True)
class RerunPlan:
    failed: tuple[RunKey, ...]  # the runs that failed, to run again
    dependencies: tuple[RunKey, ...]  # the runs they depend on that did not fail, brought along

    @property
    def runs(self) -> tuple[RunKey, ...]:
        return self.failed + self.dependencies


def plan_rerun(
    scenarios: Sequence[TestScenario], ended: Iterable[tuple[RunKey, TestRunStatus]]
) -> RerunPlan:
    """The runs to execute again, given how each run of the suite run ended."""
    failed = sorted(
        (key for key, status in ended if status in RERUN_STATUSES), key=_order(scenarios)
    )
    needs = {s.name: [dep.scenario for dep in s.depends_on] for s in scenarios}
    wanted = set(failed)
    stack = list(failed)
    while stack:
        run = stack.pop()
        for name in needs.get(run.scenario, []):
            dependency = RunKey(name, run.row, run.repeat)
            if dependency not in wanted:
                wanted.add(dependency)
                stack.append(dependency)
    brought = sorted(wanted - set(failed), key=_order(scenarios))
    return RerunPlan(failed=tuple(failed), dependencies=tuple(brought))


def _order(scenarios: Sequence[TestScenario]) -> Callable[[RunKey], tuple[int, int, int]]:
    """By scenario position, then data row (no row first), then repeat."""
    position = {s.name: s.position for s in scenarios}

    def key(run: RunKey) -> tuple[int, int, int]:
        return position.get(run.scenario, 0), -1 if run.row is None else run.row, run.repeat

    return key
