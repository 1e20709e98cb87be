"""`orchestra prune`: one JSON document with --json, a readable summary otherwise; no filter or a
bad duration is a usage error (exit 2), never a traceback."""

from __future__ import annotations

import asyncio
import json

import pytest

from orchestra.store.database import Database
from tests.e2e.conftest import clean_env, orchestra
from tests.e2e.test_cli_suite_report import run_main
from tests.support.suite_runs import finished_runs, table_counts


async def test_orchestra_prune_prints_json_and_refuses_what_it_cannot_do(
    db: Database, database_url: str
) -> None:
    _, ids = await finished_runs(db, [3, 0])
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)

    dry = await asyncio.to_thread(
        orchestra, "prune", "--older-than", "1d12h", "--dry-run", "--json", env=env
    )
    done = await asyncio.to_thread(orchestra, "prune", "--suite-run", str(ids[0]), env=env)
    nothing = await asyncio.to_thread(orchestra, "prune", "--json", env=env)
    bad = await asyncio.to_thread(orchestra, "prune", "--older-than", "soon", env=env)

    assert dry.returncode == 0, dry.stderr
    document = json.loads(dry.stdout)
    assert document["dry_run"] is True
    assert [run["suite_run"] for run in document["suite_runs"]] == [ids[0]]
    assert document["totals"] == {"suite_runs": 1, "test_runs": 2, "step_results": 3}
    assert done.returncode == 0, done.stderr
    assert "Deleted 1 suite run (2 test runs, 3 step results)" in done.stdout
    assert (await table_counts(db))["suite_run"] == 1
    assert nothing.returncode == 2
    assert json.loads(nothing.stdout)["message"].startswith("say which suite runs to prune")
    assert bad.returncode == 2
    assert "'soon' is not a duration like 30d" in bad.stderr
    assert "Traceback" not in bad.stderr + nothing.stderr


def test_a_duration_too_long_for_a_date_is_a_usage_error_not_a_traceback(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ORCHESTRA_DATABASE_URL", database_url)
    for too_long in ("99999999999d", "10000000d", "1000000w"):
        code, out = run_main(capsys, "prune", "--older-than", too_long, "--json")
        assert (code, json.loads(out)["error"]) == (2, "UsageError"), too_long
        assert "too long" in json.loads(out)["message"], too_long
