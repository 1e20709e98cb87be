"""`orchestra schema NAME` prints the schema of a file people write; for bindings, with the
actions of the protocol plug-ins installed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema

from orchestra.schemas import NAMES, shipped_schema
from tests.e2e.conftest import clean_env, orchestra
from tests.support.plugins import TCP_ECHO, entry_point_distribution

REPOSITORY = Path(__file__).parents[2]


def test_each_schema_is_printed_as_shipped_without_plug_ins() -> None:
    for name in NAMES:
        done = orchestra("schema", name, env=clean_env())

        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == shipped_schema(name)


def test_the_bindings_schema_takes_the_actions_of_an_installed_plug_in(tmp_path: Path) -> None:
    root = entry_point_distribution(
        tmp_path / "site", "orchestra-test-plugins", {"tcp-echo": TCP_ECHO}
    )
    env = clean_env()
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(REPOSITORY), str(root)])

    done = orchestra("schema", "bindings", "--json", env=env)

    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    echo = {"tasks": {"T": {"action": {"protocol": "tcp-echo", "send": {"a": 1}}}}}
    misspelt = {"tasks": {"T": {"action": {"protocol": "tcp-echo", "sned": {"a": 1}}}}}
    assert jsonschema.Draft202012Validator(schema).is_valid(echo)
    assert not jsonschema.Draft202012Validator(schema).is_valid(misspelt)
    assert not jsonschema.Draft202012Validator(shipped_schema("bindings")).is_valid(echo)


def test_an_unknown_schema_is_a_usage_error_with_exit_2() -> None:
    done = orchestra("schema", "report", "--json", env=clean_env())

    assert done.returncode == 2
    assert json.loads(done.stdout)["error"] == "UsageError"
    assert "Traceback" not in done.stderr
