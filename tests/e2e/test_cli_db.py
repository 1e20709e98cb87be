"""`orchestra db` against an embedded server, or the server ORCHESTRA_DATABASE_URL names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.e2e.conftest import clean_env, orchestra, stop_embedded


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
    assert status.returncode == 2  # a configuration error
    assert "cannot connect to PostgreSQL" in status.stderr
    assert "Traceback" not in status.stderr


def test_two_homes_at_once_get_two_servers_that_do_not_collide(home_root: Path) -> None:
    homes = [home_root / "one", home_root / "two"]
    try:
        started = [
            subprocess.Popen(
                [sys.executable, "-m", "orchestra", "db", "upgrade", "--json"],
                env=clean_env(ORCHESTRA_HOME=str(home)),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for home in homes
        ]
        outputs = [process.communicate(timeout=120) for process in started]
        assert [p.returncode for p in started] == [0, 0], [err for _, err in outputs]
        urls = {json.loads(out)["url"] for out, _ in outputs}
        assert len(urls) == 2  # each home has its own server, on its own socket
        for home in homes:
            assert (home / "pgdata" / "PG_VERSION").exists()
    finally:
        for home in homes:
            stop_embedded(home)


def test_a_home_that_is_a_file_or_under_one_exits_2_naming_it(tmp_path: Path) -> None:
    a_file = tmp_path / "home"
    a_file.write_text("not a folder")

    on_file = orchestra("db", "status", "--json", env=clean_env(ORCHESTRA_HOME=str(a_file)))
    under_file = orchestra("status", env=clean_env(ORCHESTRA_HOME=str(a_file / "sub")))

    assert (on_file.returncode, under_file.returncode) == (2, 2)
    assert "Traceback" not in on_file.stderr + under_file.stderr
    refusal = json.loads(on_file.stdout)
    assert refusal["error"] == "ConfigurationError"
    assert refusal["message"].startswith(f"ORCHESTRA_HOME {a_file} cannot hold the embedded")
    assert f"{a_file} is a file" in refusal["message"]
    assert f"{a_file / 'sub'} not a directory" in under_file.stderr


def test_text_like_console_markup_in_a_printed_value_is_printed_as_it_is(database_url: str) -> None:
    if "://" in database_url:  # a URL, or a conninfo string as the test server gives
        separator = "&" if "?" in database_url else "?"
        url = f"{database_url}{separator}application_name=%5B/x%5D%5Bred%5D"
    else:
        url = f"{database_url} application_name=[/x][red]"

    status = orchestra("db", "status", env=clean_env(ORCHESTRA_DATABASE_URL=url))

    assert status.returncode == 0, status.stderr
    assert "application_name=[/x][red]" in status.stdout


def test_status_on_a_fresh_home_starts_the_server_and_exits_0_saying_the_schema_comes_next(
    empty_home: Path,
) -> None:
    env = clean_env(ORCHESTRA_HOME=str(empty_home))
    try:
        status = orchestra("db", "status", "--json", env=env)
        said = orchestra("db", "status", env=env)
    finally:
        stop_embedded(empty_home)
    assert status.returncode == 0, status.stderr
    described = json.loads(status.stdout)
    assert (described["server"], described["revision"], described["schema"]) == (
        "embedded",
        None,
        "empty",
    )
    assert said.returncode == 0, said.stderr
    assert "schema:   empty: created on first use (or now by `orchestra db upgrade`)" in said.stdout


def test_stop_stops_the_embedded_server_and_the_next_command_starts_it_again(
    empty_home: Path,
) -> None:
    env = clean_env(ORCHESTRA_HOME=str(empty_home))
    data = empty_home / "pgdata"
    try:
        assert orchestra("db", "upgrade", env=env).returncode == 0
        pid = int((data / "postmaster.pid").read_text().split()[0])

        stopped = orchestra("db", "stop", "--json", env=env)
        again = orchestra("db", "stop", env=env)
        restarted = orchestra("db", "status", "--json", env=env)
    finally:
        stop_embedded(empty_home)
    assert stopped.returncode == 0, stopped.stderr
    assert json.loads(stopped.stdout) == {
        "server": "embedded",
        "data_directory": str(data),
        "stopped": True,
    }
    assert not Path(f"/proc/{pid}").exists()
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"the embedded PostgreSQL in {data} was not running"
    assert restarted.returncode == 0, restarted.stderr
    assert json.loads(restarted.stdout)["schema"] == "current"  # the data outlived the stop


def test_stop_with_a_database_url_says_there_is_no_embedded_server_and_exits_2(
    empty_home: Path, database_url: str
) -> None:
    env = clean_env(ORCHESTRA_HOME=str(empty_home), ORCHESTRA_DATABASE_URL=database_url)
    stop = orchestra("db", "stop", "--json", env=env)
    assert stop.returncode == 2
    assert "Traceback" not in stop.stderr
    refusal = json.loads(stop.stdout)
    assert refusal["error"] == "UsageError"
    assert refusal["message"].startswith(
        "ORCHESTRA_DATABASE_URL is set, so Orchestra uses the server it names and has no "
        "embedded server to stop"
    )
    assert not (empty_home / "pgdata").exists()


def test_status_of_a_schema_a_newer_orchestra_migrated_exits_1_naming_it(
    database_url: str,
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    status = orchestra("db", "status", env=clean_env(ORCHESTRA_DATABASE_URL=database_url))
    assert status.returncode == 1, status.stderr
    assert "revision 9999, which this Orchestra does not know" in status.stdout


def test_status_of_a_schema_behind_head_exits_0_saying_first_use_upgrades_it(
    database_url: str,
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0003'")
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    status = orchestra("db", "status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["schema"] == "behind"
