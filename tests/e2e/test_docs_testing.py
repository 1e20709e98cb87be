"""docs/testing.md as a reader follows it: its project file loads, its commands run against a
real service, and the failure line it shows is the one `orchestra test` prints."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from orchestra.project import load_project
from tests.e2e.conftest import clean_env
from tests.support.linear_project import Sut, sut_in_thread, write_project

DOC = Path(__file__).parents[2] / "docs" / "testing.md"


def _blocks(language: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def _orchestra(folder: Path, line: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    args = shlex.split(line)
    assert args[0] == "orchestra", line
    return subprocess.run(
        [sys.executable, "-m", "orchestra", *args[1:]],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_project_file_of_the_docs_is_valid(tmp_path: Path) -> None:
    (block,) = _blocks("yaml")
    config = tmp_path / "orchestra.yaml"
    config.write_text(block, encoding="utf-8")
    project = load_project(config)
    assert project.rows == [0, 2]
    assert project.reports.junit == str(tmp_path / "out" / "junit.xml")


def test_every_command_of_the_docs_runs_and_the_failure_line_is_the_one_shown(
    tmp_path: Path, database_url: str
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    folder = tmp_path / "shop"
    with sut_in_thread(Sut()) as base_url:
        write_project(folder, base_url)
        (folder / "orchestra.yaml").write_text(_blocks("yaml")[0], encoding="utf-8")
        lines = [line for block in _blocks("sh") for line in block.splitlines() if line]
        assert lines[0].startswith("orchestra test checkout.bpmn")
        for line in lines:
            done = _orchestra(folder, line, env)
            wanted = 1 if "--row 1" in line else 0
            assert done.returncode == wanted, (line, done.stdout, done.stderr)
        assert (folder / "out" / "junit.xml").is_file()
        assert (folder / "out" / "report.html").is_file()
        shown = _orchestra(folder, "orchestra test --row 1", env)
    (failure_line,) = _blocks("text")
    assert failure_line.strip() in shown.stdout


def test_a_refused_binding_file_exits_1_naming_its_line_and_runs_nothing(
    tmp_path: Path, database_url: str
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    folder = tmp_path / "shop"
    with sut_in_thread(Sut()) as base_url:
        files = write_project(folder, base_url)
        bindings = files["bindings"].read_text(encoding="utf-8")
        files["bindings"].write_text(bindings.replace("tasks:", "tasks:\n  Task_Nowhere: {}", 1))
        done = _orchestra(
            folder,
            "orchestra test checkout.bpmn --bindings bindings.yaml --env environment.yaml",
            env,
        )
        runs = _orchestra(folder, "orchestra status --json", env)

    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "bindings.yaml:" in done.stderr
    assert "Task_Nowhere" in done.stderr
    assert '"suite_runs": []' in runs.stdout
