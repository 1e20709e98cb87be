"""`orchestra demo` on a fresh home: the embedded PostgreSQL, the example SUT, every report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from junitparser import JUnitXml

from orchestra.examples.order import EXPECTED
from tests.e2e.conftest import clean_env, orchestra, stop_embedded


@pytest.mark.slow
def test_the_demo_runs_end_to_end_and_shows_the_planted_failure(home_root: Path) -> None:
    home = home_root / "home"
    out = home_root / "reports"
    env = clean_env(ORCHESTRA_HOME=str(home))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "orchestra", "demo", "--json", "-o", str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    finally:
        stop_embedded(home)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["server"] == "embedded"
    assert result["scenarios"] == EXPECTED["scenarios"]
    assert result["counts"] == {"PASSED": EXPECTED["passed"], "FAILED": EXPECTED["failed"]}
    assert result["coverage"]["flows_covered"] == result["coverage"]["flows_total"] == 17
    assert {f["element_id"] for f in result["failures"]} == {EXPECTED["failed_at"]}
    cases = [case for suite in JUnitXml.fromfile(result["reports"]["junit"]) for case in suite]
    assert len(cases) == EXPECTED["test_runs"]
    document = json.loads(Path(result["reports"]["json"]).read_text())
    assert document["report"]["suite_run"]["status"] == "FAILED"
    assert "<svg" in Path(result["reports"]["html"]).read_text()
    assert 'data-coverage="covered"' in Path(result["reports"]["coverage"]).read_text()


def test_a_report_folder_that_cannot_be_made_exits_2_before_anything_starts(
    tmp_path: Path,
) -> None:
    a_file = tmp_path / "reports"
    a_file.write_text("not a folder")
    home = tmp_path / "home"

    done = orchestra(
        "demo", "-o", str(a_file / "demo"), "--json", env=clean_env(ORCHESTRA_HOME=str(home))
    )

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert json.loads(done.stdout)["message"] == (
        f"cannot write the demo's reports to {a_file / 'demo'}: Not a directory"
    )
    assert not home.exists()  # no embedded server was started for it
