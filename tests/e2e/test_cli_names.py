"""Suites and suite runs named by id, `latest` or their process in every command that takes
them; what is not there is exit 1 with one wording, in the CLI and the API alike."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from orchestra.domain.generation import Criterion
from orchestra.examples.order import BINDINGS_FILE, PROCESS_FILE, example_path
from orchestra.services import generating, importing, running
from orchestra.store.database import Database
from tests.e2e.conftest import clean_env, orchestra


async def example_suites(db: Database) -> dict[str, int]:
    """The example imported, with an all-flows suite and then an all-nodes one."""
    data = example_path(PROCESS_FILE).read_bytes()
    async with db.transaction() as uow:
        await importing.import_bpmn(uow, data, source=PROCESS_FILE)
    suites = {}
    for criterion in (Criterion.ALL_FLOWS, Criterion.ALL_NODES):
        generated = await generating.generate(
            db, "order_fulfilment", criterion=criterion, bindings=example_path(BINDINGS_FILE)
        )
        suites[criterion.value] = int(generated["suite"])
    return suites


async def cli(database_url: str, *args: str) -> tuple[int, Any, str]:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    done = await asyncio.to_thread(orchestra, *args, "--json", env=env)
    return done.returncode, json.loads(done.stdout), done.stderr


async def test_suites_and_suite_runs_are_named_by_their_process_or_latest(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    suites = await example_suites(db)
    flows, nodes = suites["all-flows"], suites["all-nodes"]
    first = (await running.start_suite_run(db, flows)).id
    second = (await running.start_suite_run(db, nodes)).id

    shown = await cli(database_url, "suites", "show", "order_fulfilment@1:all-flows")
    newest = await cli(database_url, "status", "latest")
    of_flows = await cli(database_url, "status", "order_fulfilment:all-flows")
    listed = await cli(database_url, "status", "--suite", "order_fulfilment")
    started = await cli(database_url, "run", "order_fulfilment:all-flows")
    cancelled = await cli(database_url, "cancel", "latest")
    report = tmp_path / "report.json"
    reported = await cli(database_url, "report", "latest", "--format", "json", "-o", str(report))
    page = await cli(
        database_url, "report", "--suite", "latest", "-o", str(tmp_path / "suite.html")
    )

    assert (shown[0], shown[1]["id"]) == (0, flows), shown[2]
    by_name = await cli(database_url, "suites", "show", "Order fulfilment:all-flows")
    process_by_name = await cli(database_url, "processes", "show", "Order fulfilment")
    assert (by_name[0], by_name[1]["id"]) == (0, flows), by_name[2]
    assert (process_by_name[0], process_by_name[1]["key"]) == (0, "order_fulfilment")
    assert newest[1]["suite_run"] == second
    assert of_flows[1]["suite_run"] == first
    assert [r["suite_run"] for r in listed[1]["suite_runs"]] == [second]  # the newest suite's
    third = started[1]["suite_run"]
    assert (started[0], started[1]["suite"], third > second) == (0, flows, True), started[2]
    assert (cancelled[1]["suite_run"], cancelled[1]["status"]) == (third, "CANCELLED")
    assert reported[1]["suite_run"] == third
    assert json.loads(report.read_text())["report"]["suite_run"]["id"] == third
    assert page[1]["suite"] == nodes


async def test_a_report_written_to_dash_goes_to_stdout_and_leaves_no_file(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    suites = await example_suites(db)
    suite_run = (await running.start_suite_run(db, suites["all-flows"])).id
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)

    def report(*args: str) -> Any:
        return orchestra("report", *args, "-o", "-", env=env, cwd=tmp_path)

    run_report = await asyncio.to_thread(report, "latest", "--format", "json")
    page = await asyncio.to_thread(report, "--suite", "latest")
    with_json = await asyncio.to_thread(report, "latest", "--json")

    assert run_report.returncode == 0, run_report.stderr
    assert json.loads(run_report.stdout)["report"]["suite_run"]["id"] == suite_run
    assert page.returncode == 0, page.stderr
    assert page.stdout.startswith("<!DOCTYPE html>")
    assert with_json.returncode == 2
    assert "-o - writes the report on stdout" in json.loads(with_json.stdout)["message"]
    assert await asyncio.to_thread(os.listdir, tmp_path) == []


async def test_prune_takes_names_for_its_suite_and_suite_runs(
    db: Database, database_url: str
) -> None:
    suites = await example_suites(db)
    ended = (await running.start_suite_run(db, suites["all-flows"])).id
    await running.cancel(db, ended)

    code, pruned, stderr = await cli(
        database_url,
        "prune",
        "--suite",
        "order_fulfilment:all-flows",
        "--suite-run",
        "latest",
        "--dry-run",
    )

    assert code == 0, stderr
    assert [run["suite_run"] for run in pruned["suite_runs"]] == [ended]


async def test_what_is_not_there_is_exit_1_not_found_said_one_way_with_where_it_looked(
    db: Database, database_url: str
) -> None:
    await example_suites(db)

    cases = [
        (
            ("run", "order_fulfilment@9"),
            "no suite 'order_fulfilment@9' (process 'order_fulfilment' has no version 9)",
        ),
        (
            ("run", "order_fulfilment:all-paths"),
            "no suite 'order_fulfilment:all-paths' (version"
            " 1 of process 'order_fulfilment', its newest, has no all-paths suite)",
        ),
        (("run", "424242"), "no suite 424242"),
        (("run", "nowhere"), "no suite 'nowhere' (process 'nowhere' is not imported)"),
        (("run", "1", "--env", "nope"), "no environment 'nope'"),
        (("status", "99"), "no suite run 99"),
        (("status", "latest"), "no suite run 'latest' (no suite run has been started)"),
        (
            ("report", "order_fulfilment"),
            "no suite run 'order_fulfilment' (suite 2 has not been run)",
        ),
        (("cancel", "99"), "no suite run 99"),
        (("suites", "show", "99"), "no suite 99"),
        (("report", "--suite", "99"), "no suite 99"),
        (("prune", "--suite", "99", "--keep-last", "1"), "no suite 99"),
        (("env", "show", "nope"), "no environment 'nope'"),
        (("processes", "show", "nope"), "no process 'nope'"),
        (("generate", "nope@2"), "no process 'nope@2'"),
        (("generate", "Order fulfilment@9"), "no process 'Order fulfilment@9'"),
    ]
    done = await asyncio.gather(*(cli(database_url, *args) for args, _ in cases))

    for (args, message), (code, refusal, stderr) in zip(cases, done, strict=True):
        assert (code, refusal["error"], refusal["message"]) == (1, "NotFound", message), args
        assert f"error: {message}" in stderr, args
        assert "looked in the database" in refusal["hint"], args
        assert "Traceback" not in stderr, args


def test_a_malformed_reference_is_a_usage_error(database_url: str) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)

    done = orchestra("status", "order:everything", "--json", env=env)

    assert done.returncode == 2
    assert "the criterion after ':' is one of all-flows" in json.loads(done.stdout)["message"]


def test_status_and_report_on_an_empty_store_say_where_they_looked(database_url: str) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)

    listed = orchestra("status", env=env)
    report = orchestra("report", "latest", env=env)

    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("no suite runs in the database ")
    assert report.returncode == 1
    assert "no suite run 'latest' (no suite run has been started)" in report.stderr
    assert "looked in the database " in report.stderr


def test_rerun_failed_is_instead_of_a_suite_and_keeps_the_rows_it_ran_with(
    database_url: str,
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)

    both = orchestra("run", "order", "--rerun-failed", "latest", "--json", env=env)
    neither = orchestra("run", "--json", env=env)
    rows = orchestra("run", "--rerun-failed", "7", "--data-set", "other", "--json", env=env)

    assert [done.returncode for done in (both, neither, rows)] == [2, 2, 2]
    assert json.loads(both.stdout)["message"] == (
        "give a SUITE to run, or --rerun-failed SUITE_RUN (not both)"
    )
    assert json.loads(neither.stdout) == json.loads(both.stdout)
    assert "each failed run runs again with the data row it ran with" in rows.stderr
