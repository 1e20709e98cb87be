"""`orchestra import`, `processes list` and `processes show` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.e2e.conftest import clean_env
from tests.unit.bpmn.documents import LINEAR, ORDER_BPMN, process


def orchestra(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestra", *args],
        env=clean_env(ORCHESTRA_DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    written = {
        "order": ORDER_BPMN,
        "changed": ORDER_BPMN.replace(b"Check order", b"Check the order"),
        "broken": process(LINEAR + '<sequenceFlow id="F9" sourceRef="T" targetRef="Gone"/>'),
        "hostile": b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/hostname">]><d>&x;</d>',
        "orphan": process(
            LINEAR + '<task id="Orphan"/><sequenceFlow id="F3" sourceRef="Orphan" targetRef="E"/>'
        ),
    }
    for name, data in written.items():
        (tmp_path / f"{name}.bpmn").write_bytes(data)
    return {name: tmp_path / f"{name}.bpmn" for name in written}


def rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM process").fetchone()
    assert row is not None
    return int(row[0])


def test_import_is_idempotent_and_a_change_is_a_new_version(
    database_url: str, files: dict[str, Path]
) -> None:
    first = orchestra("import", str(files["order"]), "--json", url=database_url)
    assert first.returncode == 0, first.stderr
    (imported,) = json.loads(first.stdout)["imported"]
    assert imported["processes"][0] | {"checksum": "-", "counts": {}} == {
        "key": "Order", "version": 1, "name": "Order handling", "created": True,
        "checksum": "-", "counts": {},
    }  # fmt: skip
    again = json.loads(orchestra("import", str(files["order"]), "--json", url=database_url).stdout)
    assert again["imported"][0]["processes"][0]["created"] is False
    changed = orchestra("import", str(files["changed"]), url=database_url)
    assert changed.returncode == 0
    assert "Order v2 (new)" in changed.stdout
    assert rows(database_url) == 2


def test_a_refused_file_exits_1_prints_its_problems_and_stores_nothing(
    database_url: str, files: dict[str, Path]
) -> None:
    result = orchestra("import", str(files["broken"]), str(files["hostile"]), url=database_url)
    assert result.returncode == 1
    assert "refused" in result.stdout
    assert "dangling-flow" in result.stdout
    assert "'Gone'" in result.stdout
    assert "DOCTYPE declarations are not accepted" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert rows(database_url) == 0


def test_good_files_are_kept_when_another_is_refused_and_json_says_which(
    database_url: str, files: dict[str, Path]
) -> None:
    result = orchestra(
        "import", str(files["order"]), str(files["broken"]), "--json", url=database_url
    )
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert [done["file"] for done in payload["imported"]] == [str(files["order"])]
    (refused,) = payload["refused"]
    assert refused["code"] == "invalid-model"
    assert [p["code"] for p in refused["problems"] if p["severity"] == "error"] == ["dangling-flow"]
    assert rows(database_url) == 1


def test_strict_refuses_a_model_only_partly_testable_that_is_otherwise_a_warning(
    database_url: str, files: dict[str, Path]
) -> None:
    strict = orchestra("import", str(files["orphan"]), "--strict", "--json", url=database_url)
    assert strict.returncode == 1
    (refused,) = json.loads(strict.stdout)["refused"]
    errors = [(p["code"], p["element_id"]) for p in refused["problems"] if p["severity"] == "error"]
    assert errors == [("unreachable-node", "Orphan")]
    assert rows(database_url) == 0
    lenient = orchestra("import", str(files["orphan"]), "--json", url=database_url)
    assert lenient.returncode == 0
    (imported,) = json.loads(lenient.stdout)["imported"]
    assert [w["code"] for w in imported["warnings"]] == ["unreachable-node"]
    assert rows(database_url) == 1


def test_usage_errors_exit_2(database_url: str, tmp_path: Path) -> None:
    assert orchestra("import", url=database_url).returncode == 2
    assert orchestra("import", str(tmp_path / "missing.bpmn"), url=database_url).returncode == 2
    assert orchestra("processes", "show", "X", "--version", "0", url=database_url).returncode == 2


def test_list_and_show_summarise_the_stored_versions(
    database_url: str, files: dict[str, Path]
) -> None:
    orchestra("import", str(files["order"]), str(files["changed"]), url=database_url)
    listed = orchestra("processes", "list", "--json", url=database_url)
    assert listed.returncode == 0, listed.stderr
    (latest,) = json.loads(listed.stdout)["processes"]
    assert (latest["key"], latest["version"]) == ("Order", 2)
    shown = orchestra("processes", "show", "Order", "--version", "1", "--json", url=database_url)
    described = json.loads(shown.stdout)
    assert (described["version"], described["counts"]["boundaryEvent"]) == (1, 2)
    timers = [e for e in described["events"] if e["id"] == "Check_Timeout"]
    assert timers[0]["details"] == [{"kind": "timer", "timer": "timeDuration", "expression": "P1D"}]
    human = orchestra("processes", "show", "Order", url=database_url)
    assert "boundaryEvent" in human.stdout
    assert "timer timeDuration P1D" in human.stdout
    assert "message Msg_Order 'order'" in human.stdout
    assert "userTask 1" in human.stdout
    assert "Order version 2" in human.stdout
    missing = orchestra("processes", "show", "Order", "--version", "7", "--json", url=database_url)
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["error"] == "NotFound"
