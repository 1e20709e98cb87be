"""Steps per second of the StepExecutor against a bare aiohttp loop, same local SUT, concurrency 32.

The SUT runs in its own process (aiohttp on 127.0.0.1, a free port) so the client side measured
here is only the client. Each executor step is a GET with a status check, a JSONPath check, a
`save` and an export, plus the Idempotency-Key and traceparent headers and redaction; the bare
loop does the GET and parses the JSON. Printed: requests/s and client CPU ms per request for
each, and their ratio (executor / bare). When httpx is importable (it is not a dependency:
`pip install httpx` to compare), a bare httpx loop with one shared AsyncClient is measured too,
the alternative aiohttp was chosen over.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from orchestra.binding.document import Defaults, StepBinding, spec_from_binding
from orchestra.binding.environment import EnvironmentSpec
from orchestra.binding.executor import StepExecutor
from orchestra.domain.execution import RunIdentity, StepContext
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind, StepStatus

CONCURRENCY = 32
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "4000"))
SERVER = """
import sys
from aiohttp import web
async def ok(request):
    return web.json_response({"state": "CREATED", "id": 42, "items": [1, 2, 3]})
app = web.Application()
app.router.add_get("/ok", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_until_up(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"the benchmark SUT did not start at {url}")


async def _drive(one: Callable[[int], Awaitable[None]]) -> tuple[float, float]:
    """(requests per second, client CPU ms per request) for REQUESTS calls, 32 at a time."""
    counter = iter(range(REQUESTS))

    async def worker() -> None:
        for i in counter:
            await one(i)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return REQUESTS / wall, cpu * 1000.0 / REQUESTS


async def _bare(url: str) -> tuple[float, float]:
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            async with session.get(url, headers={"Idempotency-Key": str(i)}) as response:
                payload = await response.json()
                assert response.status == 200
                assert payload["state"] == "CREATED"

        return await _drive(one)


async def _bare_httpx(url: str) -> tuple[float, float] | None:
    try:
        httpx: Any = importlib.import_module("httpx")
    except ImportError:
        return None
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one(i: int) -> None:
            response = await client.get(url, headers={"Idempotency-Key": str(i)})
            assert response.status_code == 200
            assert response.json()["state"] == "CREATED"

        return await _drive(one)


def _step() -> ScenarioStep:
    binding = StepBinding.model_validate({
        "action": {"path": "/ok", "headers": {"X-Run": "{{ run.test_run_id }}"}},
        "checks": [{"status": 200}, {"jsonpath": "$.state", "eq": "CREATED"}],
        "save": {"order_id": "$.id"},
        "exportAs": {"lastOrder": "{{ response.json.id }}"},
    })  # fmt: skip
    spec = spec_from_binding(binding, Defaults(), {}).to_json()
    return ScenarioStep(position=1, kind=StepKind.ACTION, element_id="Task_A", spec=spec,
                        meta={"exportAs": dict(binding.export_as)})  # fmt: skip


async def _executor(base_url: str) -> tuple[float, float]:
    env = EnvironmentSpec.model_validate({
        "name": "bench", "services": {"api": {"base_url": base_url}},
        "auth": {"type": "bearer", "token": "${BENCH_TOKEN}"},
    })  # fmt: skip
    step = _step()
    async with StepExecutor(env, {"BENCH_TOKEN": "bench-token-123"}) as executor:

        async def one(i: int) -> None:
            run = RunIdentity(suite_run_id=1, test_run_id=i, scenario="bench", attempt=1)
            outcome = await executor.execute(step, StepContext(run=run))
            assert outcome.status is StepStatus.PASSED, outcome.error

        return await _drive(one)


async def _measure(base_url: str) -> None:
    await _wait_until_up(f"{base_url}/ok")
    await _bare(f"{base_url}/ok")  # warm up both sides
    results: dict[str, list[tuple[float, float]]] = {"bare": [], "executor": [], "httpx": []}
    for _ in range(2):  # interleaved rounds: a noisy neighbour hurts all alike
        results["bare"].append(await _bare(f"{base_url}/ok"))
        results["executor"].append(await _executor(base_url))
        with_httpx = await _bare_httpx(f"{base_url}/ok")
        if with_httpx is not None:
            results["httpx"].append(with_httpx)
    if not results["httpx"]:
        print("httpx       not installed: `pip install httpx` to compare it")
        del results["httpx"]
    best = {name: max(rounds) for name, rounds in results.items()}
    for name, (rate, cpu_ms) in best.items():
        print(f"{name:9s} {rate:8.0f} requests/s  {cpu_ms:6.3f} ms client CPU per request")
    bare_rate, bare_cpu = best["bare"]
    rate, cpu = best["executor"]
    print(f"executor/bare: {rate / bare_rate:.2f}x throughput, {cpu / bare_cpu:.2f}x CPU per step")
    if "httpx" in best:
        httpx_rate, httpx_cpu = best["httpx"]
        print(f"httpx/bare aiohttp: {httpx_rate / bare_rate:.2f}x throughput, "
              f"{httpx_cpu / bare_cpu:.2f}x CPU per request")  # fmt: skip
    print(f"({REQUESTS} requests per round, concurrency {CONCURRENCY}, best of 2 rounds)")


def main() -> None:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    try:
        asyncio.run(_measure(f"http://127.0.0.1:{port}"))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
