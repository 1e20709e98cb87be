"""`orchestra protocols` and a plug-in protocol through the whole CLI: the plug-in is a real
distribution on the subprocess's path (PYTHONPATH), found through its entry point."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.e2e.conftest import clean_env, orchestra
from tests.support.plugins import TCP_ECHO, entry_point_distribution
from tests.support.plugins.echo_server import echo_server

REPOSITORY = Path(__file__).parents[2]

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <process id="Echo" isExecutable="true">
    <startEvent id="Start"/>
    <serviceTask id="Task_Echo" name="Echo the order"/>
    <endEvent id="End"/>
    <sequenceFlow id="Flow_1" sourceRef="Start" targetRef="Task_Echo"/>
    <sequenceFlow id="Flow_2" sourceRef="Task_Echo" targetRef="End"/>
  </process>
</definitions>
"""
BINDINGS = """\
tasks:
  Task_Echo:
    action:
      protocol: tcp-echo
      send: {order: "{{ run.test_run_id }}", tenant: "{{ env.tenant }}"}
    checks: [{jsonpath: $.tenant, eq: acme}]
    exportAs: {echoed: $.order}
"""


def _with_plugins(tmp_path: Path, points: dict[str, str], **extra: str) -> dict[str, str]:
    """The CLI's environment with a distribution declaring `points` on its path."""
    root = entry_point_distribution(tmp_path / "site", "orchestra-test-plugins", points)
    env = clean_env(**extra)
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(REPOSITORY), str(root)])
    return env


def test_protocols_lists_only_http_without_plug_ins() -> None:
    done = orchestra("protocols", "--json", env=clean_env())

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["available"] == ["http"]


def test_protocols_lists_an_installed_plug_in_with_its_origin(tmp_path: Path) -> None:
    done = orchestra("protocols", env=_with_plugins(tmp_path, {"tcp-echo": TCP_ECHO}))

    assert done.returncode == 0, done.stderr
    assert "tcp-echo" in done.stdout
    assert "orchestra-test-plugins 1.0" in done.stdout


def test_protocols_exits_2_naming_the_entry_point_of_a_plug_in_that_fails_to_import(
    tmp_path: Path,
) -> None:
    points = {"tcp-echo": TCP_ECHO, "broken": "tests.support.plugins.missing:plugin"}

    done = orchestra("protocols", "--json", env=_with_plugins(tmp_path, points))

    assert done.returncode == 2
    listed = json.loads(done.stdout)
    assert listed["available"] == ["http", "tcp-echo"]
    (broken,) = [entry for entry in listed["protocols"] if entry["status"] == "broken"]
    assert broken["error"].startswith(
        "entry point 'broken' = 'tests.support.plugins.missing:plugin' of "
        "orchestra-test-plugins 1.0: cannot be loaded: ModuleNotFoundError"
    )
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_suite_with_a_plug_in_step_runs_to_passed_from_the_command_line(
    database_url: str, tmp_path: Path
) -> None:
    env = _with_plugins(tmp_path, {"tcp-echo": TCP_ECHO}, ORCHESTRA_DATABASE_URL=database_url)
    process, bindings = tmp_path / "echo.bpmn", tmp_path / "bindings.yaml"
    process.write_text(PROCESS)
    with echo_server() as (base_url, lines):
        environment = tmp_path / "environment.yaml"
        environment.write_text(
            f"name: local\nservices:\n  echo: {{base_url: '{base_url}'}}\n"
            "variables: {tenant: acme}\n"
        )
        for args in (("import", str(process)), ("env", "apply", str(environment))):
            done = orchestra(*args, "--json", env=env)
            assert done.returncode == 0, done.stderr
        bindings.write_text(BINDINGS.replace("tcp-echo", "tcp-echoo"))
        refused = orchestra("generate", "Echo", "--bindings", str(bindings), "--json", env=env)
        assert refused.returncode == 1
        assert json.loads(refused.stdout)["message"] == (
            f"{bindings}:4: tasks.Task_Echo.action.protocol: "
            "unknown protocol 'tcp-echoo' (available: http, tcp-echo)"
        )
        bindings.write_text(BINDINGS)
        generated = orchestra("generate", "Echo", "--bindings", str(bindings), "--json", env=env)
        assert generated.returncode == 0, generated.stderr
        suite = str(json.loads(generated.stdout)["suite"])
        ran = orchestra(
            "run", suite, "--env", "local", "--workers", "1", "--wait", "--json", env=env
        )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    result = json.loads(ran.stdout)
    assert (result["status"], result["counts"]) == ("PASSED", {"PASSED": 1})
    assert [json.loads(line)["tenant"] for line in lines] == ["acme"]
    written = tmp_path / "report.json"
    report = orchestra(
        "report", str(result["suite_run"]), "--format", "json", "-o", str(written), env=env
    )
    assert report.returncode == 0, report.stderr
    assert "tcp-echo://127.0.0.1" in written.read_text()
