"""Steps/s and CPU per step: Orchestra running 5-step HTTP scenarios vs a bare aiohttp loop.

The SUT is a small order API in its own process (127.0.0.1, a free port), measured three times:
in memory on aiohttp's server (the fastest Python SUT: the ratio is Orchestra's whole overhead),
in memory on Starlette under uvicorn (the bundled example's stack), and on aiohttp keeping its
orders in PostgreSQL (a second server of its own, every change a durable commit: what a real
order service does per request). Its API: POST /orders -> {id}, GET /orders/{id},
POST /orders/{id}/pay, POST /orders/{id}/cancel.
Each scenario creates, reads, pays, reads and cancels an order, the id captured with `save`
and used in the later URLs, every step checking its status and the order's JSON state.

Measured side by side in one run, on one fresh PostgreSQL (synchronous_commit on), at the same
total concurrency (32), in interleaved rounds (the machine is shared: best and median printed):
- bare: one aiohttp session, 32 tasks doing the same 5 requests and checks per scenario;
- bare + durable commits: the same, each step's response committed (grouped, two flushers
  taking turns as in Orchestra's committer) before the next step: a reference for per-step
  durability (`bench.durable_loop`; not a bound);
- bare + orchestra checkpoints: the same, each step followed by the very checkpoint Orchestra
  writes for it (its records, the run's execution context, the lease's fence, Orchestra's
  statement and committer): Orchestra without its step execution (`bench.checkpoint_loop`);
- orchestra in-process: `work_until_done` with one worker at concurrency 32, every step
  checkpointed (a step counts only once its checkpoint committed), and with 4 workers x 8
  (as `run --wait --workers 4`: they share one group committer);
- orchestra processes: `python -m orchestra worker` subprocesses (1 x 32 and 2 x 16).
CPU per step: the worker(s) plus every PostgreSQL process, for Orchestra; the client process
for the bare loop; the SUT's process (and its own PostgreSQL) apart. Peak RSS: VmHWM of a
worker process at concurrency 32. The budget line: the CPU per step that 0.6 x the bare loop
leaves on this machine's cores, every process counted, against what each loop spent.
Recovery: two worker processes with a 2 s lease, one SIGKILLed mid-run; the time until the
other claims its runs.
`BENCH_STEPS_RUNS` (scenario runs per round, default 1000), `BENCH_STEPS_ROUNDS` (default 3) and
`BENCH_STEPS_SUT` (default `aiohttp,starlette,postgres`) tune it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.checkpoint_loop import measure_checkpoints
from bench.durable_loop import measure_durable
from bench.order_loop import order_loop
from bench.support import measure, postgres_cpu_seconds, scratch_postgres
from orchestra.binding.attach import attach_bindings
from orchestra.binding.factory import executor_factory
from orchestra.binding.loader import load_bindings
from orchestra.domain.process import Flow, Node, NodeCategory, ProcessGraph
from orchestra.domain.scenario import Coverage, GeneratedSuite, ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind, SuiteRunStatus
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database, ServerInfo, connect_pool

CONCURRENCY = 32
RUNS = int(os.environ.get("BENCH_STEPS_RUNS", "1000"))
ROUNDS = int(os.environ.get("BENCH_STEPS_ROUNDS", "3"))
STEPS = 5
TASKS = ("Create", "Read1", "Pay", "Read2", "Cancel")
DURABLE = "bare + durable commits"
CHECKPOINTS = "bare + orchestra checkpoints"

SUT = """
import itertools, sys
from aiohttp import web
orders, ids = {}, itertools.count(1)
def found(request):
    order = orders.get(int(request.match_info["id"]))
    if order is None:
        raise web.HTTPNotFound()
    return order
async def create(request):
    body = await request.json()
    order = {"id": next(ids), "status": "CREATED", "amount": body.get("amount")}
    orders[order["id"]] = order
    return web.json_response({"id": order["id"]}, status=201)
async def read(request):
    return web.json_response(found(request))
async def pay(request):
    order = found(request)
    order["status"] = "PAID"
    return web.json_response(order)
