"""Cold start: the CPU a command spends from process start to exit, and a worker's memory.

Measured side by side in one run, each command and its baseline in interleaved rounds
(medians printed; the machine is shared):
- `orchestra --help` against `python -c "import click, rich.console"`: target <= 3x;
- `orchestra --version` and one shell completion of a command name, against the same baseline;
- `orchestra processes list` with the embedded server already running (started by a first
  command, as a user's shell finds it), and against a server named by ORCHESTRA_DATABASE_URL:
  target <= 0.4 s of CPU;
- a worker's peak RSS (VmHWM of `orchestra worker --concurrency 32`), idle after start and
  after running `BENCH_STEPS_RUNS` 5-step HTTP scenarios against the aiohttp SUT of
  `bench_steps`: target <= 80 MB;
- the CPU `orchestra worker` spends from its start to its first claim, with PostgreSQL running
  and runs queued (the database polled every 2 ms for a run leased to its pid): target <= 0.5 s.
CPU is user + sys of the child process (and of any it waited for), from cached bytecode (in a
temporary PYTHONPYCACHEPREFIX, written by a first run) as an installed package starts.
`BENCH_STARTUP_ROUNDS` (default 7) tunes it.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg

from bench import bench_steps
from bench.support import scratch_postgres
from orchestra.store.database import Database, ServerInfo, connect_pool

ROUNDS = int(os.environ.get("BENCH_STARTUP_ROUNDS", "7"))
TARGET_RATIO = 3.0
TARGET_LIST_CPU = 0.4
TARGET_RSS_MB = 80.0
TARGET_FIRST_CLAIM_CPU = 0.5
ORCHESTRA = (sys.executable, "-m", "orchestra")
BASELINE = (sys.executable, "-c", "import click, rich.console")


def _environment(pycache: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ORCHESTRA_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    return {**env, "PYTHONPYCACHEPREFIX": str(pycache), **extra}


def cpu_seconds(command: Sequence[str], env: dict[str, str]) -> float:
    """User + sys CPU of one run of `command` (it must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def interleaved(
    commands: dict[str, tuple[Sequence[str], dict[str, str]]],
) -> dict[str, float]:
    """The median CPU of each command over ROUNDS rounds, each round running every command once
    (after one warm-up run each, which also writes the bytecode)."""
    for command, env in commands.values():
        cpu_seconds(command, env)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(ROUNDS):
        for name, (command, env) in commands.items():
            samples[name].append(cpu_seconds(command, env))
    return {name: statistics.median(values) for name, values in samples.items()}


@contextmanager
def embedded_home(pycache: Path) -> Iterator[Path]:
    """A home whose embedded server is running; stopped afterwards."""
    home = Path(tempfile.mkdtemp(prefix="orchestra-bench-home-"))
    home.chmod(0o755)  # the server runs as its own user when started by root
    env = _environment(pycache, ORCHESTRA_HOME=str(home))
    try:
        subprocess.run([*ORCHESTRA, "db", "upgrade"], env=env, check=True, capture_output=True)
        yield home
    finally:
        subprocess.run([*ORCHESTRA, "db", "stop"], env=env, capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)


def measure_commands(pycache: Path, url: str) -> dict[str, float]:
    plain = _environment(pycache)
    complete = _environment(
        pycache, _ORCHESTRA_COMPLETE="bash_complete", COMP_WORDS="orchestra ", COMP_CWORD="1"
    )
    with embedded_home(pycache) as home:
        embedded = _environment(pycache, ORCHESTRA_HOME=str(home))
        external = _environment(pycache, ORCHESTRA_DATABASE_URL=url)
        listing = (*ORCHESTRA, "processes", "list")
        return interleaved(
            {
                "python -c 'import click, rich.console'": (BASELINE, plain),
                "orchestra --help": ((*ORCHESTRA, "--help"), plain),
                "orchestra --version": ((*ORCHESTRA, "--version"), plain),
                "completion of a command name": (ORCHESTRA, complete),
                "orchestra processes list (embedded)": (listing, embedded),
                "orchestra processes list (URL)": (listing, external),
            }
        )


def worker_rss(pycache: Path, url: str, suite_id: int) -> tuple[float, float]:
    """A worker's VmHWM in MB idle after start, and after running the suite at concurrency 32."""
    env = _environment(pycache, ORCHESTRA_DATABASE_URL=url)
    command = [*ORCHESTRA, "worker", f"--concurrency={bench_steps.CONCURRENCY}"]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert worker.stderr is not None
        worker.stderr.readline()  # "worker ...: waiting for runs"
        time.sleep(1.0)
        idle = bench_steps._status_kb(worker.pid, "VmHWM") / 1024
        asyncio.run(bench_steps._watch(url, suite_id))
        loaded = bench_steps._status_kb(worker.pid, "VmHWM") / 1024
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    return idle, loaded


def first_claim_cpu(pycache: Path, url: str) -> float:
    """The CPU of one `orchestra worker` process from its start to its first claim (runs are
    queued already); the worker is stopped right after."""
    env = _environment(pycache, ORCHESTRA_DATABASE_URL=url)
    command = [*ORCHESTRA, "worker", "--concurrency=1"]
    quiet = subprocess.DEVNULL
    worker = subprocess.Popen(command, env=env, stdout=quiet, stderr=quiet)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            while worker.poll() is None:
                claimed = conn.execute(
                    "SELECT 1 FROM test_run WHERE locked_by LIKE %s LIMIT 1",
                    (f"%:{worker.pid}:%",),
                ).fetchone()
                if claimed is not None:
                    return bench_steps._cpu_seconds(worker.pid)
                time.sleep(0.002)
        raise RuntimeError(f"the worker exited {worker.returncode} before claiming anything")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)


