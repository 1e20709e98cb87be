"""`rerun_failed`: a new suite run of an ended one's failures, each with the data row it ran
with, the runs they depend on brought along, on the same suite, environment and data set."""

from __future__ import annotations

import pytest

from orchestra.domain.statuses import TestRunStatus
from orchestra.errors import Conflict
from orchestra.services import rerunning, running
from orchestra.store.database import Database
from tests.integration.runtime.support import scenario, step, store_suite

ROWS = [{"customer": "ada"}, {"customer": "bob"}]


async def ended_suite_run(db: Database, statuses: dict[tuple[str, int], str]) -> int:
    """A suite run of create <- cancel (dependsOn) and other, over two rows, ended with the
    given statuses (set in the store: no worker executes it)."""
    suite = await store_suite(
        db,
        [
            scenario("create", [step(0, "a")]),
            scenario("cancel", [step(0, "b")], "create"),
            scenario("other", [step(0, "c")]),
        ],
    )
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("customers", ROWS)
        await uow.config.upsert_environment("staging", {"name": "staging", "services": {}}, [])
    suite_run = await running.start_suite_run(
        db, suite.id, environment="staging", data_set="customers"
    )
    async with db.connection() as conn:
        for (name, row), status in statuses.items():
            await conn.execute(
                "UPDATE test_run t SET status = %s, finished_at = now() FROM test_scenario s"
                " WHERE s.id = t.scenario_id AND s.name = %s AND t.data_row_index = %s"
                " AND t.suite_run_id = %s",
                (status, name, row, suite_run.id),
            )
        await conn.execute(
            "UPDATE suite_run SET status = 'FAILED', finished_at = now(), unfinished = 0"
            " WHERE id = %s",
            (suite_run.id,),
        )
    return suite_run.id


async def test_the_failures_run_again_with_their_rows_and_what_they_depend_on(
    db: Database,
) -> None:
    original = await ended_suite_run(
        db,
        {
            ("create", 0): "PASSED",
            ("cancel", 0): "FAILED",
            ("other", 0): "ERROR",
            ("create", 1): "PASSED",
            ("cancel", 1): "PASSED",
            ("other", 1): "SKIPPED",
        },
    )
    async with db.transaction() as uow:  # imported again since: the runs keep their rows
        await uow.config.upsert_data_set("customers", [{"customer": "changed"}])

    again = await rerunning.rerun_failed(db, original)

    async with db.transaction() as uow:
        before = await uow.runs.get(original)
        runs = await uow.runs.test_runs(again.suite_run.id)
    assert before is not None
    assert again.to_json() == {"of": original, "failed": 2, "dependencies": 1}
    assert again.suite_run.suite_id == before.suite_id
    assert again.suite_run.environment_id == before.environment_id
    assert again.suite_run.data_set_id == before.data_set_id
    assert again.suite_run.summary["rerun_of"] == original
    made = {(r.scenario_name, r.data_row_index, r.status, r.data_row["customer"]) for r in runs}
    assert made == {
        ("create", 0, TestRunStatus.QUEUED, "ada"),
        ("cancel", 0, TestRunStatus.PENDING, "ada"),  # behind create#0, brought along
        ("other", 0, TestRunStatus.QUEUED, "ada"),
    }


async def test_another_environment_may_be_named(db: Database) -> None:
    original = await ended_suite_run(db, {("other", 1): "FAILED"})
    async with db.transaction() as uow:
        local = await uow.config.upsert_environment("local", {"name": "local", "services": {}}, [])

    again = await rerunning.rerun_failed(db, original, environment="local")

    assert again.suite_run.environment_id == local.id
    assert await rerunning.environment_of(db, original) == "staging"


async def test_a_suite_run_in_progress_or_without_failures_is_refused(db: Database) -> None:
    passed = await ended_suite_run(db, {})
    suite = await store_suite(db, [scenario("a", [step(0, "a")])])
    in_progress = await running.start_suite_run(db, suite.id)

    with pytest.raises(Conflict, match="no FAILED, ERROR or FAILED_STUCK run to run again"):
        await rerunning.rerun_failed(db, passed)
    with pytest.raises(Conflict, match="is in progress"):
        await rerunning.rerun_failed(db, in_progress.id)