async def cancel(request):
    order = found(request)
    order["status"] = "CANCELLED"  # kept: a cancel re-sent after a worker's crash still works
    return web.json_response(order)
app = web.Application()
app.router.add_post("/orders", create)
app.router.add_get("/orders/{id}", read)
app.router.add_post("/orders/{id}/pay", pay)
app.router.add_post("/orders/{id}/cancel", cancel)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""

# The same API on the stack the bundled example SUT uses (Starlette on uvicorn, h11): what a
# typical Python service costs per request, closer to the ~1 ms/step the issue measured.
SUT_STARLETTE = """
import itertools, sys
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.routing import Route
orders, ids = {}, itertools.count(1)
def found(request):
    order = orders.get(request.path_params["id"])
    if order is None:
        raise HTTPException(404)
    return order
async def create(request):
    body = await request.json()
    order = {"id": next(ids), "status": "CREATED", "amount": body.get("amount")}
    orders[order["id"]] = order
    return JSONResponse({"id": order["id"]}, status_code=201)
async def read(request):
    return JSONResponse(found(request))
async def pay(request):
    order = found(request)
    order["status"] = "PAID"
    return JSONResponse(order)
async def cancel(request):
    order = found(request)
    order["status"] = "CANCELLED"
    return JSONResponse(order)
app = Starlette(routes=[
    Route("/orders", create, methods=["POST"]),
    Route("/orders/{id:int}", read),
    Route("/orders/{id:int}/pay", pay, methods=["POST"]),
    Route("/orders/{id:int}/cancel", cancel, methods=["POST"]),
])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""
# The aiohttp API keeping its orders in PostgreSQL (its own server, `synchronous_commit` on), as
# a real order service would: every request a query, every change a durable commit. The issue's
# scale (about 1 ms of CPU per step for the bare loop) is nearer to this than to a dictionary.
SUT_POSTGRES = """
import sys
from aiohttp import web
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
SCHEMA = ("CREATE TABLE IF NOT EXISTS orders (id bigserial PRIMARY KEY,"
          " status text NOT NULL, amount integer)")
async def pooled(app):
    pool = AsyncConnectionPool(sys.argv[2], min_size=16, max_size=16, open=False,
                               kwargs={"autocommit": True, "row_factory": dict_row})
    await pool.open(wait=True)
    async with pool.connection() as conn:
        await conn.execute(SCHEMA)
    app["pool"] = pool
    yield
    await pool.close()
async def query(request, sql, *params):
    async with request.app["pool"].connection() as conn:
        return await (await conn.execute(sql, params)).fetchone()
def found(order):
    if order is None:
        raise web.HTTPNotFound()
    return web.json_response(order)
async def create(request):
    body = await request.json()
    order = await query(request, "INSERT INTO orders (status, amount) VALUES ('CREATED', %s)"
                        " RETURNING id", body.get("amount"))
    return web.json_response(order, status=201)
async def read(request):
    return found(await query(request, "SELECT * FROM orders WHERE id = %s",
                             int(request.match_info["id"])))
async def change(request, status):
    return found(await query(request, "UPDATE orders SET status = %s WHERE id = %s RETURNING *",
                             status, int(request.match_info["id"])))
async def pay(request):
    return await change(request, "PAID")
async def cancel(request):
    return await change(request, "CANCELLED")
app = web.Application()
app.cleanup_ctx.append(pooled)
app.router.add_post("/orders", create)
app.router.add_get("/orders/{id}", read)
app.router.add_post("/orders/{id}/pay", pay)
app.router.add_post("/orders/{id}/cancel", cancel)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""
SUTS = {"aiohttp": SUT, "starlette": SUT_STARLETTE, "postgres": SUT_POSTGRES}

