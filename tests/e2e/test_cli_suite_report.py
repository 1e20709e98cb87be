"""`orchestra report --suite`: a suite's coverage page from the command line, before any run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import html as lxml_html

from orchestra.cli import main
from tests.e2e.conftest import clean_env, orchestra
from tests.support.coverage_suite import REFUND_BINDINGS, REFUND_BPMN


def test_the_coverage_page_of_a_generated_suite_is_written_and_summarised(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    (tmp_path / "refund.bpmn").write_bytes(REFUND_BPMN)
    (tmp_path / "bindings.yaml").write_text(REFUND_BINDINGS)
    imported = orchestra("import", str(tmp_path / "refund.bpmn"), env=env)
    assert imported.returncode == 0, imported.stderr
    generated = orchestra(
        "generate", "Refund", "--coverage", "all-nodes",
        "--bindings", str(tmp_path / "bindings.yaml"), "--json", env=env,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    suite = json.loads(generated.stdout)["suite"]
    page = tmp_path / "coverage.html"

    done = orchestra("report", "--suite", str(suite), "-o", str(page), "--json", env=env)

    assert done.returncode == 0, done.stderr
    written = json.loads(done.stdout)
    assert written["path"] == str(page)
    assert (written["suite"], written["format"], written["scenarios"]) == (suite, "html", 2)
    shown = orchestra("suites", "show", str(suite), env=env)  # its steps by id and name
    assert "1 ACTION    Task_Check 'Check claim'" in shown.stdout, shown.stderr
    assert written["coverage"]["flows_covered"] == 8
    assert written["coverage"]["flows_total"] == 9
    assert written["elements"]["flow"]["not-covered"] == 1
    assert written["unbound"] == ["Task_Notify"]
    document = lxml_html.fromstring(page.read_text(encoding="utf-8"))
    assert document.xpath("//svg//g[@data-element='Flow_Skip']/@data-coverage") == ["not-covered"]
    monkeypatch.setenv("ORCHESTRA_DATABASE_URL", database_url)
    assert run_main(capsys, "report", "--suite", str(suite), "-o", str(page))[1].splitlines() == [
        f"suite {suite} coverage page written to {page}",
        "2 scenarios, flows 8/9, nodes 8/8, 1 unbound",
    ]


# the refusals in process, through the same entry point (a subprocess each would take seconds)
def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    code = exited.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().out


def test_a_suite_page_is_asked_for_one_way(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (
        ("report",),
        ("report", "1", "--suite", "1"),
        ("report", "--suite", "1", "--format", "junit"),
    ):
        code, out = run_main(capsys, *args, "--json")
        assert code == 2, args
        assert json.loads(out)["error"] == "UsageError", args


def test_the_page_of_a_missing_suite_is_refused_naming_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ORCHESTRA_DATABASE_URL", database_url)

    code, out = run_main(capsys, "report", "--suite", "4242", "--json")

    assert code == 1
    refusal = json.loads(out)
    assert refusal.pop("hint").startswith("looked in the database ")
    assert refusal == {
        "error": "NotFound",
        "message": "no suite 4242",
        "kind": "suite",
        "reference": 4242,
    }
