"""Mutual TLS: the executor's cached SSLContexts against a bare aiohttp loop, and what building a
context per request would cost instead.

The SUT is an aiohttp HTTPS server in its own process on 127.0.0.1 that asks every client for a
certificate of a throwaway CA (made by `openssl`). Measured at concurrency 32, client side only:
the executor (a GET with a status check, its environment trusting the CA and showing a client
certificate, one SSLContext built when it starts); a bare aiohttp loop sharing one context (the
floor); a bare loop building a context per request, which also defeats the keep-alive pool (its
key holds the context) so every request pays a full handshake. Printed: requests/s and client CPU
ms per request, and ratios.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from tests.support.certificates import Pki, make_pki

from bench.bench_executor import _free_port
from orchestra.binding.document import Defaults, StepBinding, spec_from_binding
from orchestra.binding.environment import EnvironmentSpec
from orchestra.binding.executor import StepExecutor
from orchestra.domain.execution import RunIdentity, StepContext
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind, StepStatus

CONCURRENCY = 32
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
UNCACHED_REQUESTS = max(REQUESTS // 8, 64)
SERVER = """
import ssl, sys
from aiohttp import web
async def ok(request):
    return web.json_response({"state": "CREATED"})
tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(sys.argv[2], sys.argv[3])
tls.load_verify_locations(cafile=sys.argv[4])
tls.verify_mode = ssl.CERT_REQUIRED
app = web.Application()
app.router.add_get("/ok", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), ssl_context=tls, access_log=None,
            print=None)
"""


async def _drive(count: int, one: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    """(requests per second, client CPU ms per request) for `count` calls, 32 at a time."""
    left = iter(range(count))

    async def worker() -> None:
        for _ in left:
            await one()

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return count / wall, cpu * 1000.0 / count


def _client_context(pki: Pki) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=pki.ca)
    context.load_cert_chain(pki.client_cert, pki.client_key)
    return context


async def _bare(url: str, pki: Pki, *, per_request: bool) -> tuple[float, float]:
    shared = _client_context(pki)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:

        async def one() -> None:
            context = _client_context(pki) if per_request else shared
            async with session.get(url, ssl=context) as response:
                assert (await response.json())["state"] == "CREATED"

        return await _drive(UNCACHED_REQUESTS if per_request else REQUESTS, one)


async def _executor(base_url: str, pki: Pki) -> tuple[float, float]:
    tls = {
        "ca_pem": pki.ca.read_text(),
        "client_cert_pem": pki.client_cert.read_text(),
        "client_key": str(pki.client_key),
    }
    env = EnvironmentSpec.model_validate(
        {"name": "bench", "tls": tls, "services": {"api": {"base_url": base_url}}}
    )
    binding = StepBinding.model_validate({"action": {"path": "/ok"}, "checks": [{"status": 200}]})
    spec = spec_from_binding(binding, Defaults(), {}).to_json()
    step = ScenarioStep(position=1, kind=StepKind.ACTION, element_id="Task_A", spec=spec)
    async with StepExecutor(env, {}) as executor:

        async def one() -> None:
            run = RunIdentity(suite_run_id=1, test_run_id=1, scenario="bench", attempt=1)
            outcome = await executor.execute(step, StepContext(run=run))
            assert outcome.status is StepStatus.PASSED, outcome.error

        return await _drive(REQUESTS, one)


async def _measure(base_url: str, pki: Pki) -> None:
    for _ in range(100):
        try:
            await _bare(f"{base_url}/ok", pki, per_request=False)  # up, and warm
            break
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.05)
    results: dict[str, list[tuple[float, float]]] = {"bare": [], "executor": [], "uncached": []}
    for _ in range(2):  # interleaved rounds: a noisy neighbour hurts all alike
        results["bare"].append(await _bare(f"{base_url}/ok", pki, per_request=False))
        results["executor"].append(await _executor(base_url, pki))
        results["uncached"].append(await _bare(f"{base_url}/ok", pki, per_request=True))
    best = {name: max(rounds) for name, rounds in results.items()}
    for name, (rate, cpu_ms) in best.items():
        print(f"{name:9s} {rate:8.0f} requests/s  {cpu_ms:6.3f} ms client CPU per request")
    (bare_rate, bare_cpu), (rate, cpu) = best["bare"], best["executor"]
    uncached_rate, uncached_cpu = best["uncached"]
    print(f"executor/bare: {rate / bare_rate:.2f}x throughput, {cpu / bare_cpu:.2f}x CPU per step")
    print(f"context per request/bare: {uncached_rate / bare_rate:.2f}x throughput, "
          f"{uncached_cpu / bare_cpu:.1f}x CPU per request")  # fmt: skip
    print(f"({REQUESTS} requests per round, {UNCACHED_REQUESTS} with a context per request, "
          f"concurrency {CONCURRENCY}, mutual TLS, best of 2 rounds)")  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="orchestra-bench-tls-") as folder:
        pki = make_pki(Path(folder))
        port = _free_port()
        args = [str(port), str(pki.server_cert), str(pki.server_key), str(pki.ca)]
        server = subprocess.Popen([sys.executable, "-c", SERVER, *args])
        try:
            asyncio.run(_measure(f"https://127.0.0.1:{port}", pki))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
