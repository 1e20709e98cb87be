"""The embedded PostgreSQL: a server whose data lives in `$ORCHESTRA_HOME/pgdata`.

Started on first use, reused by later commands (it keeps running after a command exits), and
reached through a Unix socket inside its data directory, so two homes never collide: no TCP
port is opened. The binaries come from the `pgserver` wheel; where it has no wheel (Python
3.13+), PostgreSQL's own `initdb` and `pg_ctl` are used instead (on the PATH, or where the
distributions install them), as an ordinary user: PostgreSQL does not run as root.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
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
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder should be, no permission, read-only
        why = "is a file" if isinstance(exc, FileExistsError) else str(exc.strerror or exc).lower()
        raise ConfigurationError(
            f"ORCHESTRA_HOME {home} cannot hold the embedded PostgreSQL's data: {exc.filename} "
            f"{why}. "
            "Set ORCHESTRA_HOME to a folder you can write, "
            "or ORCHESTRA_DATABASE_URL to use an existing server."
        ) from exc
    base = _running_server(home / "pgdata")
    if base is None:
        base = _start_server(home / "pgdata")
        _ensure_database(base)
    return base.replace("/postgres?", f"/{DATABASE}?", 1)


def _running_server(data: Path) -> str | None:
    """The URL of the server already running in `data`, found from its `postmaster.pid` without
    importing pgserver (a tenth of a second a command); None when there is none to reach."""
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    # postmaster.pid: pid, data directory, start time, port, socket directory, host, shmem, status
    if len(lines) < 8 or lines[7].strip() != "ready" or not lines[4].strip():
        return None
    url = f"postgresql://postgres:@/postgres?host={quote(lines[4].strip())}"
    try:
        _ensure_database(url)
    except psycopg.OperationalError:  # a file left by a crash or a reboot: pgserver starts it
        return None
    return url


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


def _start_from_path(data: Path, installed: tuple[str, ...] | None = None) -> str:
    """The server from PostgreSQL's own `initdb` and `pg_ctl`: on the PATH, else where the
    distributions install them (`installed`: Debian's /usr/lib/postgresql/N/bin is not on the
    PATH)."""
    installed = INSTALLED if installed is None else installed
    initdb, pg_ctl = _binary("initdb", installed), _binary("pg_ctl", installed)
    if initdb is None or pg_ctl is None:
        raise ConfigurationError(
            "no embedded PostgreSQL for this Python (the pgserver wheel exists for 3.9-3.12) and "
            "no initdb/pg_ctl on the PATH or in /usr/lib/postgresql/*/bin: install the "
            "PostgreSQL server (e.g. apt-get install postgresql) or set ORCHESTRA_DATABASE_URL"
        )
    if os.geteuid() == 0:
        raise ConfigurationError(
            f"PostgreSQL refuses to run as root, so {pg_ctl} cannot start the embedded server: "
            "run orchestra as an ordinary user or set ORCHESTRA_DATABASE_URL"
        )
    if not (data / "PG_VERSION").exists():
        _run(data, [initdb, "-D", str(data), "-U", "postgres", "--auth=trust"])
    # Not running (status 3), or a postmaster.pid left by a crash or a reboot: postgres itself
    # tells a stale pid file from a live server when it starts.
    status = subprocess.run([pg_ctl, "-D", str(data), "status"], capture_output=True, check=False)
    if status.returncode != 0:
        options = f"-c listen_addresses='' -c unix_socket_directories='{data}'"
        log = str(data / "server.log")
        _run(data, [pg_ctl, "-D", str(data), "-w", "-o", options, "-l", log, "start"])
    return f"postgresql://postgres:@/postgres?host={quote(str(data))}"


def _binary(name: str, installed: tuple[str, ...]) -> str | None:
    found = shutil.which(name)
    if found is not None:
        return found
    for pattern in installed:
        candidates = sorted(glob.glob(pattern.format(name=name)), key=_version, reverse=True)
        if candidates:
            return candidates[0]
    return None


INSTALLED = (
    "/usr/lib/postgresql/*/bin/{name}",  # Debian, Ubuntu
    "/usr/pgsql-*/bin/{name}",  # RHEL, Fedora (PGDG)
    "/opt/homebrew/opt/postgresql@*/bin/{name}",  # macOS, Homebrew
    "/usr/local/opt/postgresql@*/bin/{name}",
)


def _version(path: str) -> tuple[int, ...]:
    """The newest installed server first: 16 above 9.6, by the numbers in its path."""
    return tuple(int(part) for part in re.findall(r"\d+", path))


def _run(data: Path, command: list[str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        said = getattr(exc, "stderr", None) or str(exc)
        log = data / "server.log"
        more = f" (its log: {log})" if log.exists() else ""
        raise ConfigurationError(
            f"could not start the embedded PostgreSQL in {data}: {Path(command[0]).name} "
            f"failed: {said.strip()}{more}. Set ORCHESTRA_DATABASE_URL to use an existing "
            "server instead."
        ) from exc


def _ensure_database(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        if exists.fetchone() is None:
            # another command may create it at the same moment
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(f'CREATE DATABASE "{DATABASE}"')
