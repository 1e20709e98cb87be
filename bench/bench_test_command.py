"""End to end: `orchestra test` from process start to exit vs a bare aiohttp loop.

200 runs of a 5-step HTTP scenario (create, read, pay, read, cancel an order: `bench_steps`'
SUT, bindings and bare loop) at concurrency 32: `orchestra test MODEL --repeat 200 --workers 1
--concurrency 32` as a CI job runs it (a one-scenario model, a one-row data set), timed from
the process's start to its exit, start-up, import, suite lookup, run, reports and shutdown
included; against the bare loop making the same requests with the same checks, both as a
process of its own (`python -c`, start to exit) and as the loop alone. The first `orchestra
test` of a fresh database generates the suite (cold); the next ones reuse it (warm), as a CI
job re-running a repository's tests does. CPU per request: the `orchestra test` process, then
with PostgreSQL's processes too; the bare loop's process. Rounds are interleaved (the machine
is shared): medians printed. `BENCH_TEST_RUNS` (default 200) and `BENCH_TEST_ROUNDS` (default 3)
tune it. Orchestra's modules are byte-compiled first (into `__pycache__`, even where
`PYTHONDONTWRITEBYTECODE` is set), as an installed package's are: the bare loop's aiohttp comes
compiled too.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.bench_steps import BINDINGS, CONCURRENCY, STEPS, SUT, TASKS, _free_port, _wait_until_up
from bench.support import postgres_cpu_seconds, scratch_postgres

RUNS = int(os.environ.get("BENCH_TEST_RUNS", "200"))
ROUNDS = int(os.environ.get("BENCH_TEST_ROUNDS", "3"))
TARGET = 0.5


def model() -> str:
    """A linear process of `TASKS`: one scenario of five steps."""
    nodes = ["Start", *TASKS, "End"]
    tasks = "".join(f'<serviceTask id="{task}" name="{task}"/>' for task in TASKS)
    flows = "".join(
        f'<sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(itertools.pairwise(nodes))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
        'targetNamespace="t"><process id="bench_order" isExecutable="true">'
        f'<startEvent id="Start"/>{tasks}<endEvent id="End"/>{flows}</process></definitions>'
    )


def write_project(folder: Path, base_url: str) -> list[str]:
    """The files of the project; the `orchestra test` arguments naming them."""
    files = {
        "order.bpmn": model(),
        "bindings.yaml": BINDINGS,
        "environment.yaml": f"name: bench\nservices:\n  api:\n    base_url: {base_url}\n",
        "amounts.csv": "amount\n10\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [
        str(folder / "order.bpmn"),
        *("--bindings", str(folder / "bindings.yaml")),
        *("--env", str(folder / "environment.yaml")),
        *("--data", str(folder / "amounts.csv")),
        *("--repeat", str(RUNS), "--workers", "1", "--concurrency", str(CONCURRENCY)),
        *("--junit", str(folder / "junit.xml"), "--json"),
    ]


@dataclass(frozen=True)
class Figures:
    seconds: float  # process start to exit
    cpu: float  # the process's CPU seconds
    pg_cpu: float = 0.0  # PostgreSQL's, during it

    @property
    def rate(self) -> float:
        return RUNS / self.seconds

    def per_request_ms(self, *, with_postgres: bool = False) -> float:
        return 1000 * (self.cpu + (self.pg_cpu if with_postgres else 0.0)) / (RUNS * STEPS)


def timed_process(command: list[str], env: dict[str, str], url: str | None = None) -> Figures:
    """Wall time from spawn to exit, the child's CPU (wait4) and PostgreSQL's."""
    pg_before = postgres_cpu_seconds(url) if url else 0.0
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{command[2:4]} exited {child.returncode}: {output[-2000:]!r}")
    pg = postgres_cpu_seconds(url) - pg_before if url else 0.0
    return Figures(seconds, usage.ru_utime + usage.ru_stime, pg)


def bare_in_process(base_url: str) -> Figures:
    from bench.order_loop import order_loop

    before = time.process_time()
    elapsed = asyncio.run(order_loop(base_url, RUNS, CONCURRENCY))
    return Figures(elapsed, time.process_time() - before)


def bare_command(base_url: str) -> list[str]:
    code = (
        "import asyncio, sys; from bench.order_loop import order_loop; "
        f"asyncio.run(order_loop(sys.argv[1], {RUNS}, {CONCURRENCY}))"
    )
    return [sys.executable, "-c", code, base_url]


def compiled_environment(root: Path) -> dict[str, str]:
    """The environment of the measured processes, the project's modules byte-compiled now
    rather than in the first process measured (or, with PYTHONDONTWRITEBYTECODE, in each)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = f"{root}:{root / 'src'}"
    compile_all = [sys.executable, "-m", "compileall", "-q", str(root / "src"), str(root / "bench")]
    subprocess.run(compile_all, env=env, check=True, stdout=subprocess.DEVNULL)
    return env


