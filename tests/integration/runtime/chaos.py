"""For the runtime's chaos tests: an order SUT, bound suites, worker processes, database probes.

The SUT is a real aiohttp server on 127.0.0.1 in the test's event loop; it records every
request with its `Idempotency-Key`, replays a repeated create (same key, same order), and can
hold one request until the test lets it answer. Workers are real OS processes running
`python -m orchestra worker`, signalled like an operator (or a crash) would. Probes open a new
connection for each question, so they keep working across a PostgreSQL restart, and every
wait polls with a deadline: nothing waits a fixed time for something to happen.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from aiohttp import web
from psycopg.rows import dict_row

from orchestra.binding.document import Defaults, StepBinding, spec_from_binding
from orchestra.binding.environment import EnvironmentSpec
from orchestra.domain.records import SuiteRun
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.runtime.support import expire_leases, scenario, store_suite

T = TypeVar("T")
SRC = Path(__file__).parents[3] / "src"


# --- the system under test ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seen:
    at: float  # time.monotonic() when the request arrived
    method: str
    path: str
    key: str


@dataclass
class OrderSut:
    """Orders: create (replayed by Idempotency-Key), read, pay, ship; any of them can be held."""

    base_url: str = ""
    delay: float = 0.0  # every answer takes this long
    seen: list[Seen] = field(default_factory=list)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    created_by_key: dict[str, str] = field(default_factory=dict)
    # route (create, read, pay, ship) -> an event the next request of that route waits for
    hold_next: dict[str, asyncio.Event] = field(default_factory=dict)
    held: list[Seen] = field(default_factory=list)
    gates: list[asyncio.Event] = field(default_factory=list)

    def hold(self, route: str) -> asyncio.Event:
        """The next `route` request waits (answers nothing) until the returned event is set."""
        gate = self.hold_next[route] = asyncio.Event()
        self.gates.append(gate)
        return gate

    def keys(self) -> Counter[str]:
        return Counter(seen.key for seen in self.seen)

    def arrivals(self, path_suffix: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path.endswith(path_suffix)]


def _sut_app(sut: OrderSut) -> web.Application:
    ids = itertools.count(1)

    async def arrive(request: web.Request, route: str) -> Seen:
        seen = Seen(
            time.monotonic(), request.method, request.path, request.headers["Idempotency-Key"]
        )
        sut.seen.append(seen)
        if sut.delay:
            await asyncio.sleep(sut.delay)
        gate = sut.hold_next.pop(route, None)
        if gate is not None:
            sut.held.append(seen)
            await gate.wait()
        return seen

    def order_of(request: web.Request) -> dict[str, Any]:
        order = sut.orders.get(request.match_info["id"])
        if order is None:
            raise web.HTTPNotFound(text=f"no order {request.match_info['id']}")
        return order

    async def create(request: web.Request) -> web.Response:
        seen = await arrive(request, "create")
        body = await request.json()
        order_id = sut.created_by_key.get(seen.key)
        if order_id is None:  # a new command; a repeated key gets the order it created
            order_id = sut.created_by_key[seen.key] = f"o{next(ids)}"
            sut.orders[order_id] = {"id": order_id, "customer": body["customer"], "state": "NEW"}
        return web.json_response(sut.orders[order_id], status=201)

    async def read(request: web.Request) -> web.Response:
        await arrive(request, "read")
        return web.json_response(order_of(request))

    async def pay(request: web.Request) -> web.Response:
        await arrive(request, "pay")
        order = order_of(request)
        order["state"] = "PAID"
        return web.json_response(order)

    async def ship(request: web.Request) -> web.Response:
        await arrive(request, "ship")
        order = order_of(request)
        order["state"] = "SHIPPED"
        return web.json_response(order)

    app = web.Application()
    app.router.add_post("/orders", create)
    app.router.add_get("/orders/{id}", read)
    app.router.add_post("/orders/{id}/pay", pay)
    app.router.add_post("/orders/{id}/ship", ship)
    return app


@asynccontextmanager
async def order_sut() -> AsyncIterator[OrderSut]:
    sut = OrderSut()
    runner = web.AppRunner(_sut_app(sut), access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    sut.base_url = f"http://{host}:{port}"
    try:
        yield sut
    finally:
        for gate in sut.gates:
            gate.set()
        await runner.cleanup()


# --- the suite ----------------------------------------------------------------------------------

BINDINGS: dict[str, dict[str, Any]] = {
    "Create": {
        "action": {
            "method": "POST",
            "path": "/orders",
            "json": {"customer": "{{ data.customer }}"},
        },
        "checks": [{"status": 201}],
        "save": {"order": "$.id"},
    },
    "Read": {
        "action": {"path": "/orders/{{ vars.order }}"},
        "checks": [{"status": 200}, {"jsonpath": "$.customer", "eq": "{{ data.customer }}"}],
    },
    "Pay": {
        "action": {"method": "POST", "path": "/orders/{{ vars.order }}/pay"},
        "checks": [{"jsonpath": "$.state", "eq": "PAID"}],
    },
    "Ship": {
        "action": {"method": "POST", "path": "/orders/{{ vars.order }}/ship"},
        "checks": [{"jsonpath": "$.state", "eq": "SHIPPED"}],
    },
    "ReadShipped": {
        "action": {"path": "/orders/{{ vars.order }}"},
        "checks": [
            {"jsonpath": "$.state", "eq": "SHIPPED"},
            {"jsonpath": "$.id", "eq": "{{ vars.order }}"},
        ],
    },
}
ORDER_STEPS = ("Create", "Read", "Pay", "Ship", "ReadShipped")


def bound_steps(elements: Sequence[str] = ORDER_STEPS) -> list[ScenarioStep]:
    steps = []
    for position, element in enumerate(elements):
        spec = spec_from_binding(StepBinding.model_validate(BINDINGS[element]), Defaults(), {})
        steps.append(
            ScenarioStep(
                position=position,
                kind=StepKind.ACTION,
                element_id=element,
                name=element,
                spec=spec.to_json(),
            )
        )
    return steps


async def start_order_suite(
    db: Database,
    sut: OrderSut,
    rows: int,
    *,
    scenarios: int = 1,
    chained: bool = False,
    elements: Sequence[str] = ORDER_STEPS,
    max_attempts: int = 3,
    request_timeout: float = 60,
) -> SuiteRun:
    """A suite run of `scenarios` × `rows` runs of the order steps against `sut`; `chained`:
    each scenario dependsOn the one before it (run by run, for the same data row);
    `request_timeout`: each request's, in seconds."""
    suite = await store_suite(
        db,
        [
            scenario(
                f"order-{i}", bound_steps(elements), *([f"order-{i - 1}"] if chained and i else [])
            )
            for i in range(scenarios)
        ],
    )
    spec = EnvironmentSpec.model_validate(
        {"name": "sut", "timeout": request_timeout, "services": {"api": {"base_url": sut.base_url}}}
    )
    async with db.transaction() as uow:
        await uow.config.upsert_environment("sut", spec.model_dump(mode="json"), spec.references())
        await uow.config.upsert_data_set("customers", [{"customer": f"c{i}"} for i in range(rows)])
    return await running.start_suite_run(
        db, suite.id, environment="sut", data_set="customers", max_attempts=max_attempts
    )


