"""`orchestra db` against an embedded server, or the server ORCHESTRA_DATABASE_URL names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def orchestra(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestra", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRA_")}
    env["PYTHONPATH"] = str(Path(__file__).parents[2] / "src")
    return {**env, **extra}


@pytest.fixture
def empty_home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def stop_embedded(home: Path) -> None:
    """The embedded server outlives commands on purpose; the test stops it."""
    data = str(home / "pgdata")
    code = f"import pgserver; pgserver.get_server({data!r}, cleanup_mode='stop').cleanup()"
    subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, check=False)


def test_upgrade_then_status_on_an_empty_home_starts_the_embedded_server(empty_home: Path) -> None:
    env = clean_env(ORCHESTRA_HOME=str(empty_home))
    try:
        upgraded = orchestra("db", "upgrade", "--json", env=env)
        assert upgraded.returncode == 0, upgraded.stderr
        assert json.loads(upgraded.stdout)["changed"] is True
        again = orchestra("db", "upgrade", "--json", env=env)
        assert json.loads(again.stdout)["changed"] is False
        status = orchestra("db", "status", "--json", env=env)
        assert status.returncode == 0, status.stderr
        described = json.loads(status.stdout)
        assert described["server"] == "embedded"
        assert described["current"] is True
        assert (empty_home / "pgdata" / "PG_VERSION").exists()
    finally:
        stop_embedded(empty_home)


def test_with_a_database_url_the_named_server_is_used_and_none_is_started(
    empty_home: Path, database_url: str
) -> None:
    env = clean_env(ORCHESTRA_HOME=str(empty_home), ORCHESTRA_DATABASE_URL=database_url)
    status = orchestra("db", "status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["server"] == "external"
    assert not (empty_home / "pgdata").exists()


def test_an_unreachable_server_is_a_clear_error_not_a_traceback(empty_home: Path) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    status = orchestra("db", "status", env=env)
    assert status.returncode == 1
    assert "cannot connect to PostgreSQL" in status.stderr
    assert "Traceback" not in status.stderr
