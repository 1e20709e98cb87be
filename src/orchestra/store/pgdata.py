"""What a PostgreSQL data directory says about itself: the major version that made it, the
server running on it (from `postmaster.pid`), and how to stop that server.

These read files and send signals only, so they work whichever binaries made the directory:
a home of PostgreSQL 16 can be inspected and stopped by an Orchestra that bundles 18.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from orchestra.errors import ConfigurationError


def data_major(data: Path) -> int | None:
    """The major version written by initdb in `data/PG_VERSION`; None when there is none."""
    try:
        text = (data / "PG_VERSION").read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigurationError(f"cannot read {data / 'PG_VERSION'}: {exc.strerror}") from exc
    major = text.split(".")[0]  # "9.6" before PostgreSQL 10, "16" since
    if not major.isdigit():
        raise ConfigurationError(
            f"{data / 'PG_VERSION'} says {text!r}, not a PostgreSQL version: {data} is not a "
            "data directory Orchestra made; set ORCHESTRA_HOME to another folder"
        )
    return int(major)


@functools.cache
def binaries_major(pg_ctl: Path) -> int:
    """The major version of the server binaries beside `pg_ctl` ("pg_ctl (PostgreSQL) 18.6")."""
    said = subprocess.run(
        [str(pg_ctl), "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    found = re.search(r"\)\s*(\d+)", said)
    if found is None:
        raise ConfigurationError(f"{pg_ctl} --version said {said.strip()!r}: no version in it")
    return int(found.group(1))


@dataclass(frozen=True, slots=True)
class Postmaster:
    """The server `postmaster.pid` names: its process, and the socket it listens on."""

    pid: int
    socket_dir: Path
    port: int

    @property
    def url(self) -> str:
        return (
            f"postgresql://postgres:@/postgres?host={quote(str(self.socket_dir))}&port={self.port}"
        )


def running_postmaster(data: Path) -> Postmaster | None:
    """The live server of `data`, or None. A `postmaster.pid` naming another directory (the home
    was copied or moved here) or a process that is gone is stale: PostgreSQL replaces it."""
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    except OSError as exc:  # another user's home (the folder is 0700)
        raise ConfigurationError(
            f"cannot read {data / 'postmaster.pid'}: {exc.strerror}; the embedded PostgreSQL "
            "there belongs to another user: act on it as that user or as root"
        ) from exc
    if len(lines) < 5 or not lines[0].strip().isdigit():
        return None
    pid = int(lines[0])
    if Path(lines[1].strip()).resolve() != data.resolve() or not _is_postgres(pid):
        return None
    port = int(lines[3]) if lines[3].strip().isdigit() else 5432
    return Postmaster(pid=pid, socket_dir=Path(lines[4].strip() or data), port=port)


def _is_postgres(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's: a server run as its own user by root
        pass
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() in {"postgres", "postmaster"}
    except OSError:  # no /proc (macOS): trust the signal
        return True


def clear_stale_pid(data: Path) -> None:
    """Remove a `postmaster.pid` no live server of `data` wrote: a home copied from another
    machine or folder carries its old server's, which may name a live unrelated process here."""
    pid_file = data / "postmaster.pid"
    if pid_file.exists() and running_postmaster(data) is None:
        pid_file.unlink(missing_ok=True)


def stop_postmaster(data: Path, *, wait_seconds: float = 60) -> bool:
    """Stop the server running on `data` (a fast shutdown: sessions are ended, every
    committed transaction is kept); False when none was running."""
    postmaster = running_postmaster(data)
    if postmaster is None:
        return False
    try:
        os.kill(postmaster.pid, signal.SIGINT)
    except ProcessLookupError:
        return False
    except PermissionError as exc:
        raise ConfigurationError(
            f"the embedded PostgreSQL in {data} (process {postmaster.pid}) belongs to another "
            "user: stop it as that user or as root"
        ) from exc
    deadline = time.monotonic() + wait_seconds
    while _is_postgres(postmaster.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _is_postgres(postmaster.pid):
        raise ConfigurationError(
            f"the embedded PostgreSQL in {data} (process {postmaster.pid}) did not stop within "
            f"{wait_seconds:.0f} s; its log is {data / 'log'}"
        )
    return True