BINDINGS = """\
defaults: {service: api}
tasks:
  Create:
    action: {method: POST, path: /orders, json: {amount: "{{ data.amount }}"}}
    checks: [{status: 201}, {jsonpath: $.id, exists: true}]
    save: {order_id: $.id}
  Read1:
    action: {path: "/orders/{{ vars.order_id }}"}
    checks: [{status: 200}, {jsonpath: $.status, eq: CREATED}]
  Pay:
    action: {method: POST, path: "/orders/{{ vars.order_id }}/pay"}
    checks: [{status: 200}, {jsonpath: $.status, eq: PAID}]
  Read2:
    action: {path: "/orders/{{ vars.order_id }}"}
    checks: [{status: 200}, {jsonpath: $.status, eq: PAID}]
  Cancel:
    action: {method: POST, path: "/orders/{{ vars.order_id }}/cancel"}
    checks: [{status: 200}, {jsonpath: $.status, eq: CANCELLED}]
"""


@dataclass
class Figures:
    """One measurement: steps per second, CPU ms per step (client side, PostgreSQL), RSS."""

    rate: float
    cpu_ms: float
    pg_ms: float = 0.0
    rss_mb: float | None = None
    sut_ms: float = 0.0  # the SUT process, per step

    @property
    def total_ms(self) -> float:
        return self.cpu_ms + self.pg_ms

    @property
    def all_in_ms(self) -> float:
        """Every process the measurement kept busy: client or workers, PostgreSQL, the SUT."""
        return self.cpu_ms + self.pg_ms + self.sut_ms


# --- the SUT and the bare loop ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_until_up(base_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(f"{base_url}/orders/0") as response:
                    if response.status == 404:
                        return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"the benchmark SUT did not start at {base_url}")


async def bare_loop(base_url: str, runs: int) -> float:
    """The same 5 requests and checks per scenario, 32 at a time; returns the elapsed time."""
    return await order_loop(base_url, runs, CONCURRENCY)


def measure_bare(url: str, base_url: str) -> Figures:
    with measure(url) as m:
        elapsed = asyncio.run(bare_loop(base_url, RUNS))
    steps = RUNS * STEPS
    return Figures(rate=steps / elapsed, cpu_ms=1000 * m.cpu / steps)


def measure_durable_bare(url: str, base_url: str) -> Figures:
    """The bare loop plus the least a durable runner writes (`bench.durable_loop`)."""
    elapsed, m = measure_durable(url, base_url, RUNS, CONCURRENCY)
    steps = RUNS * STEPS
    return Figures(rate=steps / elapsed, cpu_ms=1000 * m.cpu / steps, pg_ms=1000 * m.pg_cpu / steps)


def measure_checkpoints_bare(url: str, base_url: str, suite_id: int) -> Figures:
    """The bare loop writing Orchestra's checkpoints (`bench.checkpoint_loop`)."""
    elapsed, m = measure_checkpoints(url, base_url, suite_id, RUNS, CONCURRENCY)
    steps = RUNS * STEPS
    return Figures(rate=steps / elapsed, cpu_ms=1000 * m.cpu / steps, pg_ms=1000 * m.pg_cpu / steps)


# --- Orchestra --------------------------------------------------------------------------------


def bound_suite() -> GeneratedSuite:
    steps = tuple(
        ScenarioStep(position=i, kind=StepKind.ACTION, element_id=task, name=task)
        for i, task in enumerate(TASKS)
    )
    scenario = TestScenario(name="order", position=0, path=TASKS, steps=steps)
    coverage = Coverage(
        criterion="all-flows", flows_total=1, flows_covered=1, nodes_total=5, nodes_covered=5
    )
    suite = GeneratedSuite(
        process_key="orders",
        process_version=1,
        criterion="all-flows",
        scenarios=(scenario,),
        coverage=coverage,
    )
    attached, unbound = attach_bindings(suite, load_bindings(BINDINGS))
    assert not unbound, unbound
    return attached


