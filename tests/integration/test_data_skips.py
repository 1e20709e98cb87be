"""A run whose data row contradicts its scenario's path is created SKIPPED with the reason;
a run waiting on it is skipped too; neither fails the suite run; `force_rows` runs them."""

from __future__ import annotations

from orchestra.domain.scenario import Decision, PathCondition, TestScenario
from orchestra.domain.statuses import SuiteRunStatus, TestRunStatus
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.runtime.support import scenario, step, store_suite

ROWS = [{"amount": 5000}]


def big(name: str, *deps: str, holds: bool = True) -> TestScenario:
    """A scenario whose gateway choice needs `amount > 1000` to hold (or not)."""
    needs = PathCondition(flow="Big", condition="= amount > 1000", holds=holds)
    data = {"amount": 1001 if holds else 0}
    decision = Decision(gateway="G", flows=("Big",), data=data, requires=(needs,))
    made = scenario(name, [step(0, name)], *deps)
    return made.model_copy(update={"decisions": (decision,)})


async def start(db: Database, scenarios: list[TestScenario], *, force_rows: bool = False) -> int:
    suite = await store_suite(db, scenarios)
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("orders", ROWS)
    started = await running.start_suite_run(db, suite.id, data_set="orders", force_rows=force_rows)
    return started.id


async def test_runs_whose_row_contradicts_the_path_are_skipped_and_the_suite_run_passes(
    db: Database,
) -> None:
    suite_run_id = await start(db, [big("small", holds=False), big("after", "small")])

    async with db.transaction() as uow:
        runs = {r.scenario_name: r for r in await uow.runs.test_runs(suite_run_id)}
        suite_run = await uow.runs.get(suite_run_id)
    assert suite_run is not None
    assert suite_run.status is SuiteRunStatus.PASSED
    assert suite_run.finished_at is not None
    small, after = runs["small"], runs["after"]
    assert small.status is TestRunStatus.SKIPPED
    assert small.skipped_by_data
    assert small.error == (
        "data row 0 contradicts the path of small: not = amount > 1000 (Big) is false with "
        "amount = 5000"
    )
    assert after.status is TestRunStatus.SKIPPED
    assert after.skipped_by_data
    assert after.error is not None
    assert after.error.startswith("dependency small (test run")
    assert after.error.endswith(f"({small.error})")


async def test_a_suite_run_with_a_run_left_to_do_stays_in_progress(db: Database) -> None:
    suite_run_id = await start(db, [big("small", holds=False), big("large")])

    async with db.transaction() as uow:
        counts = await uow.runs.counts(suite_run_id)
        suite_run = await uow.runs.get(suite_run_id)
    assert suite_run is not None
    assert suite_run.status is SuiteRunStatus.IN_PROGRESS
    assert suite_run.unfinished == 1
    assert counts == {TestRunStatus.SKIPPED: 1, TestRunStatus.QUEUED: 1}


async def test_force_rows_runs_every_row(db: Database) -> None:
    suite_run_id = await start(db, [big("small", holds=False)], force_rows=True)

    async with db.transaction() as uow:
        counts = await uow.runs.counts(suite_run_id)
    assert counts == {TestRunStatus.QUEUED: 1}
