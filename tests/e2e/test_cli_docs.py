"""docs/cli.md's session, line by line, against the bundled example's service: names and
`latest` thread the commands together, `run --rerun-failed` runs the planted defect's two
failed runs again, and each line exits as its comment says."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
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

DOCS = Path(__file__).parents[2] / "docs" / "cli.md"


def session() -> list[tuple[str, int]]:
    """The lines of the `sh` block, each with the exit code its comment says (0 without)."""
    (block,) = re.findall(r"```sh\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    lines = []
    for line in block.splitlines():
        command, _, comment = line.partition("#")
        code = re.match(r"\s*exit (\d+)", comment)
        lines.append((command.strip(), int(code.group(1)) if code else 0))
    return lines


def folder(tmp_path: Path, base_url: str) -> Path:
    """The example's files, the SUT's URL written in, and `orchestra` on the PATH."""
    work = tmp_path / "work"
    work.mkdir()
    for name in (PROCESS_FILE, BINDINGS_FILE, DATASET_FILE):
        shutil.copy(example_path(name), work / name)
    (work / "environment.yaml").write_text(environment_text(base_url))
    shim = tmp_path / "bin" / "orchestra"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m orchestra "$@"\n')
    shim.chmod(0o755)
    return work


@pytest.mark.slow
def test_the_documented_session_runs_and_reruns_the_failures(
    database_url: str, tmp_path: Path
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url, **{TOKEN_VARIABLE: "docs-token"})
    env["PATH"] = f"{tmp_path / 'bin'}:{env['PATH']}"
    outputs = {}
    with example_sut_in_thread(token="docs-token") as base_url:
        work = folder(tmp_path, base_url)
        for line, code in session():
            done = subprocess.run(
                ["/bin/sh", "-c", line],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == code, (line, done.stdout, done.stderr)
            outputs[line] = done.stdout
        rerun = orchestra("status", "latest", "--json", env=env)

    again = json.loads(rerun.stdout)
    assert again["counts"] == {"FAILED": EXPECTED["failed"]}  # just the failed runs
    assert "runs again the 2 failed runs of suite run" in "".join(outputs.values())
    assert "EndEvent_OrderCancelled" in (work / "report.xml").read_text()
    assert any("order_fulfilment" in out and PROCESS_FILE in out for out in outputs.values())