async def prepare(url: str, base_url: str) -> int:
    """Store the bound suite, the environment and the data set; returns the suite id."""
    async with connect_pool(url, max_size=2) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        graph = ProcessGraph(
            id="orders",
            nodes=tuple(Node(id=t, category=NodeCategory.TASK, type="task") for t in TASKS),
            flows=(Flow(id="f", source=TASKS[0], target=TASKS[1]),),
        )
        configuration = {"name": "bench", "services": {"api": {"base_url": base_url}}}
        async with db.transaction() as uow:
            process, _ = await uow.processes.add_version(
                graph, checksum="orders", source_xml="<x/>", source_name=None
            )
            suite_id = await uow.suites.add(process.id, bound_suite())
            await uow.config.upsert_environment("bench", configuration, [])
            await uow.config.upsert_data_set("orders", [{"amount": i} for i in range(RUNS)])
        return suite_id


async def point_environment(url: str, base_url: str) -> None:
    """The benchmark's environment at another SUT (workers key executors by its content)."""
    async with connect_pool(url, max_size=1, upgrade=False) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        configuration = {"name": "bench", "services": {"api": {"base_url": base_url}}}
        async with db.transaction() as uow:
            await uow.config.upsert_environment("bench", configuration, [])


async def _start(db: Database, suite_id: int) -> int:
    suite_run = await running.start_suite_run(db, suite_id, environment="bench", data_set="orders")
    return suite_run.id


async def orchestra_in_process(url: str, suite_id: int, workers: int = 1) -> float:
    """`workers` in-process workers sharing the concurrency (as `run --wait --workers N`)."""
    async with connect_pool(url, max_size=2 + 3 * workers, upgrade=False) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        suite_run_id = await _start(db, suite_id)
        concurrency = CONCURRENCY // workers
        options = WorkerOptions(concurrency=concurrency, lease_seconds=30, poll_seconds=0.2)
        started = time.perf_counter()
        final, _ = await running.work_until_done(
            db, suite_run_id, executor_factory({}), workers=workers, options=options,
            poll_seconds=0.05,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
    _assert_passed(final)
    return elapsed


def measure_in_process(url: str, suite_id: int, workers: int = 1) -> Figures:
    with measure(url) as m:
        elapsed = asyncio.run(orchestra_in_process(url, suite_id, workers))
    steps = RUNS * STEPS
    return Figures(
        rate=steps / elapsed,
        cpu_ms=1000 * m.cpu / steps,
        pg_ms=1000 * m.pg_cpu / steps,
        rss_mb=_self_rss_mb(),
    )


def _assert_passed(final: running.Progress) -> None:
    assert final.suite_run.status is SuiteRunStatus.PASSED, final.to_json()
    assert final.done == RUNS, final.to_json()


def _self_rss_mb() -> float:
    return _status_kb(os.getpid(), "VmHWM") / 1024


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_processes(url: str, suite_id: int, processes: int) -> Figures:
    """`processes` worker subprocesses sharing the total concurrency; started (and idle)
    before the suite run is created, so their start-up is not counted."""
    env = {**os.environ, "ORCHESTRA_DATABASE_URL": url}
    per_worker = CONCURRENCY // processes
    command = [sys.executable, "-m", "orchestra", "worker", f"--concurrency={per_worker}"]
    workers = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(processes)
    ]
    try:
        for worker in workers:
            assert worker.stderr is not None
            worker.stderr.readline()  # "worker ...: waiting for runs"
        cpu_before = sum(_cpu_seconds(w.pid) for w in workers)
        pg_before = postgres_cpu_seconds(url)
        elapsed = asyncio.run(_watch(url, suite_id))
        cpu = sum(_cpu_seconds(w.pid) for w in workers) - cpu_before
        pg = postgres_cpu_seconds(url) - pg_before
        rss = max(_status_kb(w.pid, "VmHWM") for w in workers) / 1024
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
    steps = RUNS * STEPS
    return Figures(steps / elapsed, 1000 * cpu / steps, 1000 * pg / steps, rss)


async def _watch(url: str, suite_id: int) -> float:
    async with connect_pool(url, max_size=2, upgrade=False) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        started = time.perf_counter()
        suite_run_id = await _start(db, suite_id)
        while True:
            current = await running.progress(db, suite_run_id)
            if current.suite_run.status.is_terminal:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
    _assert_passed(current)
    return elapsed