# --- worker processes ---------------------------------------------------------------------------


class WorkerProcess:
    """`python -m orchestra worker --json` in its own OS process; output kept in files."""

    def __init__(
        self,
        database_url: str,
        logs: Path,
        *,
        name: str,
        concurrency: int = 4,
        lease: float = 2.0,
        drain: float = 10.0,
        environ: dict[str, str] | None = None,
    ) -> None:
        """`environ`: variables added to its environment (secrets its environment names)."""
        self.name = name
        self.application_name = f"chaos-{name}"
        self.lease = lease
        self.drain = drain
        logs.mkdir(parents=True, exist_ok=True)
        self.stdout_path = logs / f"{name}.out"
        self.stderr_path = logs / f"{name}.err"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRA_")}
        env.update(
            ORCHESTRA_DATABASE_URL=database_url,
            ORCHESTRA_HOME=str(logs / "home"),
            PYTHONPATH=str(SRC),
            PGAPPNAME=self.application_name,  # libpq names the worker's connections after it
        )
        env.update(environ or {})
        command = [sys.executable, "-m", "orchestra", "worker", "--json"]
        command += ["--concurrency", str(concurrency), "--lease", str(lease)]
        command += ["--drain", str(drain)]
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(command, stdout=out, stderr=err, env=env)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    async def kill(self) -> None:
        """SIGKILL: no drain, no release, nothing more written."""
        self.process.kill()
        await self.exited(within=10)

    async def exited(self, within: float) -> int:
        """Wait (without blocking the event loop the SUT runs in) for the process to end."""
        await wait_for(lambda: _async(self.process.poll() is not None), within, f"{self} ends")
        code = self.process.returncode
        assert code is not None
        return code

    def result(self) -> dict[str, Any]:
        """What `worker --json` printed when it stopped."""
        parsed: dict[str, Any] = json.loads(self.stdout_path.read_text())
        return parsed

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused process must die too
            self.process.kill()
        self.process.wait(timeout=30)

    def __str__(self) -> str:
        return f"worker {self.name} (pid {self.pid})"


