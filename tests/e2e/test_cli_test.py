"""`orchestra test` as a CI job runs it: a user's BPMN, bindings, environment and data against
a real HTTP service on 127.0.0.1, exit codes and the failure summary."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from junitparser import JUnitXml

from tests.e2e.conftest import clean_env, orchestra
from tests.e2e.test_startup_imports import imported
from tests.support.linear_project import BINDINGS, Sut, sut_in_thread, write_project

SCENARIO = "S01 Basket full → Paid"
BOB_FAILS = (
    "FAILED S01 Basket full → Paid [row 1: Bob] at step 2 Task_Read (Read order): "
    'jsonpath $.state eq: expected "CREATED", got "LOST"'
)


@pytest.fixture
def sut() -> Sut:
    return Sut()


@pytest.fixture
def project(tmp_path: Path, sut: Sut) -> Iterator[dict[str, Path]]:
    with sut_in_thread(sut) as base_url:
        yield write_project(tmp_path / "shop", base_url)


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return clean_env(ORCHESTRA_DATABASE_URL=database_url)


def _test(
    project: dict[str, Path], env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return orchestra(
        "test",
        str(project["model"]),
        "--bindings",
        str(project["bindings"]),
        "--env",
        str(project["env"]),
        *args,
        env=env,
    )


def test_every_run_passing_exits_0_and_writes_the_reports_asked_for(
    project: dict[str, Path], env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = _test(
        project,
        env,
        "--data",
        str(project["data"]),
        "--row",
        "0",
        "--row",
        "2",
        "--junit",
        str(out / "junit.xml"),
        "--html",
        str(out / "report.html"),
        "--report-json",
        str(out / "report.json"),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "PASSED"
    assert result["counts"] == {"PASSED": 2}
    assert result["failures"] == []
    assert result["process"] == {"key": "checkout", "version": 1}
    assert set(result["reports"]) == {"junit", "html", "json"}
    assert JUnitXml.fromfile(str(out / "junit.xml")).tests == 2
    assert json.loads((out / "report.json").read_text())["summary"]["status"] == "PASSED"


def test_a_failing_run_exits_1_with_one_summary_line_naming_row_step_and_values(
    project: dict[str, Path], env: dict[str, str]
) -> None:
    done = _test(project, env, "--data", str(project["data"]))
    assert done.returncode == 1, done.stderr
    assert BOB_FAILS in done.stdout
    assert "FAILED" in done.stdout
    as_json = _test(project, env, "--data", str(project["data"]), "--json")
    (failure,) = json.loads(as_json.stdout)["failures"]
    assert failure == {
        "test_run": failure["test_run"],
        "scenario": "S01 Basket full → Paid",
        "status": "FAILED",
        "data_row": 1,
        "data_row_label": "Bob",
        "repeat": 1,
        "step": 2,
        "element_id": "Task_Read",
        "element_name": "Read order",
        "check": "jsonpath $.state eq",
        "expected": "CREATED",
        "actual": "LOST",
        "error": failure["error"],
        "cleanup": None,  # the scenario has no cleanup actions
        "answer": None,  # a check of the body failed, not of the status
    }


def test_a_second_call_reuses_the_suite_instead_of_adding_one(
    project: dict[str, Path], env: dict[str, str]
) -> None:
    first = json.loads(_test(project, env, "--data", str(project["data"]), "--json").stdout)
    second = json.loads(_test(project, env, "--data", "people", "--json").stdout)
    assert first["suite_reused"] is False
    assert second["suite_reused"] is True
    assert second["suite"] == first["suite"]
    assert second["suite_run"] != first["suite_run"]
    listed = json.loads(orchestra("suites", "list", "--json", env=env).stdout)
    suites = listed["suites"] if isinstance(listed, dict) else listed
    assert len(suites) == 1
    criterion = _test(project, env, "--data", "people", "--coverage", "all-nodes", "--json")
    assert json.loads(criterion.stdout)["suite_reused"] is False  # another criterion


def test_a_reused_suite_runs_without_what_only_generating_or_a_terminal_needs(
    project: dict[str, Path], env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    first = _test(project, env, "--data", str(project["data"]), "--row", "0", "--json")
    assert first.returncode == 0, first.stderr
    args = [str(project["model"]), "--bindings", str(project["bindings"])]
    args += ["--env", str(project["env"]), "--data", "people", "--row", "0", "--json"]
    done, modules = imported(tmp_path, "test", *args, ORCHESTRA_DATABASE_URL=database_url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["suite_reused"] is True
    unneeded = {
        "jinja2",  # its bindings only interpolate paths
        "aiosql",
        "orchestra.domain.generation.generator",
        "rich.console",  # --json: nothing for a person to read
        "rich.progress",
        "rich.table",
        "lxml",  # its model's bytes are those imported before: not parsed again
        "orchestra.bpmn",
    }
    assert unneeded & modules == set()


def test_repeat_runs_every_scenario_and_row_n_times_told_apart_in_the_reports(
    project: dict[str, Path], env: dict[str, str], tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    done = _test(
        project,
        env,
        "--data",
        str(project["data"]),
        "--row",
        "0",
        "--repeat",
        "3",
        "--junit",
        str(junit),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"] == {"PASSED": 3}
    names = sorted(case.name for suite in JUnitXml.fromfile(str(junit)) for case in suite)
    assert names == [f"{SCENARIO} [row 0]{n}" for n in ("", " #2", " #3")]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--env", "nowhere"), "no environment file or applied environment named 'nowhere'"),
        (("--env", "missing.yaml"), "no such environment file: missing.yaml"),
        (("--data", "people.csv", "--row", "7"), "has 3 rows, numbered 0 to 2: no row 7"),
        (("--scenario", "S99"), "no scenario 'S99'"),
        (("--process", "other"), "no process 'other' in the models"),
        (("--row", "0"), "--row picks rows of a data set"),
        (("--junit", "/proc/out/junit.xml"), "cannot write a report to /proc/out/junit.xml"),
    ],
)
def test_a_usage_or_configuration_error_exits_2_saying_what_is_wrong(
    project: dict[str, Path], env: dict[str, str], args: tuple[str, ...], says: str
) -> None:
    args = tuple(str(project["data"]) if a == "people.csv" else a for a in args)
    base = ["test", str(project["model"]), "--bindings", str(project["bindings"])]
    if "--env" not in args:
        base += ["--env", str(project["env"])]
    done = orchestra(*base, *args, "--json", env=env)
    assert done.returncode == 2, done.stderr
    assert says in json.loads(done.stdout)["message"]
    assert "Traceback" not in done.stderr


def test_a_missing_model_file_is_a_usage_error(env: dict[str, str]) -> None:
    done = orchestra("test", "/nowhere/model.bpmn", "--env", "x", "--json", env=env)
    assert done.returncode == 2
    assert "no such file: /nowhere/model.bpmn" in json.loads(done.stdout)["message"]


def test_nothing_to_test_says_the_model_is_missing_first(
    env: dict[str, str], tmp_path: Path
) -> None:
    done = _in(tmp_path, env)  # no argument, no orchestra.yaml: the model is what is missing

    assert done.returncode == 2
    assert done.stderr == ("error: no BPMN model: give MODEL.bpmn or `models:` in orchestra.yaml\n")


def _in(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestra", "test", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_project_file_alone_runs_the_tests_and_flags_override_it(
    project: dict[str, Path], env: dict[str, str]
) -> None:
    folder = project["model"].parent
    (folder / "orchestra.yaml").write_text(
        "models: [checkout.bpmn]\n"
        "bindings: bindings.yaml\n"
        "env: environment.yaml\n"
        "data: people.csv\n"
        "rows: [0, 2]\n"
        "workers: 1\n"
        "reports:\n"
        "  junit: out/junit.xml\n",
        encoding="utf-8",
    )
    done = _in(folder, env)
    assert done.returncode == 0, done.stderr
    assert (folder / "out" / "junit.xml").is_file()
    overridden = _in(folder, env, "--row", "1")
    assert overridden.returncode == 1
    assert BOB_FAILS in overridden.stdout


def test_a_project_file_with_an_unknown_key_is_refused_naming_key_line_and_file(
    tmp_path: Path, env: dict[str, str]
) -> None:
    config = tmp_path / "ci.yaml"
    config.write_text("models: [a.bpmn]\nworkerz: 3\n", encoding="utf-8")
    done = _in(tmp_path, env, "-c", str(config), "--json")
    assert done.returncode == 2
    message = json.loads(done.stdout)["message"]
    assert f"{config}:2" in message
    assert "unknown key 'workerz'" in message


def test_ctrl_c_cancels_the_suite_run_and_exits_130_saying_what_was_cancelled(
    project: dict[str, Path], env: dict[str, str], sut: Sut
) -> None:
    sut.delay = 0.3
    running = _start(project, env, "--repeat", "20", "--workers", "1", "--concurrency", "2")
    _until(lambda: sut.requests >= 2, "the first requests")
    running.send_signal(signal.SIGINT)
    out, err = running.communicate(timeout=60)
    assert running.returncode == 130, err
    found = re.search(r"interrupted: suite run (\d+) cancelled, (\d+) unfinished runs", out)
    assert found, out
    assert int(found[2]) > 0
    status = json.loads(orchestra("status", found[1], "--json", env=env).stdout)
    assert status["status"] == "CANCELLED"
    assert status["done"] == status["total"] == 60


def test_ctrl_c_with_on_interrupt_leave_releases_the_runs_and_says_how_to_go_on(
    project: dict[str, Path], env: dict[str, str], sut: Sut
) -> None:
    sut.delay = 0.3
    running = _start(project, env, "--repeat", "20", "--workers", "1", "--on-interrupt", "leave")
    _until(lambda: sut.requests >= 2, "the first requests")
    running.send_signal(signal.SIGINT)
    out, err = running.communicate(timeout=60)
    assert running.returncode == 130, err
    assert "is still in progress" in out
    assert "`orchestra worker`" in out
    found = re.search(r"`orchestra cancel (\d+)`", out)
    assert found, out
    status = json.loads(orchestra("status", found[1], "--json", env=env).stdout)
    assert status["status"] == "IN_PROGRESS"


def _start(project: dict[str, Path], env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "orchestra",
        "test",
        str(project["model"]),
        "--bindings",
        str(project["bindings"]),
        "--env",
        str(project["env"]),
        "--data",
        str(project["data"]),
        *args,
    ]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _until(condition: object, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"waited too long for {what}"
        time.sleep(0.05)


TWO_PROCESSES = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d2" targetNamespace="t">
  <process id="shop_a" isExecutable="true">
    <startEvent id="A0"/><sequenceFlow id="fa" sourceRef="A0" targetRef="A1"/><endEvent id="A1"/>
  </process>
  <process id="shop_b" name="Shop B" isExecutable="true">
    <startEvent id="B0"/><sequenceFlow id="fb" sourceRef="B0" targetRef="B1"/><endEvent id="B1"/>
  </process>
</definitions>
"""


