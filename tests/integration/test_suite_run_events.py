"""A suite run's event stream reads, at each look after its first, only the runs whose status
changed since the look before, and tells the same events as comparing every run's status at
each look would."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from orchestra.domain.statuses import TestRunStatus
from orchestra.domain.timestamps import rfc3339_or_none
from orchestra.services import running, watching
from orchestra.store.database import Database
from orchestra.store.runs import Completion, RunRepository
from orchestra.store.watching import WatchRepository
from tests.integration.runtime.support import scenario, step, store_suite

# a look at once whenever the stream is asked for its next event; no keepalive in between
AT_ONCE = watching.EventTimes(poll_seconds=0.0, settle_seconds=0.0, keepalive_seconds=3600.0)

EVERY_RUN = """
SELECT r.id, r.status::text AS status, r.data_row_index, r.error, s.name AS scenario,
       r.started_at, r.finished_at
FROM test_run r JOIN test_scenario s ON s.id = r.scenario_id
WHERE r.suite_run_id = %s ORDER BY r.id
"""


async def started(db: Database, *names: str, depending: str = "") -> tuple[int, dict[str, int]]:
    """A suite run of one run per scenario name (the last depends on `depending`, when given,
    and is PENDING); its id and its runs' ids by scenario."""
    scenarios = [scenario(name, [step(0, name)]) for name in names]
    if depending:
        scenarios.append(scenario("late", [step(0, "late")], depending))
    suite = await store_suite(db, scenarios)
    suite_run = await running.start_suite_run(db, suite.id)
    async with db.reading() as uow:
        runs = await uow.runs.test_runs(suite_run.id)
    return suite_run.id, {run.scenario_name: run.id for run in runs}


async def claim(db: Database, worker: str) -> int:
    async with db.transaction() as uow:
        (claimed,) = await uow.runs.claim(worker, 1, lease_seconds=30)
    return claimed.id


async def complete(
    db: Database, run_id: int, worker: str, status: TestRunStatus, attempt: int = 1
) -> None:
    async with db.transaction() as uow:
        assert await uow.runs.complete(run_id, worker, attempt, status, None, {})


class OldLooks:
    """The events of a stream comparing every run's status at each look (as it did before it
    read the changes only): the reference the stream's events are held to."""

    def __init__(self, db: Database, suite_run_id: int) -> None:
        self.db = db
        self.suite_run_id = suite_run_id
        self.known: dict[int, dict[str, Any]] | None = None

    async def look(self) -> list[tuple[str, dict[str, Any]]]:
        async with self.db.reading() as uow:
            suite_run = await uow.runs.get(self.suite_run_id)
            rows = await (await uow.conn.execute(EVERY_RUN, (self.suite_run_id,))).fetchall()
        assert suite_run is not None
        states = {int(row["id"]): row for row in rows}
        events: list[tuple[str, dict[str, Any]]] = []
        for run_id, row in states.items():
            previous = (self.known or {}).get(run_id)
            if self.known is not None and (previous is None or previous["status"] != row["status"]):
                events.append(("test-run", self._event(row, previous)))
        counts: dict[TestRunStatus, int] = {}
        for row in rows:
            counts[TestRunStatus(row["status"])] = counts.get(TestRunStatus(row["status"]), 0) + 1
        progress = running.Progress(suite_run, counts, len(rows)).to_json()
        events.append(("end" if suite_run.status.is_terminal else "progress", progress))
        self.known = states
        return events

    def _event(self, row: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "test_run": row["id"],
            "suite_run": self.suite_run_id,
            "scenario": row["scenario"],
            "data_row_index": row["data_row_index"],
            "status": row["status"],
            "previous": previous["status"] if previous is not None else None,
            "error": row["error"],
            "started_at": rfc3339_or_none(row["started_at"]),
            "finished_at": rfc3339_or_none(row["finished_at"]),
        }


@contextlib.asynccontextmanager
async def following(
    db: Database, suite_run_id: int
) -> AsyncIterator[AsyncIterator[watching.Event]]:
    """The suite run's events, a look each time the next one is asked for."""
    events = watching.suite_run_events(db, suite_run_id, None, AT_ONCE)
    assert isinstance(events, AsyncGenerator)
    async with contextlib.aclosing(events):
        yield events


async def next_look(events: AsyncIterator[watching.Event]) -> list[tuple[str, dict[str, Any]]]:
    """The events of the stream's next look that changed something: up to its `progress`."""
    seen: list[tuple[str, dict[str, Any]]] = []
    while not seen or seen[-1][0] not in {"progress", "end"}:
        event = await asyncio.wait_for(anext(events), timeout=10)
        seen.append((event.name, event.data))
    return seen