@dataclass(frozen=True)
class Project:
    test: list[str]  # the `orchestra test` command
    env: dict[str, str]  # its environment: modules byte-compiled, the database's URL
    url: str  # the scratch PostgreSQL
    base_url: str  # the SUT


@contextmanager
def project_under_test(folder: Path) -> Iterator[Project]:
    """A scratch PostgreSQL migrated, the steps bench's SUT listening, the project written in
    `folder`: what `orchestra test` is measured on (here and in `bench_reports`)."""
    root = Path(__file__).parents[1]
    with scratch_postgres() as url:
        env = compiled_environment(root)
        from orchestra.store import migrate

        migrate.upgrade(url)
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        sut = subprocess.Popen([sys.executable, "-c", SUT, str(port)])
        try:
            asyncio.run(_wait_until_up(base_url))
            test = [sys.executable, "-m", "orchestra", "test", *write_project(folder, base_url)]
            yield Project(test, {**env, "ORCHESTRA_DATABASE_URL": url}, url, base_url)
        finally:
            sut.terminate()
            sut.wait(timeout=10)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, project_under_test(Path(tmp)) as project:
        cold = timed_process(project.test, project.env, project.url)
        warm, process, loop = [], [], []
        for _ in range(ROUNDS):
            loop.append(bare_in_process(project.base_url))
            process.append(timed_process(bare_command(project.base_url), project.env))
            warm.append(timed_process(project.test, project.env, project.url))
    _report(cold, warm, process, loop)


def _median(rounds: list[Figures], value: str) -> float:
    return float(statistics.median(getattr(f, value) for f in rounds))


def _report(
    cold: Figures, warm: list[Figures], process: list[Figures], loop: list[Figures]
) -> None:
    bare_rate, loop_rate = _median(process, "rate"), _median(loop, "rate")
    rate = _median(warm, "rate")
    print(f"  {RUNS} runs x {STEPS} steps, concurrency {CONCURRENCY}, {ROUNDS} rounds (medians)")
    print(
        f"  orchestra test, warm (suite reused): {rate:,.0f} scenarios/s "
        f"({_median(warm, 'seconds'):.2f} s start to exit); cold (generates the suite): "
        f"{cold.rate:,.0f}/s ({cold.seconds:.2f} s)"
    )
    print(
        f"  bare aiohttp loop as a process: {bare_rate:,.0f} scenarios/s "
        f"({_median(process, 'seconds'):.2f} s start to exit); the loop alone: "
        f"{loop_rate:,.0f}/s ({_median(loop, 'seconds'):.2f} s)"
    )
    print(
        f"  ratio vs the bare process: {rate / bare_rate:.2f} (target >= {TARGET}); "
        f"vs the loop alone: {rate / loop_rate:.2f}"
    )
    per = statistics.median(f.per_request_ms() for f in warm)
    with_pg = statistics.median(f.per_request_ms(with_postgres=True) for f in warm)
    bare = statistics.median(f.per_request_ms() for f in process)
    alone = statistics.median(f.per_request_ms() for f in loop)
    print(
        f"  CPU per request: orchestra test {per:.3f} ms, with PostgreSQL {with_pg:.3f} ms; "
        f"bare process {bare:.3f} ms, the loop alone {alone:.3f} ms"
    )
    one, five, _ = os.getloadavg()
    print(f"  (load {one:.1f}/{five:.1f} on {os.cpu_count()} cores at the end)")


if __name__ == "__main__":
    main()