# --- recovery ---------------------------------------------------------------------------------

LEASE = 2.0


def measure_recovery(url: str, suite_id: int) -> tuple[int, float, float]:
    """Two worker processes (lease 2 s) share a suite run; one is SIGKILLed mid-run. Returns
    how many runs it held and the seconds from the kill until the first and the last of them
    was claimed again by the other worker."""
    env = {**os.environ, "ORCHESTRA_DATABASE_URL": url}
    command = [sys.executable, "-m", "orchestra", "worker", "--concurrency=16", f"--lease={LEASE}"]
    workers = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    victim, survivor = workers
    try:
        for worker in workers:
            assert worker.stderr is not None
            worker.stderr.readline()
        return asyncio.run(_kill_and_watch(url, suite_id, victim))
    finally:
        survivor.send_signal(signal.SIGTERM)
        survivor.wait(timeout=30)
        victim.wait(timeout=30)


async def _kill_and_watch(
    url: str, suite_id: int, victim: subprocess.Popen[bytes]
) -> tuple[int, float, float]:
    async with connect_pool(url, max_size=2, upgrade=False) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        suite_run_id = await _start(db, suite_id)
        mine = f"%:{victim.pid}:%"
        held: dict[int, int] = {}
        while len(held) < 8:  # wait until the victim is well into its runs
            await asyncio.sleep(0.05)
            async with db.connection() as conn:
                cursor = await conn.execute(
                    "SELECT id, attempt FROM test_run WHERE suite_run_id = %s"
                    " AND status = 'RUNNING' AND locked_by LIKE %s",
                    (suite_run_id, mine),
                )
                held = {int(r["id"]): int(r["attempt"]) for r in await cursor.fetchall()}
        victim.kill()
        killed = time.perf_counter()
        async with db.connection() as conn:  # what it held at the moment it died
            cursor = await conn.execute(
                "SELECT id, attempt FROM test_run WHERE suite_run_id = %s"
                " AND status = 'RUNNING' AND locked_by LIKE %s",
                (suite_run_id, mine),
            )
            held = {int(r["id"]): int(r["attempt"]) for r in await cursor.fetchall()}
        first = last = 0.0
        pending = dict(held)
        while pending and time.perf_counter() - killed < 10 * LEASE:
            async with db.connection() as conn:
                cursor = await conn.execute(
                    "SELECT id, attempt FROM test_run WHERE id = ANY(%s)", (list(pending),)
                )
                rows = await cursor.fetchall()
            now = time.perf_counter() - killed
            for row in rows:
                if int(row["attempt"]) > pending[int(row["id"])]:
                    del pending[int(row["id"])]
                    first = first or now
                    last = now
            await asyncio.sleep(0.02)
        assert not pending, f"runs {sorted(pending)} were not claimed again"
        while True:  # let the survivor finish the suite run
            if (await running.progress(db, suite_run_id)).suite_run.status.is_terminal:
                break
            await asyncio.sleep(0.1)
    return len(held), first, last


# --- the report -------------------------------------------------------------------------------


def _stop(sut: subprocess.Popen[bytes]) -> None:
    sut.terminate()
    sut.wait(timeout=10)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


def _summary(name: str, rounds: list[Figures], bare: list[Figures]) -> None:
    best = max(rounds, key=lambda f: f.rate)
    median_rate = statistics.median(f.rate for f in rounds)
    median_cpu = statistics.median(f.total_ms for f in rounds)
    best_bare = max(f.rate for f in bare)
    median_ratio = statistics.median(f.rate / b.rate for f, b in zip(rounds, bare, strict=True))
    rss = max((f.rss_mb for f in rounds if f.rss_mb is not None), default=None)
    print(
        f"  {name:22s} {best.rate:6.0f} steps/s best, {median_rate:6.0f} median;"
        f" ratio/bare {best.rate / best_bare:.2f} best-vs-best, {median_ratio:.2f} median"
        " (target >= 0.6)"
    )
    print(
        f"  {'':22s} CPU {min(f.total_ms for f in rounds):.2f} ms/step best,"
        f" {median_cpu:.2f} median (worker {best.cpu_ms:.2f} + PostgreSQL {best.pg_ms:.2f}"
        " in the best round; target <= 3)"
        + (f"; peak RSS {rss:.0f} MB (target < 150)" if rss is not None else "")
    )