@asynccontextmanager
async def worker_processes() -> AsyncIterator[list[WorkerProcess]]:
    """Collects the workers a test starts; every one is dead when the block exits."""
    started: list[WorkerProcess] = []
    try:
        yield started
    finally:
        for worker in started:
            worker.close()


async def _async(value: T) -> T:
    return value


async def wait_for(
    probe: Callable[[], Awaitable[T]], within: float, what: str, every: float = 0.05
) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `within` s.
    A probe that cannot reach the database (a restart) counts as not yet."""
    deadline = time.monotonic() + within
    while True:
        try:
            value = await probe()
        except psycopg.OperationalError:  # the server is restarting: ask again
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g}s waiting until {what}")
        await asyncio.sleep(every)


# --- database probes ----------------------------------------------------------------------------


async def query(url: str, statement: str, *params: Any) -> list[dict[str, Any]]:
    """One statement on a connection of its own (so it survives server restarts)."""
    async with await psycopg.AsyncConnection.connect(
        url, autocommit=True, row_factory=dict_row
    ) as conn:
        cursor = await conn.execute(statement, params)
        return await cursor.fetchall()


async def suite_run_status(url: str, suite_run_id: int) -> str:
    rows = await query(
        url, "SELECT status::text AS status FROM suite_run WHERE id = %s", suite_run_id
    )
    return str(rows[0]["status"])


async def suite_run_ended(url: str, suite_run_id: int) -> str | None:
    status = await suite_run_status(url, suite_run_id)
    return None if status == "IN_PROGRESS" else status


async def held_by(url: str, worker: WorkerProcess) -> list[dict[str, Any]]:
    """The runs whose lease this worker holds (its id is host:pid:random)."""
    return await query(
        url,
        "SELECT id, attempt, lost_leases FROM test_run"
        " WHERE status = 'RUNNING' AND locked_by LIKE %s ORDER BY id",
        f"%:{worker.pid}:%",
    )


async def quiet(url: str, worker: WorkerProcess) -> bool:
    """Whether none of the worker's statements is under way (those it sent have landed)."""
    rows = await query(
        url,
        "SELECT count(*) AS n FROM pg_stat_activity"
        " WHERE application_name = %s AND state <> 'idle'",
        worker.application_name,
    )
    return not rows[0]["n"]