def test_a_first_model_of_several_processes_needs_process_to_say_which(
    project: dict[str, Path], env: dict[str, str]
) -> None:
    model = project["model"].parent / "two.bpmn"
    model.write_text(TWO_PROCESSES, encoding="utf-8")
    base = ["test", str(model), "--env", str(project["env"]), "--json"]
    unsaid = orchestra(*base, env=env)
    assert unsaid.returncode == 2
    message = json.loads(unsaid.stdout)["message"]
    assert (
        "holds the processes shop_a, shop_b ('Shop B'): say which to test with --process KEY "
        "or NAME"
    ) in message
    for said_as in ("shop_b", "Shop B"):  # its id, or its name
        said = orchestra(*base, "--process", said_as, env=env)
        assert said.returncode == 0, said.stderr
        assert json.loads(said.stdout)["process"]["key"] == "shop_b"


def test_the_examples_project_file_runs_it_as_a_ci_job_would(
    env: dict[str, str], tmp_path: Path
) -> None:
    from orchestra.examples.order import (
        EXPECTED,
        PROJECT_FILE,
        TOKEN_VARIABLE,
        URL_VARIABLE,
        example_path,
    )
    from orchestra.examples.order.sut import example_sut_in_thread

    with example_sut_in_thread(token="ci") as base_url:
        example_env = {**env, URL_VARIABLE: base_url, TOKEN_VARIABLE: "ci"}
        folder = tmp_path / "example"
        folder.mkdir()
        for name in ("order.bpmn", "bindings.yaml", "environment.yaml", "dataset.yaml"):
            (folder / name).write_bytes(example_path(name).read_bytes())
        (folder / PROJECT_FILE).write_bytes(example_path(PROJECT_FILE).read_bytes())
        done = _in(folder, example_env, "--json")
    assert done.returncode == 1, done.stderr  # the planted defect
    result = json.loads(done.stdout)
    assert result["counts"] == {"FAILED": EXPECTED["failed"], "PASSED": EXPECTED["passed"]}
    assert {f["element_id"] for f in result["failures"]} == {EXPECTED["failed_at"]}
    assert (folder / "orchestra-report" / "junit.xml").is_file()


