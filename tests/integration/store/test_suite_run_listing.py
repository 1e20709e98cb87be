"""Listing suite runs: newest first, filtered by suite and status, in keyset pages."""

from __future__ import annotations

import pytest

from orchestra.domain.statuses import SuiteRunStatus, TestRunStatus
from orchestra.errors import UsageError
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.runtime.support import scenario, step, store_suite


async def start_runs(db: Database, count: int, scenarios: int = 2) -> tuple[int, list[int]]:
    """A new suite of `scenarios` scenarios and `count` suite runs of it (ids, oldest first)."""
    suite = await store_suite(db, [scenario(f"s{i}", [step(0, "a")]) for i in range(scenarios)])
    ids = [(await running.start_suite_run(db, suite.id)).id for _ in range(count)]
    return suite.id, ids


async def test_suite_runs_are_listed_newest_first_with_their_runs_counted(db: Database) -> None:
    _, ids = await start_runs(db, 3, scenarios=2)
    await running.cancel(db, ids[1])

    page = await running.list_suite_runs(db)

    assert [p.suite_run.id for p in page.suite_runs] == ids[::-1]
    assert [p.counts for p in page.suite_runs] == [
        {TestRunStatus.QUEUED: 2},
        {TestRunStatus.CANCELLED: 2},
        {TestRunStatus.QUEUED: 2},
    ]
    assert page.suite_runs[1] == await running.progress(db, ids[1])
    assert page.next_before is None


async def test_pages_follow_one_another_through_next_before_and_cover_every_run_once(
    db: Database,
) -> None:
    _, ids = await start_runs(db, 7, scenarios=1)
    seen: list[int] = []
    before: int | None = None
    for _ in range(10):  # bounded: 7 runs in pages of 3 take 3 pages
        page = await running.list_suite_runs(db, before=before, limit=3)
        seen += [p.suite_run.id for p in page.suite_runs]
        before = page.next_before
        if before is None:
            break

    assert seen == ids[::-1]
    assert len((await running.list_suite_runs(db, limit=3)).suite_runs) == 3


async def test_a_page_that_ends_exactly_at_the_last_run_says_it_is_the_last(db: Database) -> None:
    _, ids = await start_runs(db, 4, scenarios=1)

    first = await running.list_suite_runs(db, limit=2)
    second = await running.list_suite_runs(db, before=first.next_before, limit=2)

    assert first.next_before == ids[2]
    assert [p.suite_run.id for p in second.suite_runs] == ids[1::-1]
    assert second.next_before is None


async def test_runs_are_filtered_by_suite_and_by_any_of_several_statuses(db: Database) -> None:
    suite_a, runs_a = await start_runs(db, 3, scenarios=1)
    suite_b, runs_b = await start_runs(db, 2, scenarios=1)
    await running.cancel(db, runs_a[0])
    await running.cancel(db, runs_b[1])

    def ids(page: running.SuiteRunPage) -> list[int]:
        return [p.suite_run.id for p in page.suite_runs]

    cancelled = [SuiteRunStatus.CANCELLED]
    assert ids(await running.list_suite_runs(db, suite_id=suite_b)) == runs_b[::-1]
    assert ids(await running.list_suite_runs(db, statuses=cancelled)) == [runs_b[1], runs_a[0]]
    assert ids(await running.list_suite_runs(db, suite_id=suite_a, statuses=cancelled)) == [
        runs_a[0]
    ]
    both = [SuiteRunStatus.CANCELLED, SuiteRunStatus.IN_PROGRESS]
    assert ids(await running.list_suite_runs(db, suite_id=suite_a, statuses=both)) == runs_a[::-1]
    assert ids(await running.list_suite_runs(db, statuses=[SuiteRunStatus.PASSED])) == []
    assert ids(await running.list_suite_runs(db, suite_id=suite_b + 100)) == []


async def test_filters_hold_across_pages(db: Database) -> None:
    suite_a, runs_a = await start_runs(db, 3, scenarios=1)
    await start_runs(db, 3, scenarios=1)

    first = await running.list_suite_runs(db, suite_id=suite_a, limit=2)
    second = await running.list_suite_runs(db, suite_id=suite_a, before=first.next_before)

    assert [p.suite_run.id for p in first.suite_runs + second.suite_runs] == runs_a[::-1]


@pytest.mark.parametrize("limit", [0, running.MAX_PAGE + 1])
async def test_a_page_size_outside_its_bounds_is_a_usage_error(db: Database, limit: int) -> None:
    with pytest.raises(UsageError, match="a page holds 1 to 200 suite runs"):
        await running.list_suite_runs(db, limit=limit)


async def test_an_empty_store_lists_no_suite_runs(db: Database) -> None:
    page = await running.list_suite_runs(db)

    assert (page.suite_runs, page.next_before) == ([], None)
    assert page.to_json() == {"suite_runs": [], "next_before": None}
