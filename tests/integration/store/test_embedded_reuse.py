"""A running embedded server is found from its postmaster.pid; a stale file is not trusted.

(Reusing a running one without importing pgserver: tests/e2e/test_startup_imports.py.)"""

from __future__ import annotations

from pathlib import Path

from orchestra.store.embedded import _running_server


def _pid_file(data: Path, socket_dir: Path, status: str = "ready") -> None:
    data.mkdir()
    lines = ["4242", str(data), "1700000000", "5432", str(socket_dir), "", "1 2", status]
    (data / "postmaster.pid").write_text("\n".join(lines) + "\n")


def test_a_pid_file_left_by_a_crash_is_not_taken_for_a_running_server(tmp_path: Path) -> None:
    nobody_listens = tmp_path / "socket"
    nobody_listens.mkdir()
    _pid_file(tmp_path / "pgdata", nobody_listens)
    assert _running_server(tmp_path / "pgdata") is None


def test_a_server_still_starting_or_no_pid_file_is_left_to_pgserver(tmp_path: Path) -> None:
    _pid_file(tmp_path / "pgdata", tmp_path, status="starting")
    assert _running_server(tmp_path / "pgdata") is None
    assert _running_server(tmp_path / "elsewhere") is None
