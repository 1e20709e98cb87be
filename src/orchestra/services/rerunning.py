"""Use case: run a suite run's failures again (`orchestra run --rerun-failed SUITE_RUN`).

The new suite run is of the same suite, on the same environment (unless another is named) and
data set, and holds the runs `domain.reruns.plan_rerun` chooses: the FAILED, ERROR and
FAILED_STUCK runs, each with the data row it ran with (as stored with the run, even if the data
set was imported again since), and the runs they depend on, brought along."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestra.domain.dependencies import RunKey
from orchestra.domain.records import SuiteRun, TestRun
from orchestra.domain.reruns import RerunPlan, plan_rerun
from orchestra.errors import Conflict, NotFound, UsageError
from orchestra.store.database import Database


@dataclass(frozen=True, slots=True)
class Rerun:
    suite_run: SuiteRun  # the new one
    rerun_of: int
    plan: RerunPlan

    def to_json(self) -> dict[str, Any]:
        return {
            "of": self.rerun_of,
            "failed": len(self.plan.failed),
            "dependencies": len(self.plan.dependencies),
        }


async def environment_of(db: Database, suite_run_id: int) -> str | None:
    """The name of the environment a suite run ran on (None: none, or since deleted)."""
    async with db.transaction() as uow:
        original = await uow.runs.get(suite_run_id)
        if original is None:
            raise NotFound("suite run", suite_run_id)
        if original.environment_id is None:
            return None
        environment = await uow.config.environment_by_id(original.environment_id)
    return None if environment is None else environment.name


async def rerun_failed(
    db: Database, suite_run_id: int, *, environment: str | None = None, max_attempts: int = 3
) -> Rerun:
    """Start a suite run of the failures of ended suite run `suite_run_id`, on `environment`
    (by name; None: the one it ran on)."""
    if max_attempts < 1:
        raise UsageError("--max-attempts must be at least 1")
    async with db.transaction() as uow:
        original = await uow.runs.get(suite_run_id)
        if original is None:
            raise NotFound("suite run", suite_run_id)
        if not original.status.is_terminal:
            raise Conflict(
                f"suite run {suite_run_id} is in progress: its failures can be run again once"
                " it has ended",
                details={"suite_run": suite_run_id},
            )
        suite = await uow.suites.get(original.suite_id)
        assert suite is not None, "a suite run keeps its suite (ON DELETE RESTRICT)"
        runs = await uow.runs.test_runs(suite_run_id)
        plan = plan_rerun(
            [s.scenario for s in suite.scenarios],
            [
                (RunKey(run.scenario_name, run.data_row_index, run.repeat_index), run.status)
                for run in runs
            ],
        )
        if not plan.failed:
            raise Conflict(
                f"suite run {suite_run_id} has no FAILED, ERROR or FAILED_STUCK run to run again",
                details={"suite_run": suite_run_id},
            )
        environment_id = original.environment_id
        if environment is not None:
            env = await uow.config.environment(environment)
            if env is None:
                raise NotFound("environment", environment)
            environment_id = env.id
        created = await uow.runs.create_runs(
            suite,
            plan.runs,
            data_rows=_data_rows(runs),
            environment_id=environment_id,
            data_set_id=original.data_set_id,
            max_attempts=max_attempts,
            summary={"rerun_of": suite_run_id},
        )
    return Rerun(created, suite_run_id, plan)


def _data_rows(runs: list[TestRun]) -> list[dict[str, Any]]:
    """The rows the runs ran with, by index (a list with `{}` where no run had that index)."""
    indexes = [run.data_row_index for run in runs if run.data_row_index is not None]
    rows: list[dict[str, Any]] = [{} for _ in range(max(indexes, default=-1) + 1)]
    for run in runs:
        if run.data_row_index is not None:
            rows[run.data_row_index] = run.data_row
    return rows