async def test_the_stream_tells_what_comparing_every_run_at_each_look_told(db: Database) -> None:
    suite_run_id, runs = await started(db, "a", "b", "c", depending="a")
    worker = "w1"

    async def claim_two() -> None:
        assert {await claim(db, worker), await claim(db, worker)} == {runs["a"], runs["b"]}

    async def end_two_and_release_and_claim_one_again() -> None:
        async with db.transaction() as uow:  # as a worker's group commit ends a run
            written = await uow.runs.write_many(
                [Completion(runs["a"], worker, 1, TestRunStatus.PASSED, None, {})]
            )
        assert written[0] is not None
        assert await claim(db, worker) == runs["c"]  # QUEUED -> RUNNING -> FAILED: one event
        await complete(db, runs["c"], worker, TestRunStatus.FAILED)
        async with db.transaction() as uow:  # RUNNING -> QUEUED -> RUNNING: none
            assert await uow.runs.release(runs["b"], worker, 1, {})
        assert await claim(db, worker) == runs["b"]

    async def schedule() -> None:  # `late` waited for `a`
        async with db.transaction() as uow:
            await uow.runs.schedule(suite_run_id)

    async def end_the_one_claimed_again() -> None:
        await complete(db, runs["b"], worker, TestRunStatus.ERROR, attempt=2)

    async def cancel() -> None:
        async with db.transaction() as uow:
            assert await uow.runs.cancel(suite_run_id)

    script: list[Callable[[], Awaitable[None]]] = [
        claim_two,
        end_two_and_release_and_claim_one_again,
        schedule,
        end_the_one_claimed_again,
        cancel,
    ]
    old = OldLooks(db, suite_run_id)
    async with following(db, suite_run_id) as events:
        assert await next_look(events) == await old.look()
        for change in script:
            await change()
            assert await next_look(events) == await old.look(), change.__name__

    assert old.known is not None
    statuses = {row["scenario"]: row["status"] for row in old.known.values()}
    assert statuses == {"a": "PASSED", "b": "ERROR", "c": "FAILED", "late": "CANCELLED"}


async def test_a_run_changing_twice_between_looks_tells_its_latest_status_and_the_one_before(
    db: Database,
) -> None:
    suite_run_id, runs = await started(db, "a", "b")
    async with following(db, suite_run_id) as events:
        await next_look(events)
        await complete(db, await claim(db, "w1"), "w1", TestRunStatus.PASSED)
        (name, data), (_, progress) = await next_look(events)

    assert (name, data["test_run"]) == ("test-run", runs["a"])
    assert (data["status"], data["previous"]) == ("PASSED", "QUEUED")
    assert (progress["counts"], progress["done"]) == ({"PASSED": 1, "QUEUED": 1}, 1)


async def test_a_look_reads_only_the_runs_changed_since_the_look_before(db: Database) -> None:
    suite_run_id, _ = await started(db, *"abcdefgh")
    async with db.reading() as uow:
        first = await uow.watch.run_statuses(suite_run_id)
    assert len(first.statuses) == 8

    claimed = {await claim(db, "w1"), await claim(db, "w1")}
    async with db.reading() as uow:
        changed = await uow.watch.run_changes(suite_run_id, first.snapshot)
        again = await uow.watch.run_changes(suite_run_id, changed.snapshot)

    assert {state.id for state in changed.states} == claimed
    assert {state.status for state in changed.states} == {TestRunStatus.RUNNING}
    assert again.states == []


async def test_a_change_committing_after_a_look_began_is_read_by_the_next_one(
    db: Database,
) -> None:
    """The change of a transaction that took its id first and commits last is not lost: a
    look after the later one's commit, but before its own, leaves it to the next look."""
    suite_run_id, runs = await started(db, "a", "b")
    async with db.reading() as uow:
        since = (await uow.watch.run_statuses(suite_run_id)).snapshot

    async with db.pool.connection() as slow, db.pool.connection() as look:
        async with slow.transaction():
            (first,) = await RunRepository(slow).claim("w1", 1, lease_seconds=30)
            assert first.id == runs["a"]
            await complete(db, await claim(db, "w2"), "w2", TestRunStatus.PASSED)  # b, committed
            during = await WatchRepository(look).run_changes(suite_run_id, since)
        after = await WatchRepository(look).run_changes(suite_run_id, during.snapshot)
        later = await WatchRepository(look).run_changes(suite_run_id, after.snapshot)
        marks = await (
            await look.execute("SELECT id, status_changed::text FROM test_run ORDER BY id")
        ).fetchall()

    assert [(s.id, s.status) for s in during.states] == [(runs["b"], TestRunStatus.PASSED)]
    assert [(s.id, s.status) for s in after.states] == [(runs["a"], TestRunStatus.RUNNING)]
    assert later.states == []
    a_mark, b_mark = (int(row["status_changed"]) for row in marks)
    assert a_mark < b_mark  # a counter of the last change seen would have skipped a


async def test_a_stream_on_a_suite_run_deleted_between_looks_ends_saying_so(
    db: Database,
) -> None:
    suite_run_id, _ = await started(db, "a")
    async with following(db, suite_run_id) as events:
        await next_look(events)
        async with db.transaction() as uow:
            await uow.runs.cancel(suite_run_id)
            await uow.runs.delete_suite_runs([suite_run_id])
        assert await next_look(events) == [("end", {"suite_run": suite_run_id, "deleted": True})]
