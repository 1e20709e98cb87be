"""/health latency while the API processes a large data set upload, and the server's memory.

A real server (uvicorn, in this process's event loop) on a fresh PostgreSQL; a client uploads a
CSV data set of `BENCH_UPLOADS_MIB` MiB (default 20, 90,000 rows) while another asks `/health`
every 10 ms. Printed: the upload's time, /health's p50, p99 and worst latency during it (the
issue's target: within 50 ms), and the peak resident memory the process grew by against the
upload's size. `BENCH_UPLOADS_ROUNDS` (default 3) rounds.
"""

from __future__ import annotations

import asyncio
import io
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.support import scratch_postgres
from orchestra.api import create_app
from orchestra.api.server import ApiServer
from orchestra.bpmn import Limits
from orchestra.config import Settings

MIB = 1024 * 1024
SIZE = int(os.environ.get("BENCH_UPLOADS_MIB", "20")) * MIB
ROUNDS = int(os.environ.get("BENCH_UPLOADS_ROUNDS", "3"))
TOKEN = "bench-token"


def csv_of(size: int, rows: int = 90_000) -> bytes:
    columns = [f"c{n}" for n in range(8)]
    width = max(1, size // rows // len(columns) - 1)
    line = ",".join("x" * width for _ in columns)
    return ("\n".join([",".join(columns), *([line] * rows)]) + "\n").encode()


async def _round(url: str, body: bytes) -> tuple[float, list[float]]:
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="orchestra-bench-")), database_url=url)
    app = create_app(settings, token=TOKEN, limits=Limits(max_bytes=SIZE + MIB))
    server = ApiServer(app, port=0, quiet=True)
    task = asyncio.create_task(server.serve())
    await server.listening.wait()
    latencies: list[float] = []
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/csv"}
    try:
        async with aiohttp.ClientSession() as session:
            started = time.perf_counter()
            upload = asyncio.create_task(
                session.post(f"{server.url}/data-sets/big", data=io.BytesIO(body), headers=auth)
            )
            while not upload.done():
                asked = time.perf_counter()
                async with session.get(f"{server.url}/health") as reply:
                    await reply.read()
                if not upload.done():
                    latencies.append((time.perf_counter() - asked) * 1000)
                await asyncio.sleep(0.01)
            reply = await upload
            assert reply.status == 201, await reply.text()
            elapsed = time.perf_counter() - started
    finally:
        server.should_exit = True
        await task
    return elapsed, latencies


def main() -> None:
    body = csv_of(SIZE)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with scratch_postgres() as url:
        from orchestra.store import migrate

        migrate.upgrade(url)
        for number in range(1, ROUNDS + 1):
            elapsed, latencies = asyncio.run(_round(url, body))
            ordered = sorted(latencies) or [0.0]
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            print(
                f"  round {number}: upload of {len(body) / MIB:.1f} MiB in {elapsed:.2f} s;"
                f" /health asked {len(latencies)} times meanwhile: p50"
                f" {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms,"
                f" worst {ordered[-1]:.1f} ms",
                flush=True,
            )
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    print(f"  peak memory grew by {grown / MIB:.0f} MiB: {grown / len(body):.1f}x the upload")


if __name__ == "__main__":
    main()