class _Ok:
    """A service whose `/ok` answers `{"state": "CREATED"}`."""

    def app(self) -> web.Application:
        async def ok(request: web.Request) -> web.Response:
            return web.json_response({"state": "CREATED"})

        app = web.Application()
        app.router.add_get("/ok", ok)
        return app


def test_with_several_models_the_first_is_tested_and_the_processes_it_calls_are_inlined(
    env: dict[str, str], tmp_path: Path
) -> None:
    from tests.support.call_process import (
        CAPTURE,
        CHECKOUT_BINDINGS,
        CHECKOUT_BPMN,
        FRAUD_BPMN,
        PAYMENT_BPMN,
    )

    models = {"checkout": CHECKOUT_BPMN, "payment": PAYMENT_BPMN, "fraud": FRAUD_BPMN}
    for name, xml in models.items():
        (tmp_path / f"{name}.bpmn").write_bytes(xml)
    (tmp_path / "bindings.yaml").write_text(CHECKOUT_BINDINGS, encoding="utf-8")
    with sut_in_thread(_Ok()) as base_url:
        (tmp_path / "env.yaml").write_text(
            f"name: ok\nservices:\n  api:\n    base_url: {base_url}\n", encoding="utf-8"
        )
        files = ["--bindings", "bindings.yaml", "--env", "env.yaml", "--json"]
        tested = _in(tmp_path, env, "checkout.bpmn", "payment.bpmn", "fraud.bpmn", *files)
        called_first = _in(tmp_path, env, "payment.bpmn", "checkout.bpmn", *files)
    assert tested.returncode == 1, tested.stderr  # Capture's check fails against /ok
    result = json.loads(tested.stdout)
    assert result["process"]["key"] == "Checkout"
    assert [f["element_id"] for f in result["failures"]] == [CAPTURE]
    assert called_first.returncode == 2
    assert "say which to test with --process" in json.loads(called_first.stdout)["message"]


