"""`orchestra status` without an id lists suite runs; values PostgreSQL refuses exit 1 with a
message naming them, no traceback, and what was stored before stays."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestra.binding.factory import executor_factory
from orchestra.services import running
from orchestra.store.database import Database
from tests.e2e.conftest import clean_env, orchestra
from tests.integration.runtime.support import scenario, step, store_suite

ENVIRONMENT = "name: {name}\nservices:\n  orders:\n    base_url: http://127.0.0.1:9\n"
SERVICES = {"services": {"orders": {"base_url": "http://127.0.0.1:9"}}}


async def start_runs(db: Database, count: int) -> tuple[int, list[int]]:
    suite = await store_suite(db, [scenario("a", [step(0, "a")])])
    return suite.id, [(await running.start_suite_run(db, suite.id)).id for _ in range(count)]


async def test_status_without_an_id_lists_suite_runs_each_as_status_with_its_id_shows_it(
    db: Database, database_url: str
) -> None:
    suite, runs = await start_runs(db, 3)
    await running.cancel(db, runs[0])
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)

    listed = await asyncio.to_thread(orchestra, "status", "--json", env=env)
    one = await asyncio.to_thread(orchestra, "status", str(runs[0]), "--json", env=env)

    assert listed.returncode == 0, listed.stderr
    page = json.loads(listed.stdout)
    assert [r["suite_run"] for r in page["suite_runs"]] == runs[::-1]
    shown = json.loads(one.stdout)
    assert shown.pop("failures") == []  # an ended suite run's status lists its failures
    assert page["suite_runs"][-1] == shown
    assert shown["suite"] == suite
    assert page["next_before"] is None


async def test_status_filters_and_pages_and_says_how_to_get_more(
    db: Database, database_url: str
) -> None:
    _, runs = await start_runs(db, 3)
    await running.cancel(db, runs[2])
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)

    first = await asyncio.to_thread(
        orchestra, "status", "--status", "in_progress", "--limit", "1", env=env
    )
    second = await asyncio.to_thread(
        orchestra, "status", "--status", "IN_PROGRESS", "--before", str(runs[1]), "--json", env=env
    )

    assert first.returncode == 0, first.stderr
    assert f"more: add --before {runs[1]}" in first.stdout
    assert "CANCELLED" not in first.stdout
    assert [r["suite_run"] for r in json.loads(second.stdout)["suite_runs"]] == [runs[0]]


def test_status_with_an_id_and_listing_options_is_a_usage_error(database_url: str) -> None:
    done = orchestra(
        "status", "1", "--suite", "2", env=clean_env(ORCHESTRA_DATABASE_URL=database_url)
    )

    assert done.returncode == 2
    assert "drop the id" in done.stderr


@pytest.mark.parametrize(
    ("option", "says"),
    [("--suite=0", "ids and versions start at 1"), ("--before=-5", "is not in the range x>=1")],
)
def test_an_id_below_1_for_listing_is_a_usage_error_as_in_the_api(
    database_url: str, option: str, says: str
) -> None:
    done = orchestra("status", option, "--json", env=clean_env(ORCHESTRA_DATABASE_URL=database_url))

    assert done.returncode == 2
    assert says in json.loads(done.stdout)["message"]


@pytest.mark.parametrize("listing", [["--suite", "2"], ["--status", "passed"], ["--limit", "3"]])
def test_watch_with_listing_options_is_a_usage_error_not_ignored(
    database_url: str, listing: list[str]
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)

    done = orchestra("status", "1", "--watch", *listing, "--json", env=env)

    assert done.returncode == 2
    assert json.loads(done.stdout)["message"] == (
        "--suite, --status, --limit and --before list suite runs: drop the id"
    )


def test_a_suite_id_out_of_range_for_postgresql_is_not_found_exit_1(database_url: str) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)

    done = orchestra("status", "--suite", str(2**70), "--json", env=env)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    refusal = json.loads(done.stdout)
    assert (refusal["error"], refusal["message"]) == ("NotFound", f"no suite {2**70}")


async def test_a_nul_in_an_environment_name_exits_1_and_the_stored_environment_stays(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    async with db.transaction() as uow:
        stored = await uow.config.upsert_environment("local", SERVICES, [])
    bad = tmp_path / "bad.yaml"
    bad.write_text(ENVIRONMENT.format(name='"lo\\0cal"'))
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)

    done = await asyncio.to_thread(orchestra, "env", "apply", str(bad), env=env)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "error: PostgreSQL refused `name` (a NUL character)" in done.stderr
    async with db.transaction() as uow:
        assert await uow.config.environments() == [stored]


async def test_infinity_in_a_data_set_exits_1_naming_its_row_and_the_rows_stored_before_stay(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    async with db.transaction() as uow:
        stored = await uow.config.upsert_data_set("amounts", [{"amount": 5}, {"amount": 7}])
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {amount: .inf}\n")
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)

    done = await asyncio.to_thread(
        orchestra, "dataset", "import", "amounts", str(bad), "--json", env=env
    )

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    message = json.loads(done.stdout)["message"]
    assert message == "bad.yaml:1: [0].amount: inf is not a number JSON can hold"
    async with db.transaction() as uow:
        assert await uow.config.data_sets() == [stored]


async def test_watch_follows_a_suite_run_until_it_ends_and_exits_1_unless_it_passed(
    db: Database, database_url: str
) -> None:
    suite = await store_suite(db, [scenario("a", [step(0, "a")])])  # unbound: ends ERROR
    suite_run = await running.start_suite_run(db, suite.id)
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url, PGAPPNAME="watch")
    args = ("status", str(suite_run.id), "--watch", "--interval", "0.2", "--json")
    watching = asyncio.create_task(asyncio.to_thread(orchestra, *args, env=env))
    await _until_watching(db, watching.done)
    assert not watching.done()  # nothing executes it yet

    await running.work_until_done(db, suite_run.id, executor_factory({}), workers=1)
    done = await asyncio.wait_for(watching, 30)

    assert done.returncode == 1, done.stderr
    final = json.loads(done.stdout)
    assert (final["status"], final["done"], final["counts"]) == ("FAILED", 1, {"ERROR": 1})


async def test_watch_stops_on_ctrl_c_saying_it_was_interrupted_and_the_run_goes_on(
    db: Database, database_url: str
) -> None:
    _, (suite_run,) = await start_runs(db, 1)
    args = ("status", str(suite_run), "--watch", "--interval", "0.2", "--json")
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "orchestra", *args),
        env=clean_env(ORCHESTRA_DATABASE_URL=database_url, PGAPPNAME="watch"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await _until_watching(db, lambda: process.returncode is not None)
    process.send_signal(signal.SIGINT)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)

    assert process.returncode == 130, stderr
    shown = json.loads(stdout)
    assert (shown["status"], shown["interrupted"]) == ("IN_PROGRESS", True)
    assert (await running.progress(db, suite_run)).suite_run.status.value == "IN_PROGRESS"


async def _until_watching(db: Database, ended: Callable[[], bool]) -> None:
    """Until a `status --watch` (PGAPPNAME=watch) has counted its suite run's runs twice (its
    watching has begun: the first count may be the one finding the suite run). Or until
    `ended()`. A look reads outside a transaction: its counting statement is what shows."""
    first = None
    for _ in range(300):  # bounded: 30 s
        async with db.connection() as conn:
            cursor = await conn.execute(
                "SELECT max(query_start) AS t FROM pg_stat_activity"
                " WHERE application_name = 'watch' AND state = 'idle'"
                " AND query LIKE 'SELECT status, count(*) AS n FROM test_run%'"
            )
            row = await cursor.fetchone()
        committed = None if row is None else row["t"]
        if ended() or (first is not None and committed is not None and committed > first):
            return
        first = first or committed
        await asyncio.sleep(0.1)
    raise AssertionError("the watch never looked at its suite run")


def test_watch_without_an_id_is_a_usage_error(database_url: str) -> None:
    done = orchestra("status", "--watch", env=clean_env(ORCHESTRA_DATABASE_URL=database_url))

    assert done.returncode == 2
    assert "--watch follows one suite run: name it" in done.stderr


async def test_run_wait_stopped_by_ctrl_c_to_leave_exits_130_and_releases_what_is_left(
    db: Database, database_url: str
) -> None:
    polling: dict[str, Any] = {  # a step polling an address where nothing listens, for 3 s
        "action": {"path": "/order"},
        "checks": [{"status": 200}],
        "eventually": {"timeout": 3, "interval": 0.1},
    }
    suite = await store_suite(
        db, [scenario(name, [step(0, "a", **polling)]) for name in ("first", "second")]
    )
    async with db.transaction() as uow:
        await uow.config.upsert_environment("local", {"name": "local", **SERVICES}, [])
    args = (
        "run",
        str(suite.id),
        "--env",
        "local",
        "--wait",
        "--workers",
        "1",
        "--concurrency",
        "1",
        "--on-interrupt",
        "leave",
    )
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "orchestra", *args, "--json"),
        env=clean_env(ORCHESTRA_DATABASE_URL=database_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    for _ in range(300):  # bounded: until its first run is being executed
        assert process.returncode is None, await process.communicate()
        async with db.connection() as conn:
            cursor = await conn.execute(
                "SELECT count(*) AS n FROM test_run WHERE status = 'RUNNING'"
            )
            row = await cursor.fetchone()
        if row is not None and row["n"] > 0:
            break
        await asyncio.sleep(0.1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)

    assert process.returncode == 130, stderr
    shown = json.loads(stdout)
    assert (shown["status"], shown["interrupted"]) == ("IN_PROGRESS", True)
    assert shown["on_interrupt"] == "leave"
    assert shown["done"] < 2  # the other run is left for `orchestra worker`