def measure_first_claims(pycache: Path, url: str, suite_id: int) -> float:
    """The median of ROUNDS `first_claim_cpu`, after a warm-up that writes the bytecode; one
    suite run of `BENCH_STEPS_RUNS` runs keeps runs queued for every round."""

    async def start() -> None:
        async with connect_pool(url, max_size=2, upgrade=False) as pool:
            await bench_steps._start(Database(pool, ServerInfo(url=url, embedded=False)), suite_id)

    asyncio.run(start())
    first_claim_cpu(pycache, url)
    return statistics.median(first_claim_cpu(pycache, url) for _ in range(ROUNDS))


def measure_worker(pycache: Path, url: str) -> tuple[float, float, float]:
    port = bench_steps._free_port()
    base_url = f"http://127.0.0.1:{port}"
    sut = subprocess.Popen([sys.executable, "-c", bench_steps.SUT, str(port)])
    try:
        asyncio.run(bench_steps._wait_until_up(base_url))
        suite_id = asyncio.run(bench_steps.prepare(url, base_url))
        worker_rss(pycache, url, suite_id)  # warm-up: writes the bytecode
        idle, loaded = worker_rss(pycache, url, suite_id)
        return idle, loaded, measure_first_claims(pycache, url, suite_id)
    finally:
        sut.terminate()
        sut.wait(timeout=10)


def report(cpu: dict[str, float], idle: float, loaded: float, claim: float) -> None:
    base = cpu["python -c 'import click, rich.console'"]
    for name, seconds in cpu.items():
        print(f"  {name:<42} {seconds:6.3f} s CPU  {seconds / base:5.1f}x the baseline")
    ratio = cpu["orchestra --help"] / base
    print(f"  --help / baseline: {ratio:.2f}x (target <= {TARGET_RATIO:g}x)")
    listed = cpu["orchestra processes list (embedded)"]
    print(
        f"  processes list, embedded server running: {listed:.3f} s (target <= {TARGET_LIST_CPU})"
    )
    runs = f"{bench_steps.RUNS} runs x {bench_steps.STEPS} steps"
    print(
        f"  worker --concurrency {bench_steps.CONCURRENCY} peak RSS: {idle:.0f} MB idle, "
        f"{loaded:.0f} MB after {runs} (target <= {TARGET_RSS_MB:g} MB)"
    )
    print(
        f"  worker from start to its first claim: {claim:.3f} s CPU"
        f" (target <= {TARGET_FIRST_CLAIM_CPU})"
    )
    one, five, _ = os.getloadavg()
    print(f"  (medians of {ROUNDS} interleaved rounds, load {one:.1f}/{five:.1f})")


def main() -> None:
    pycache = Path(tempfile.mkdtemp(prefix="orchestra-bench-pycache-"))
    try:
        with scratch_postgres() as url:
            from orchestra.store import migrate

            migrate.upgrade(url)
            idle, loaded, claim = measure_worker(pycache, url)
            cpu = measure_commands(pycache, url)
        report(cpu, idle, loaded, claim)
    finally:
        shutil.rmtree(pycache, ignore_errors=True)


if __name__ == "__main__":
    main()
