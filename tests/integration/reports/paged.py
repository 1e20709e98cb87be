"""A suite run of mixed outcomes, and report pages made small, for the tests of reports read a
page of runs at a time (written to a file or served by the API)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import orchestra.reports
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import reporting, running
from orchestra.store.database import Database
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    step,
    store_suite,
)

ROWS = 7
PAGE_RUNS = 3
DETAILED_RUNS = 4
MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class _Fixed(datetime):
    @classmethod
    def now(cls, tz: object = None) -> _Fixed:
        del tz
        return cls.fromtimestamp(MOMENT.timestamp(), UTC)


async def mixed_suite_run(db: Database) -> int:
    """Runs that passed, failed at their second step and at their first, over data rows."""
    suite = await store_suite(
        db,
        [
            scenario("good", [step(0, "a"), step(1, "b")], position=0),
            scenario(
                "bad", [step(0, "a"), step(1, "b", result="FAILED"), step(2, "c")], position=1
            ),
            scenario("worse", [step(0, "a", result="ERROR"), step(1, "d")], position=2),
        ],
    )
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("rows", [{"name": f"row {n}"} for n in range(ROWS)])
    suite_run = await running.start_suite_run(db, suite.id, data_set="rows")
    await running.work_until_done(
        db, suite_run.id, factory_for(ScriptedExecutor()), options=WorkerOptions(poll_seconds=0.05)
    )
    return suite_run.id


def make_pages_small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of PAGE_RUNS runs, DETAILED_RUNS runs detailed, text drawn 1,000 characters at a
    time, and one moment for `generated_at`."""
    monkeypatch.setattr(reporting, "PAGE_RUNS", PAGE_RUNS)
    monkeypatch.setattr(reporting, "TEXT_PIECE", 1000)
    monkeypatch.setattr(reporting, "MAX_DETAILED_RUNS", DETAILED_RUNS)
    monkeypatch.setattr(orchestra.reports, "MAX_DETAILED_RUNS", DETAILED_RUNS)
    monkeypatch.setattr(reporting, "datetime", _Fixed)


async def idle_in_transaction(db: Database) -> int:
    """Connections to the test database left idle in a transaction (a snapshot held)."""
    async with db.reading() as uow:
        cursor = await uow.conn.execute(
            "SELECT count(*) AS n FROM pg_stat_activity"
            " WHERE datname = current_database() AND state = 'idle in transaction'"
        )
        row = await cursor.fetchone()
    return 0 if row is None else int(row["n"])
