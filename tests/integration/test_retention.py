"""Pruning ended suite runs: by age, beyond the newest N of each suite, by id; never one in
progress; everything of theirs goes with them; a dry run deletes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orchestra.errors import Conflict, NotFound, UsageError
from orchestra.services import retention, running
from orchestra.store.database import Database
from tests.integration.runtime.support import scenario, step, store_suite
from tests.support.suite_runs import finished_runs, table_counts


async def test_runs_older_than_the_cutoff_go_with_their_test_runs_and_results(
    db: Database,
) -> None:
    _, ids = await finished_runs(db, [40, 10, 0])
    in_progress = await running.start_suite_run(db, (await store_suite(db, [])).id)

    dry = await retention.prune(db, older_than=timedelta(days=30), dry_run=True)
    assert [run["id"] for run in dry.suite_runs] == [ids[0]]
    assert dry.totals() == {"suite_runs": 1, "test_runs": 2, "step_results": 3}
    assert (await table_counts(db))["suite_run"] == 4  # a dry run deletes nothing

    pruned = await retention.prune(db, older_than=timedelta(days=5))
    assert [run["id"] for run in pruned.suite_runs] == ids[:2]
    assert pruned.totals() == {"suite_runs": 2, "test_runs": 4, "step_results": 6}
    assert await table_counts(db) == {"suite_run": 2, "test_run": 2, "step_result": 3}
    async with db.transaction() as uow:
        assert await uow.runs.get(ids[2]) is not None
        assert await uow.runs.get(in_progress.id) is not None


async def test_keep_last_keeps_the_newest_of_each_suite_and_filters_combine(
    db: Database,
) -> None:
    first, ids = await finished_runs(db, [50, 40, 30])
    second, others = await finished_runs(db, [50, 1])

    pruned = await retention.prune(db, keep_last=1)
    assert [run["id"] for run in pruned.suite_runs] == [*ids[:2], others[0]]

    _, more = await finished_runs(db, [60, 2])
    narrowed = await retention.prune(db, keep_last=0, older_than=timedelta(days=7), dry_run=True)
    assert [run["id"] for run in narrowed.suite_runs] == [ids[2], more[0]]
    by_suite = await retention.prune(db, keep_last=0, suite_id=second, dry_run=True)
    assert [run["id"] for run in by_suite.suite_runs] == [others[1]]
    assert (await retention.prune(db, keep_last=2**40, dry_run=True)).suite_runs == []
    assert first != second


async def test_a_run_in_progress_an_unknown_one_or_no_filter_is_refused(db: Database) -> None:
    suite = await store_suite(db, [scenario("a", [step(0, "a")])])
    running_one = await running.start_suite_run(db, suite.id)
    with pytest.raises(Conflict, match=f"suite run {running_one.id} is in progress: cancel it"):
        await retention.prune(db, ids=[running_one.id])
    with pytest.raises(NotFound, match="no suite run 999"):
        await retention.prune(db, ids=[999])
    with pytest.raises(NotFound, match="no suite 999"):
        await retention.prune(db, keep_last=1, suite_id=999)
    with pytest.raises(UsageError, match="--suite only narrows them"):
        await retention.prune(db, suite_id=suite.id)
    await running.cancel(db, running_one.id)  # once it ended, it may go
    pruned = await retention.prune(db, ids=[running_one.id])
    assert [run["status"] for run in pruned.suite_runs] == ["CANCELLED"]
