"""The CLI takes what the API takes: generation knobs and names within the same bounds, refused
beyond them as usage errors (exit 2) that name the option and its limit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestra.domain.generation import MAX_LOOP_BOUND, MAX_SCENARIOS
from orchestra.domain.records import MAX_NAME_LENGTH
from tests.e2e.conftest import clean_env, orchestra


@pytest.mark.parametrize(
    ("option", "value", "limit"),
    [
        ("--loop-bound", MAX_LOOP_BOUND + 1, f"0<=x<={MAX_LOOP_BOUND}"),
        ("--max-scenarios", MAX_SCENARIOS + 1, f"1<=x<={MAX_SCENARIOS}"),
    ],
)
def test_generation_knobs_beyond_the_apis_bounds_are_usage_errors_naming_the_limit(
    database_url: str, option: str, value: int, limit: str
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    args = ["generate", "p", "--coverage", "all-paths", option, str(value)]

    done = orchestra(*args, "--json", env=env)
    human = orchestra(*args, env=env)

    assert done.returncode == 2
    message = json.loads(done.stdout)["message"]
    assert option in message
    assert f"{value} is not in the range {limit}" in message
    assert human.returncode == 2
    assert option in human.stderr
    assert limit in human.stderr


LONG = "n" * (MAX_NAME_LENGTH + 1)


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["dataset", "import", LONG, "rows.csv"], "'NAME'"),
        (["env", "show", LONG], "'NAME'"),
        (["run", "1", "--env", LONG], "'--env'"),
        (["run", "1", "--data-set", LONG], "'--data-set'"),
    ],
)
def test_a_name_longer_than_the_api_takes_is_a_usage_error_naming_the_argument(
    database_url: str, tmp_path: Path, args: list[str], where: str
) -> None:
    (tmp_path / "rows.csv").write_text("amount\n5\n")
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)

    done = subprocess.run(
        [sys.executable, "-m", "orchestra", *args, "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2, done.stderr
    message = json.loads(done.stdout)["message"]
    assert message.startswith(f"Invalid value for {where}: ")
    assert f"at most {MAX_NAME_LENGTH} characters, not {MAX_NAME_LENGTH + 1}" in message


def test_a_name_of_the_longest_length_is_taken(database_url: str, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("amount\n5\n")
    longest = "n" * MAX_NAME_LENGTH

    done = orchestra(
        "dataset", "import", longest, str(rows), "--json",
        env=clean_env(ORCHESTRA_DATABASE_URL=database_url),
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data_set"] == longest