async def run_out_leases(db: Database, url: str, worker: WorkerProcess) -> list[dict[str, Any]]:
    """End the leases of a stopped (SIGSTOP) worker now, as a stop longer than its lease
    would: once the statements it sent before it stopped have landed (a renewal among them
    would outlive the expiry), `expire_leases`. The runs it held (`held_by`)."""
    await wait_for(lambda: quiet(url, worker), 30, f"the last statements of {worker} land")
    held = await held_by(url, worker)
    assert held, f"{worker} holds no run"
    await expire_leases(db, *(run["id"] for run in held))
    return held


async def listening_workers(url: str) -> int:
    """Workers connected and listening for work (each keeps one LISTEN connection)."""
    rows = await query(
        url,
        "SELECT count(*) AS n FROM pg_stat_activity"
        " WHERE datname = current_database() AND query = 'LISTEN orchestra_runs'",
    )
    return int(rows[0]["n"])


async def connections_of(url: str, worker: WorkerProcess) -> int:
    rows = await query(
        url,
        "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = %s",
        worker.application_name,
    )
    return int(rows[0]["n"])


async def orphans_of(url: str, worker: WorkerProcess) -> list[dict[str, Any]]:
    """After a SIGKILL: once the server has closed every connection of the dead worker (so a
    commit it sent just before dying has landed or never will), the runs it still holds."""

    async def gone() -> bool:
        return await connections_of(url, worker) == 0

    assert not worker.alive
    await wait_for(gone, 15, f"the server notices that {worker} died")
    return await held_by(url, worker)


async def runs_of(url: str, suite_run_id: int) -> list[dict[str, Any]]:
    return await query(
        url,
        "SELECT id, scenario_id, data_row_index, status::text AS status, attempt, lost_leases,"
        " locked_by, error, execution_context, finished_at"
        " FROM test_run WHERE suite_run_id = %s ORDER BY id",
        suite_run_id,
    )


async def results_of(url: str, suite_run_id: int) -> list[dict[str, Any]]:
    return await query(
        url,
        "SELECT r.id, r.test_run_id, r.position, r.attempt, r.status::text AS status, r.started_at,"
        " r.request -> 'headers' ->> 'Idempotency-Key' AS key, r.recorded_at, r.resent_after"
        " FROM step_result r JOIN test_run t ON t.id = r.test_run_id"
        " WHERE t.suite_run_id = %s ORDER BY r.test_run_id, r.position",
        suite_run_id,
    )


async def lost_leases_of(url: str, suite_run_id: int) -> list[dict[str, Any]]:
    return await query(
        url,
        "SELECT l.test_run_id, l.attempt, l.worker, l.heartbeat_at, l.expired_at, l.noticed_at,"
        " l.done FROM lost_lease l JOIN test_run t ON t.id = l.test_run_id"
        " WHERE t.suite_run_id = %s ORDER BY l.test_run_id, l.attempt",
        suite_run_id,
    )


async def released_claims_of(url: str, suite_run_id: int) -> list[dict[str, Any]]:
    return await query(
        url,
        "SELECT c.test_run_id, c.attempt, c.worker, c.why, c.released_at, c.done"
        " FROM released_claim c JOIN test_run t ON t.id = c.test_run_id"
        " WHERE t.suite_run_id = %s ORDER BY c.test_run_id, c.attempt",
        suite_run_id,
    )


# --- the audit ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ledger:
    runs: list[dict[str, Any]]
    results: list[dict[str, Any]]
    repeated: dict[str, int]  # idempotency key -> deliveries beyond the first
    lost: list[dict[str, Any]]  # the lost_lease rows

    @property
    def claims(self) -> int:
        return sum(int(run["attempt"]) for run in self.runs)

    @property
    def lost_leases(self) -> int:
        return sum(int(run["lost_leases"]) for run in self.runs)