def _budget(
    orchestra: list[Figures],
    checkpoints: list[Figures],
    durable: list[Figures],
    bare: list[Figures],
) -> None:
    """The CPU per step that 0.6 x the bare loop leaves on this machine's cores, every process
    counted (client or workers, PostgreSQL, the SUT), against what each loop spends. A loop
    that spends more than the budget cannot reach 0.6 here, however its time is spread."""
    cores = os.cpu_count() or 1
    target = 0.6 * max(f.rate for f in bare)
    spent = ", ".join(
        f"{name} {min(f.all_in_ms for f in rounds):.2f}"
        for name, rounds in (
            ("the durable loop", durable),
            ("the loop writing orchestra's checkpoints", checkpoints),
            ("orchestra", orchestra),
        )
    )
    print(
        f"  budget on {cores} cores: 0.6 x the bare loop is {target:.0f} steps/s, which leaves"
        f" {1000 * cores / target:.2f} ms of CPU per step in all; spent: {spent} ms"
    )


def _rounds(
    url: str, suite_id: int, base_url: str, sut_cpu: Callable[[], float]
) -> dict[str, list[Figures]]:
    asyncio.run(bare_loop(base_url, 64))  # warm up the SUT
    variants: dict[str, Callable[[], Figures]] = {
        "bare aiohttp loop": lambda: measure_bare(url, base_url),
        DURABLE: lambda: measure_durable_bare(url, base_url),
        CHECKPOINTS: lambda: measure_checkpoints_bare(url, base_url, suite_id),
        "orchestra in-process": lambda: measure_in_process(url, suite_id),
        "orchestra in-process 4x8": lambda: measure_in_process(url, suite_id, workers=4),
        "orchestra 1 process x32": lambda: measure_processes(url, suite_id, 1),
        "orchestra 2 process x16": lambda: measure_processes(url, suite_id, 2),
    }
    results: dict[str, list[Figures]] = {}
    for round_no in range(ROUNDS):
        print(f"  round {round_no + 1}: {_load()}", flush=True)
        for name, run in variants.items():
            sut_before = sut_cpu()
            figures = run()
            figures.sut_ms = 1000 * (sut_cpu() - sut_before) / (RUNS * STEPS)
            results.setdefault(name, []).append(figures)
            print(
                f"    {name:24s} {figures.rate:6.0f} steps/s"
                f"  CPU {figures.cpu_ms:.2f} + PG {figures.pg_ms:.2f}"
                f" + SUT {figures.sut_ms:.2f} ms/step",
                flush=True,
            )
    return results


def _report(kind: str, results: dict[str, list[Figures]]) -> None:
    bare = results.pop("bare aiohttp loop")
    print(f"  -- SUT: {kind}")
    print(
        f"  bare aiohttp loop      {max(f.rate for f in bare):6.0f} steps/s best,"
        f" CPU {min(f.cpu_ms for f in bare):.2f} ms/step (client only),"
        f" {min(f.all_in_ms for f in bare):.2f} with the SUT's"
    )
    durable = results.pop(DURABLE)
    _durable_summary(durable, bare)
    checkpoints = results.pop(CHECKPOINTS)
    _checkpoints_summary(checkpoints, durable, bare)
    for name, rounds in results.items():
        _summary(name, rounds, bare)
        print(
            f"  {'':22s} vs the durable bare loop: {_median_ratio(rounds, durable):.2f} median;"
            f" vs the bare loop with its checkpoints: {_median_ratio(rounds, checkpoints):.2f}"
        )
    _budget(results["orchestra 1 process x32"], checkpoints, durable, bare)


