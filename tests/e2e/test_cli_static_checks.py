"""Static checks before anything runs: `run` and `test` refuse a suite with tasks left unbound
before anything reaches the SUT, naming them, unless told to run anyway (`--allow-unbound`,
`allow_unbound: true`); `generate` and `test` warn of a variable read before it is saved."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import clean_env, orchestra
from tests.support.linear_project import BINDINGS, Sut, sut_in_thread, write_project

# Task_Pay ("Pay order") left out: the binding a user is half-way through.
WITHOUT_PAY = BINDINGS.split("  Task_Pay:")[0]


@pytest.fixture
def sut() -> Sut:
    return Sut()


@pytest.fixture
def project(tmp_path: Path, sut: Sut) -> Iterator[dict[str, Path]]:
    with sut_in_thread(sut) as base_url:
        files = write_project(tmp_path / "shop", base_url)
        files["bindings"].write_text(WITHOUT_PAY, encoding="utf-8")
        yield files


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return clean_env(ORCHESTRA_DATABASE_URL=database_url)


def _test(
    project: dict[str, Path], env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return orchestra(
        "test",
        str(project["model"]),
        *("--bindings", str(project["bindings"]), "--env", str(project["env"])),
        *("--data", str(project["data"]), "--row", "0"),
        *args,
        env=env,
    )


def test_test_refuses_unbound_tasks_with_exit_2_naming_them_before_any_request(
    project: dict[str, Path], env: dict[str, str], sut: Sut
) -> None:
    done = _test(project, env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "1 task has no binding" in done.stderr
    assert "Task_Pay ('Pay order')" in done.stderr
    assert "--allow-unbound" in done.stderr
    assert "Traceback" not in done.stderr
    as_json = json.loads(_test(project, env, "--json").stdout)
    assert as_json["error"] == "UnboundTasks"
    assert as_json["unbound"] == [
        {"element_id": "Task_Pay", "name": "Pay order", "scenarios": ["S01 Basket full → Paid"]}
    ]
    assert sut.requests == 0


def test_test_with_allow_unbound_runs_until_the_unbound_task_errs(
    project: dict[str, Path], env: dict[str, str], sut: Sut
) -> None:
    done = _test(project, env, "--allow-unbound", "--json")
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["counts"] == {"ERROR": 1}
    assert result["unbound"] == ["Task_Pay"]
    assert sut.requests == 2  # create and read; pay has no binding


def test_allow_unbound_in_the_project_file_runs_it_too(
    project: dict[str, Path], env: dict[str, str], sut: Sut
) -> None:
    folder = project["model"].parent
    (folder / "orchestra.yaml").write_text(
        "models: [checkout.bpmn]\nbindings: bindings.yaml\nenv: environment.yaml\n"
        "data: people.csv\nrows: [0]\nallow_unbound: true\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [*orchestra_command(), "test", "--json"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["counts"] == {"ERROR": 1}
    assert sut.requests == 2


def orchestra_command() -> list[str]:
    return [sys.executable, "-m", "orchestra"]


def test_run_refuses_unbound_tasks_unless_allowed(
    project: dict[str, Path], env: dict[str, str], sut: Sut
) -> None:
    assert orchestra("import", str(project["model"]), env=env).returncode == 0
    assert orchestra("env", "apply", str(project["env"]), env=env).returncode == 0
    generated = orchestra("generate", "checkout", "--bindings", str(project["bindings"]), env=env)
    assert generated.returncode == 0, generated.stderr

    assert orchestra("dataset", "import", "people", str(project["data"]), env=env).returncode == 0
    where = ("--env", "shop-local", "--data-set", "people")
    refused = orchestra("run", "checkout", *where, "--wait", "--json", env=env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    error = json.loads(refused.stdout)
    assert error["error"] == "UnboundTasks"
    assert [task["element_id"] for task in error["unbound"]] == ["Task_Pay"]
    assert "Task_Pay ('Pay order')" in error["message"]
    assert "--allow-unbound" in error["message"]
    assert sut.requests == 0
    listed = json.loads(orchestra("status", "--json", env=env).stdout)
    assert listed["suite_runs"] == []  # nothing was created

    allowed = orchestra("run", "checkout", *where, "--wait", "--allow-unbound", "--json", env=env)
    assert allowed.returncode == 1, allowed.stderr
    assert json.loads(allowed.stdout)["counts"] == {"ERROR": 2, "FAILED": 1}  # Bob: LOST
    assert sut.requests == 6


# Task_Read reads a value no step saves (a typo for order_id), Task_Pay a suite value no
# scenario exports.
MISSPELT = BINDINGS.replace(
    'path: "/orders/{{ vars.order_id }}"}', 'path: "/orders/{{ vars.orderId }}"}'
).replace("/pay", "/pay?by={{ suite.payer }}")
READ_WARNING = (
    "S01 Basket full → Paid, step 2 Task_Read (Read order): action.path reads vars.orderId,"
    " but no earlier step on its path saves it"
)
PAY_WARNING = (
    "S01 Basket full → Paid, step 3 Task_Pay (Pay order): action.path reads suite.payer, but"
    " no scenario it depends on exports it, nor an earlier step"
)


def test_generate_and_test_warn_of_variables_read_before_anything_provides_them(
    project: dict[str, Path], env: dict[str, str], sut: Sut
) -> None:
    project["bindings"].write_text(MISSPELT, encoding="utf-8")
    assert orchestra("import", str(project["model"]), env=env).returncode == 0
    generated = orchestra("generate", "checkout", "--bindings", str(project["bindings"]), env=env)
    assert generated.returncode == 0, generated.stderr
    shown = " ".join(generated.stdout.split())
    assert f"warning: {READ_WARNING}" in shown
    assert f"warning: {PAY_WARNING}" in shown
    as_json = orchestra(
        "generate", "checkout", "--bindings", str(project["bindings"]), "--json", env=env
    )
    assert json.loads(as_json.stdout)["unset_variables"][0] == {
        "scenario": "S01 Basket full → Paid",
        "step": 2,
        "element_id": "Task_Read",
        "name": "Read order",
        "field": "action.path",
        "variable": "vars.orderId",
    }

    tested = _test(project, env)
    assert tested.returncode == 1
    assert READ_WARNING in " ".join(tested.stderr.split())
    assert "vars.orderId is undefined" in tested.stdout
    result = json.loads(_test(project, env, "--json").stdout)
    assert [read["variable"] for read in result["unset_variables"]] == [
        "vars.orderId",
        "suite.payer",
    ]
