"""`orchestra bindings init`: a skeleton that loads, and from an OpenAPI description one that
runs as written against a service that behaves as described (the library loans service)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import clean_env, orchestra
from tests.support.library.service import MODEL, OPENAPI, library_in_thread


def _imported(database_url: str) -> dict[str, str]:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    done = orchestra("import", str(MODEL), "--json", env=env)
    assert done.returncode == 0, done.stderr
    return env


@pytest.mark.slow
def test_a_scaffold_from_the_openapi_description_runs_as_written_and_passes(
    database_url: str, tmp_path: Path
) -> None:
    env = _imported(database_url)
    scaffold = tmp_path / "bindings.yaml"
    made = orchestra(
        "bindings", "init", "book_loan", "--openapi", str(OPENAPI), "-o", str(scaffold), "--json",
        env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    report = json.loads(made.stdout)
    matched = {task["element"]: task["operation"] for task in report["tasks"]}
    assert matched == {
        "Task_RegisterMember": "createMember (POST /members)",
        "Task_BorrowBook": "borrowBook (POST /members/{memberId}/loans)",
        "Task_RenewLoan": "renewLoan (POST /loans/{loanId}/renewal)",
        "Task_ReturnBook": "returnBook (POST /loans/{loanId}/return)",
    }
    assert all(task["todo"] == [] for task in report["tasks"])
    assert report["written"] == str(scaffold)
    assert scaffold.read_text().startswith("# yaml-language-server: $schema=")
    with library_in_thread() as base_url:
        environment = tmp_path / "environment.yaml"
        environment.write_text(f"name: library\nservices:\n  library: {{base_url: {base_url}}}\n")
        ran = orchestra(
            "test", str(MODEL), "--bindings", str(scaffold), "--env", str(environment), "--json",
            env=env,
        )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    result = json.loads(ran.stdout)
    assert result["status"] == "PASSED"
    assert result["counts"] == {"PASSED": 2}  # renewed, and returned at once


def test_a_scaffold_without_a_description_loads_and_binds_every_step(
    database_url: str, tmp_path: Path
) -> None:
    env = _imported(database_url)
    made = orchestra("bindings", "init", "book_loan@1", env=env)
    assert made.returncode == 0, made.stderr
    scaffold = tmp_path / "bindings.yaml"
    scaffold.write_text(made.stdout)
    assert made.stdout.count('path: "{{ TODO }}"') == 4
    generated = orchestra("generate", "book_loan", "--bindings", str(scaffold), "--json", env=env)
    assert generated.returncode == 0, generated.stderr
    assert json.loads(generated.stdout)["unbound"] == []
    as_json = json.loads(orchestra("bindings", "init", "book_loan", "--json", env=env).stdout)
    assert as_json["text"] == made.stdout
    assert as_json["written"] is None
    assert as_json["tasks"][0] == {
        "element": "Task_RegisterMember", "name": "Register member", "operation": None,
        "score": None, "runner_up": None, "unmatched": None, "todo": ["the request"],
    }  # fmt: skip


def test_an_existing_output_file_is_kept_unless_forced(database_url: str, tmp_path: Path) -> None:
    env = _imported(database_url)
    kept = tmp_path / "bindings.yaml"
    kept.write_text("# mine\n")
    refused = orchestra("bindings", "init", "book_loan", "-o", str(kept), "--json", env=env)
    forced = orchestra("bindings", "init", "book_loan", "-o", str(kept), "--force", env=env)
    assert refused.returncode == 2
    assert "--force" in json.loads(refused.stdout)["message"]
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout == (
        f"wrote {kept}: 4 tasks, 1 end event, 2 gateway flows\n"
        "TODO: each task's request (see the comments)\n"
    )
    assert "Task_RegisterMember" in kept.read_text()


def test_a_description_with_a_remote_ref_is_refused_naming_it(
    database_url: str, tmp_path: Path
) -> None:
    env = _imported(database_url)
    remote = tmp_path / "remote.yaml"
    text = OPENAPI.read_text().replace(
        '"#/components/schemas/NewMember"', "https://example.org/schemas.yaml#/NewMember"
    )
    remote.write_text(text)
    done = orchestra("bindings", "init", "book_loan", "--openapi", str(remote), "--json", env=env)
    assert done.returncode == 1
    error = json.loads(done.stdout)
    assert error["ref"] == "https://example.org/schemas.yaml#/NewMember"
    assert "points outside the file" in error["message"]
    assert "Traceback" not in done.stderr


def test_an_unknown_process_is_not_found(database_url: str) -> None:
    done = orchestra(
        "bindings", "init", "no_such", env=clean_env(ORCHESTRA_DATABASE_URL=database_url)
    )
    assert done.returncode == 1
    assert "no process 'no_such'" in done.stderr
