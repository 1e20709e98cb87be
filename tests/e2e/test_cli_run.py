"""The example by hand through the CLI: import, env apply, dataset import, generate, run --wait,
status, report; exit codes as a CI job sees them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestra.examples.order import (
    BINDINGS_FILE,
    DATASET_FILE,
    EXPECTED,
    PROCESS_FILE,
    TOKEN_VARIABLE,
    environment_text,
    example_path,
)
from orchestra.examples.order.sut import example_sut_in_thread
from tests.e2e.conftest import clean_env, orchestra


@pytest.mark.slow
def test_a_suite_run_from_the_command_line_fails_on_the_planted_defect(
    database_url: str, tmp_path: Path
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url, **{TOKEN_VARIABLE: "cli-token"})
    with example_sut_in_thread(token="cli-token") as base_url:
        environment = tmp_path / "environment.yaml"
        environment.write_text(environment_text(base_url))
        steps = [
            ("import", str(example_path(PROCESS_FILE))),
            ("env", "apply", str(environment)),
            ("dataset", "import", "customers", str(example_path(DATASET_FILE))),
        ]
        for args in steps:
            done = orchestra(*args, "--json", env=env)
            assert done.returncode == 0, done.stderr
        generated = orchestra(
            "generate",
            "order_fulfilment",
            "--bindings",
            str(example_path(BINDINGS_FILE)),
            "--json",
            env=env,
        )
        assert generated.returncode == 0, generated.stderr
        suite = json.loads(generated.stdout)["suite"]
        ran = orchestra(
            "run",
            str(suite),
            "--env",
            "local",
            "--data-set",
            "customers",
            "--workers",
            "2",
            "--wait",
            "--json",
            env=env,
        )
    assert ran.returncode == 1, ran.stderr  # the suite failed: exit 1, as CI expects
    result = json.loads(ran.stdout)
    assert result["status"] == "FAILED"
    assert result["counts"] == {"FAILED": EXPECTED["failed"], "PASSED": EXPECTED["passed"]}
    assert [(f["status"], f["element_id"]) for f in result["failures"]] == [
        ("FAILED", EXPECTED["failed_at"])
    ] * EXPECTED["failed"]
    status = orchestra("status", str(result["suite_run"]), "--json", env=env)
    assert json.loads(status.stdout)["done"] == EXPECTED["test_runs"]
    assert json.loads(status.stdout)["failures"] == result["failures"]  # as it ended
    shown = orchestra("status", str(result["suite_run"]), env=env)
    assert "FAILED S03 declined → give up → Order cancelled [row 1: Alan Turing]" in shown.stdout
    assert 'expected "RELEASED", got "RESERVED"' in shown.stdout
    junit = tmp_path / "junit.xml"
    reported = orchestra(
        "report", str(result["suite_run"]), "--format", "junit", "-o", str(junit), env=env
    )
    assert reported.returncode == 0, reported.stderr
    assert "EndEvent_OrderCancelled" in junit.read_text()


def test_running_a_suite_that_does_not_exist_is_refused_cleanly(database_url: str) -> None:
    done = orchestra("run", "424242", "--json", env=clean_env(ORCHESTRA_DATABASE_URL=database_url))
    assert done.returncode == 1  # not found, as in every command
    assert json.loads(done.stdout)["message"] == "no suite 424242"
    assert "Traceback" not in done.stderr


def test_cancelling_a_finished_or_missing_suite_run_says_why(database_url: str) -> None:
    done = orchestra("cancel", "99", env=clean_env(ORCHESTRA_DATABASE_URL=database_url))
    assert done.returncode == 1
    assert "no suite run 99" in done.stderr


def test_usage_errors_print_one_json_document_with_json(database_url: str) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    for args in (
        ("run", "abc@def"),
        ("import", "/nonexistent.bpmn"),
        ("report", "1", "--format", "pdf"),
    ):
        done = orchestra(*args, "--json", env=env)
        assert done.returncode == 2, args
        assert json.loads(done.stdout)["error"] == "UsageError", args


def test_options_that_only_apply_with_wait_or_watch_are_refused_without_them(
    database_url: str,
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    workers = orchestra("run", "1", "--workers", "4", "--concurrency", "2", "--json", env=env)
    interval = orchestra("status", "1", "--interval", "5", env=env)

    assert workers.returncode == 2
    assert json.loads(workers.stdout)["message"].startswith(
        "--workers and --concurrency only apply with --wait"
    )
    assert interval.returncode == 2
    assert "--interval only applies with --watch" in interval.stderr


def test_an_unwritable_report_path_is_a_clear_error(database_url: str) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    done = orchestra("report", "1", "-o", "/proc/report.html", "--json", env=env)
    assert done.returncode in (1, 2)
    assert "Traceback" not in done.stderr
    assert json.loads(done.stdout)["error"] in ("NotFound", "UsageError")