def _median_ratio(rounds: list[Figures], baseline: list[Figures]) -> float:
    return statistics.median(f.rate / b.rate for f, b in zip(rounds, baseline, strict=True))


def _checkpoints_summary(
    checkpoints: list[Figures], durable: list[Figures], bare: list[Figures]
) -> None:
    """The bare loop writing Orchestra's checkpoints: what Orchestra writes per step, without
    its step execution (see `bench.checkpoint_loop`)."""
    best = max(checkpoints, key=lambda f: f.rate)
    print(
        f"  {CHECKPOINTS:22s} {best.rate:6.0f} steps/s best,"
        f" {statistics.median(f.rate for f in checkpoints):6.0f} median;"
        f" ratio/bare {_median_ratio(checkpoints, bare):.2f} median,"
        f" {_median_ratio(checkpoints, durable):.2f} of the durable loop: Orchestra's"
        " checkpoint without its step execution (CPU"
        f" {min(f.cpu_ms for f in checkpoints):.2f} + PostgreSQL"
        f" {min(f.pg_ms for f in checkpoints):.2f} ms/step)"
    )


def _durable_summary(durable: list[Figures], bare: list[Figures]) -> None:
    """The bare loop with every step durably committed in groups: a reference for what
    per-step durability costs here (not a bound: see `bench.durable_loop`)."""
    best = max(durable, key=lambda f: f.rate)
    print(
        f"  {DURABLE:22s} {best.rate:6.0f} steps/s best,"
        f" {statistics.median(f.rate for f in durable):6.0f} median;"
        f" ratio/bare {_median_ratio(durable, bare):.2f} median: a reference for committing"
        " every step, in groups (CPU"
        f" {min(f.cpu_ms for f in durable):.2f} + PostgreSQL {min(f.pg_ms for f in durable):.2f}"
        " ms/step)"
    )


def main() -> None:
    """Every SUT of `BENCH_STEPS_SUT` (default: aiohttp,starlette,postgres) in turn, on one
    PostgreSQL (the postgres SUT on a second one); the recovery measurement on the first."""
    default = ",".join(SUTS)
    kinds = [k.strip() for k in os.environ.get("BENCH_STEPS_SUT", default).split(",")]
    reports: list[tuple[str, dict[str, list[Figures]]]] = []
    recovery: tuple[int, float, float] | None = None
    with scratch_postgres() as url:
        from orchestra.store import migrate

        migrate.upgrade(url)
        suite_id: int | None = None
        for kind in kinds:
            with contextlib.ExitStack() as stack:
                port = _free_port()
                base_url = f"http://127.0.0.1:{port}"
                command = [sys.executable, "-c", SUTS[kind], str(port)]
                sut_url = stack.enter_context(scratch_postgres()) if kind == "postgres" else None
                sut = subprocess.Popen([*command, sut_url] if sut_url else command)
                stack.callback(_stop, sut)
                asyncio.run(_wait_until_up(base_url))
                print(f"  SUT {kind} on {base_url}", flush=True)
                if suite_id is None:
                    suite_id = asyncio.run(prepare(url, base_url))
                else:
                    asyncio.run(point_environment(url, base_url))

                def sut_cpu(pid: int = sut.pid, sut_url: str | None = sut_url) -> float:
                    database = postgres_cpu_seconds(sut_url) if sut_url else 0.0
                    return _cpu_seconds(pid) + database

                reports.append((kind, _rounds(url, suite_id, base_url, sut_cpu)))
                if recovery is None:
                    recovery = measure_recovery(url, suite_id)
    for kind, results in reports:
        _report(kind, results)
    if recovery is not None:
        held, first, last = recovery
        print(
            f"  recovery: a SIGKILLed worker's {held} runs claimed again by the other worker"
            f" {first:.2f}-{last:.2f} s after the kill (lease {LEASE:g} s; target <= lease + 1 s)"
        )
    print(
        f"  ({RUNS} runs x {STEPS} steps per round, concurrency {CONCURRENCY}, {ROUNDS} rounds,"
        f" {_load()} at the end)"
    )


if __name__ == "__main__":
    main()
