"""The CLI takes what the API takes: generation knobs and names within the same bounds, refused
beyond them as usage errors (exit 2) that name the option and its limit."""

from __future__ import annotations

import json

import pytest

from orchestra.domain.generation import MAX_LOOP_BOUND, MAX_SCENARIOS
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