async def audit(url: str, suite_run_id: int, sut: OrderSut, *, runs: int, steps: int) -> Ledger:
    """Every run PASSED once, every step recorded once and sent with its own key, and every
    repeated request explained by a later claim of its run re-executing the interrupted step."""
    found = await runs_of(url, suite_run_id)
    results = await results_of(url, suite_run_id)
    assert len(found) == runs, f"{len(found)} runs, expected {runs}"
    not_passed = [r for r in found if r["status"] != "PASSED"]
    assert not_passed == [], f"{len(not_passed)} runs did not pass, e.g. {not_passed[:3]}"
    by_id = {run["id"]: run for run in found}
    for run in found:
        assert run["attempt"] >= 1
        assert 0 <= run["lost_leases"] <= run["attempt"] - 1, run
        assert run["execution_context"]["outcome"] == {"status": "PASSED", "error": None}, run
        assert sorted(run["execution_context"]["done"], key=int) == [str(p) for p in range(steps)]
    assert len(results) == runs * steps, f"{len(results)} step results, expected {runs * steps}"
    assert len({(r["test_run_id"], r["position"]) for r in results}) == len(results)
    for result in results:
        assert result["status"] == "PASSED", result
        assert 1 <= result["attempt"] <= by_id[result["test_run_id"]]["attempt"], result
    recorded = {r["key"]: r for r in results}
    assert None not in recorded
    assert len(recorded) == len(results), "two steps were sent with the same Idempotency-Key"
    seen = sut.keys()
    assert set(seen) == set(recorded), "the SUT saw a request no step result accounts for"
    repeated = {key: n - 1 for key, n in seen.items() if n > 1}
    extra_by_run: Counter[int] = Counter()
    for key, extra in repeated.items():
        result = recorded[key]
        assert result["attempt"] > 1, (
            f"step re-sent although its run was never re-claimed: {result}"
        )
        extra_by_run[result["test_run_id"]] += extra
    for run_id, extra in extra_by_run.items():
        # a sequential scenario is interrupted in one step at most per lost claim
        assert extra <= by_id[run_id]["attempt"] - 1, (by_id[run_id], extra)
    lost = await lost_leases_of(url, suite_run_id)
    _audit_lost_leases(found, results, lost)
    _audit_resends(results, repeated, [*lost, *await released_claims_of(url, suite_run_id)])
    return Ledger(found, results, repeated, lost)


def _audit_lost_leases(
    runs: list[dict[str, Any]], results: list[dict[str, Any]], lost: list[dict[str, Any]]
) -> None:
    """Every lost lease recorded once, with what its claim had checkpointed."""
    by_run: dict[int, list[dict[str, Any]]] = {}
    for lease in lost:
        by_run.setdefault(lease["test_run_id"], []).append(lease)
    recorded = {(r["test_run_id"], r["position"]): r for r in results}
    for run in runs:
        leases = by_run.get(run["id"], [])
        assert len(leases) == run["lost_leases"], (run, leases)
        for lease in leases:
            assert lease["attempt"] < run["attempt"], (run, lease)
            assert lease["expired_at"] <= lease["noticed_at"], lease
            for position in lease["done"]:  # checkpointed by that claim or an earlier one
                assert recorded[(run["id"], int(position))]["attempt"] <= lease["attempt"], lease


def _audit_resends(
    results: list[dict[str, Any]], repeated: dict[str, int], left: list[dict[str, Any]]
) -> None:
    """Every re-sent request is recorded as a re-send, after the claim that left it in
    flight (the first step not done): one that lost its lease, or that its worker released
    mid-step (`left`: the lost_lease and released_claim rows)."""
    by_run: dict[int, dict[int, dict[str, Any]]] = {}
    for row in left:
        by_run.setdefault(row["test_run_id"], {})[row["attempt"]] = row
    for key in repeated:
        result = next(r for r in results if r["key"] == key)
        claim = by_run.get(result["test_run_id"], {}).get(result["resent_after"])
        assert claim is not None, f"re-sent step {result} names no claim that left it"
        assert claim["attempt"] < result["attempt"], (result, claim)
        not_done = set(range(len(ORDER_STEPS))) - {int(p) for p in claim["done"]}
        assert min(not_done) == result["position"], (result, claim)
