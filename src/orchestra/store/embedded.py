"""The embedded PostgreSQL: a server whose data lives in `$ORCHESTRA_HOME/pgdata`.

Started on first use, reused by later commands (it keeps running after a command exits), and
reached through a Unix socket inside its data directory, so two homes never collide: no TCP
port is opened. The binaries come from the `pgserver` wheel; where it has no wheel (Python
3.13+), `initdb` and `pg_ctl` found on the PATH are used instead.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg

from orchestra.errors import ConfigurationError

DATABASE = "orchestra"


def embedded_database_url(home: Path) -> str:
    """Start (or find running) the embedded server under `home`; return its database URL."""
    home.mkdir(parents=True, exist_ok=True)
    base = _start_server(home / "pgdata")
    _ensure_database(base)
    return base.replace("/postgres?", f"/{DATABASE}?", 1)


def _start_server(data: Path) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError:
        return _start_from_path(data)
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            server = pgserver.get_server(data, cleanup_mode=None)  # type: ignore[attr-defined]
    except Exception as exc:  # pgserver raises bare exceptions with the server log
        raise ConfigurationError(
            f"could not start the embedded PostgreSQL in {data}: {exc}. "
            "Set ORCHESTRA_DATABASE_URL to use an existing server instead."
        ) from exc
    return str(server.get_uri())


def _start_from_path(data: Path) -> str:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise ConfigurationError(
            "no embedded PostgreSQL for this Python (the pgserver wheel exists for 3.9-3.12) and "
            "no initdb/pg_ctl on the PATH: install PostgreSQL (e.g. apt-get install postgresql) "
            "or set ORCHESTRA_DATABASE_URL"
        )
    if not (data / "PG_VERSION").exists():
        subprocess.run(
            [initdb, "-D", str(data), "-U", "postgres", "--auth=trust"],
            check=True,
            capture_output=True,
        )
    if not (data / "postmaster.pid").exists():
        options = f"-c listen_addresses='' -c unix_socket_directories='{data}'"
        subprocess.run(
            [pg_ctl, "-D", str(data), "-w", "-o", options, "-l", str(data / "server.log"), "start"],
            check=True,
            capture_output=True,
        )
    return f"postgresql://postgres:@/postgres?host={quote(str(data))}"


def _ensure_database(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        if exists.fetchone() is None:
            # another command may create it at the same moment
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(f'CREATE DATABASE "{DATABASE}"')
