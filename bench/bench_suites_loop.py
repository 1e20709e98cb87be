"""/health latency while the API generates the suite of a very large process (`POST /suites`).

A real server (uvicorn, in this process's event loop) on a fresh PostgreSQL holds a linear
process of `BENCH_SUITES_TASKS` service tasks (default 20,000), imported before the clock runs;
a client in a process of its own asks `POST /suites` for it while asking `/health` every 10 ms.
Printed per round: the generation's time, /health's p50, p99 and worst latency meanwhile (the
issue's target: within 50 ms), and the load average before and after the round.
`BENCH_SUITES_ROUNDS` rounds (default 3). Run: `python -m bench bench_suites_loop`.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.support import scratch_postgres
from orchestra.api import create_app
from orchestra.api.server import ApiServer
from orchestra.bpmn import Limits
from orchestra.config import Settings
from orchestra.services import importing
from orchestra.store.database import Database, ServerInfo, connect_pool

TASKS = int(os.environ.get("BENCH_SUITES_TASKS", "20000"))
ROUNDS = int(os.environ.get("BENCH_SUITES_ROUNDS", "3"))
TOKEN = "bench-token"
KEY = "long"


def linear_bpmn(tasks: int) -> bytes:
    """A process of `tasks` service tasks in a row, between a start and an end event."""
    ids = ["start", *(f"t{n}" for n in range(tasks)), "end"]
    nodes = [
        '<startEvent id="start"/>',
        *(f'<serviceTask id="t{n}" name="Task {n}"/>' for n in range(tasks)),
        '<endEvent id="end"/>',
    ]
    flows = [
        f'<sequenceFlow id="f{n}" sourceRef="{a}" targetRef="{b}"/>'
        for n, (a, b) in enumerate(itertools.pairwise(ids))
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"'
        ' targetNamespace="http://example.com/bench">'
        f'<process id="{KEY}" isExecutable="true">{"".join(nodes)}{"".join(flows)}</process>'
        "</definitions>"
    ).encode()


def generate_and_probe(base: str) -> tuple[float, list[float]]:
    """In the client process: the generation's seconds, /health's latencies in ms meanwhile."""
    return asyncio.run(_generate_and_probe(base))


async def _generate_and_probe(base: str) -> tuple[float, list[float]]:
    import aiohttp

    latencies: list[float] = []
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/health") as reply:  # a connection, warm
            await reply.read()
        started = time.perf_counter()
        generation = asyncio.create_task(
            session.post(f"{base}/suites", json={"process": KEY}, headers=auth)
        )
        while not generation.done():
            asked = time.perf_counter()
            async with session.get(f"{base}/health") as reply:
                await reply.read()
            if not generation.done():
                latencies.append((time.perf_counter() - asked) * 1000)
            await asyncio.sleep(0.01)
        reply = await generation
        assert reply.status == 201, await reply.text()
        return time.perf_counter() - started, latencies


async def _import(url: str) -> None:
    async with connect_pool(url, max_size=2, upgrade=True) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=False))
        async with db.transaction() as uow:
            await importing.import_bpmn(
                uow, linear_bpmn(TASKS), source="long.bpmn", limits=Limits(max_bytes=1 << 30)
            )


async def _round(url: str, client: ProcessPoolExecutor) -> tuple[float, list[float]]:
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="orchestra-bench-")), database_url=url)
    app = create_app(settings, token=TOKEN)
    server = ApiServer(app, port=0, quiet=True)
    task = asyncio.create_task(server.serve())
    await server.listening.wait()
    try:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(client, generate_and_probe, server.url)
    finally:
        server.should_exit = True
        await task


def _describe(
    number: int, elapsed: float, latencies: list[float], load: tuple[float, float]
) -> str:
    ordered = sorted(latencies) or [0.0]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"  round {number}: load {load[0]:.1f}->{load[1]:.1f}; suite of {TASKS} tasks generated"
        f" in {elapsed:.2f} s; /health asked {len(latencies)} times meanwhile:"
        f" p50 {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms, worst {ordered[-1]:.1f} ms"
    )


def main() -> None:
    spawn = multiprocessing.get_context("spawn")
    with scratch_postgres() as url, ProcessPoolExecutor(1, mp_context=spawn) as client:
        asyncio.run(_import(url))
        for number in range(1, ROUNDS + 1):
            before = os.getloadavg()[0]
            elapsed, latencies = asyncio.run(_round(url, client))
            print(_describe(number, elapsed, latencies, (before, os.getloadavg()[0])), flush=True)


if __name__ == "__main__":
    main()