TEARDOWN = """\
  Task_Create:
    action: {method: POST, path: /orders, json: {amount: "{{ data.amount }}"}}
    checks: [{status: 201}]
    save: {order_id: $.id}
    undo:
      action: {method: DELETE, path: "/orders/{{ steps.Task_Create.response.json.id }}"}
      checks: [{status: 204}]
cleanup:
  - name: audit
    action: {path: /audit}
"""


def test_every_run_undoes_what_it_created_and_a_failed_cleanup_is_only_reported(
    project: dict[str, Path], env: dict[str, str], sut: Sut, tmp_path: Path
) -> None:
    create = BINDINGS.index("  Task_Create:")
    read = BINDINGS.index("  Task_Read:")
    bindings = BINDINGS[:create] + TEARDOWN.split("cleanup:")[0] + BINDINGS[read:]
    project["bindings"].write_text(bindings + "cleanup:" + TEARDOWN.split("cleanup:")[1])
    report = tmp_path / "report.json"

    done = _test(project, env, "--data", str(project["data"]), "--report-json", str(report))

    assert done.returncode == 1, done.stderr  # Bob's run fails, as before
    assert sut.orders == {}  # every order undone, Bob's too
    assert BOB_FAILS + "; cleanup: 1 of 2 actions did not pass (audit: FAILED)" in done.stdout
    assert (
        "PASSED S01 Basket full → Paid [row 0: Ada]: cleanup: 1 of 2 actions did not pass"
        " (audit: FAILED)"
    ) in done.stdout
    runs = json.loads(report.read_text())["report"]["test_runs"]
    assert [[(c["name"], c["status"]) for c in run["cleanup"]] for run in runs] == [
        [("undo Create order", "PASSED"), ("audit", "FAILED")]
    ] * 3
