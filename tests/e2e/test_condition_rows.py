"""A data row that contradicts a scenario's path: a warning at `generate`, the run SKIPPED with
the reason (the suite run still passes), and run anyway with --force-rows."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import clean_env, orchestra
from tests.e2e.test_condition_data import BINDINGS, MODEL, RoutingService
from tests.support.linear_project import environment, sut_in_thread

ROWS = "- {amount: 5000}\n"  # over 1000: only the Review branch can take it


@pytest.fixture
def service() -> RoutingService:
    return RoutingService()


@pytest.fixture
def project(tmp_path: Path, service: RoutingService) -> Iterator[dict[str, Path]]:
    with sut_in_thread(service) as base_url:
        files = {
            "model": tmp_path / "routing.bpmn",
            "bindings": tmp_path / "bindings.yaml",
            "env": tmp_path / "environment.yaml",
            "data": tmp_path / "big.yaml",
            "junit": tmp_path / "junit.xml",
        }
        files["model"].write_text(MODEL, encoding="utf-8")
        files["bindings"].write_text(BINDINGS, encoding="utf-8")
        files["env"].write_text(environment(base_url), encoding="utf-8")
        files["data"].write_text(ROWS, encoding="utf-8")
        yield files


def _test(project: dict[str, Path], database_url: str, *more: str) -> tuple[int, dict[str, Any]]:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    args = ["--bindings", str(project["bindings"]), "--env", str(project["env"])]
    args += ["--data", str(project["data"]), "--junit", str(project["junit"]), "--json"]
    done = orchestra("test", str(project["model"]), *args, *more, env=env)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout)


def test_a_row_contradicting_a_path_skips_that_run_and_the_suite_run_passes(
    project: dict[str, Path], service: RoutingService, database_url: str
) -> None:
    code, result = _test(project, database_url)
    assert code == 0
    assert result["status"] == "PASSED"
    assert result["counts"] == {"PASSED": 1, "SKIPPED": 2}
    assert [o["route"] for o in service.orders.values()] == ["review"]
    warned = {(c["flow"], c["condition"]) for c in result["row_conflicts"]}
    assert warned == {("Review", "not = amount > 1000")}
    assert all(c["row"] == 0 and c["values"] == {"amount": 5000} for c in result["row_conflicts"])
    skipped = ET.parse(project["junit"]).getroot().findall(".//skipped")
    assert len(skipped) == 2
    assert all("data row 0 contradicts the path of" in s.attrib["message"] for s in skipped)
    assert all("= amount > 1000 (Review) is false with amount = 5000" in s.attrib["message"]
               for s in skipped)  # fmt: skip


def test_force_rows_runs_a_contradicting_row_anyway(
    project: dict[str, Path], service: RoutingService, database_url: str
) -> None:
    code, result = _test(project, database_url, "--force-rows")
    assert code == 1
    assert result["counts"] == {"PASSED": 1, "FAILED": 2}  # the service reviews all three
    assert [o["route"] for o in service.orders.values()] == ["review"] * 3


def test_generate_warns_of_the_rows_that_contradict_a_path(
    project: dict[str, Path], database_url: str
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    assert orchestra("import", str(project["model"]), env=env).returncode == 0
    args = ["--bindings", str(project["bindings"]), "--data-set", str(project["data"])]
    done = orchestra("generate", "routing", *args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if "contradicts" in line]
    assert len(lines) == 2
    assert all("(Review) is false with amount = 5000" in line for line in lines)


def test_run_skips_a_contradicting_row_unless_force_rows(
    project: dict[str, Path], database_url: str
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    assert orchestra("import", str(project["model"]), env=env).returncode == 0
    bindings = ["--bindings", str(project["bindings"])]
    assert orchestra("generate", "routing", *bindings, env=env).returncode == 0
    assert orchestra("dataset", "import", "big", str(project["data"]), env=env).returncode == 0
    counts = []
    for more in ((), ("--force-rows",)):
        done = orchestra("run", "routing", "--data-set", "big", *more, "--json", env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        counts.append(json.loads(done.stdout)["counts"])
    assert counts == [{"QUEUED": 1, "SKIPPED": 2}, {"QUEUED": 3}]
