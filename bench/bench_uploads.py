"""/health latency while the API processes a large data set upload, and the server's memory.

A real server (uvicorn, in this process's event loop) on a fresh PostgreSQL; a client uploads a
CSV data set of `BENCH_UPLOADS_MIB` MiB (default 20, 90,000 rows) while another asks `/health`
every 10 ms. Printed: the upload's time, /health's p50, p99 and worst latency during it (the
issue's target: within 50 ms), the peak resident memory the process grew by against the
upload's size (from after a first round with a small upload, which loads what any request
does), and the peak resident memory of the parser process (`orchestra.api.parsers`), apart:
what it grew by above an idle parser's (one that parsed a 3-row CSV, imports and all), against
the upload's size. `BENCH_UPLOADS_ROUNDS` (default 3) rounds.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
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


def _parser_peak() -> int:
    """The peak resident memory (bytes) of the server's parser process, 0 if none runs."""
    peak = 0
    for child in multiprocessing.active_children():
        status = Path(f"/proc/{child.pid}/status").read_text(encoding="ascii")
        kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
        peak = max(peak, int(kib) * 1024)
    return peak


async def _idle_parser_peak() -> int:
    """The peak resident memory of a parser process that parsed a 3-row CSV: its imports."""
    from orchestra.api.parsers import ParserProcess
    from orchestra.binding.datasets import write_dataset_json

    parsers = ParserProcess(in_process_from=0)
    with tempfile.TemporaryDirectory(prefix="orchestra-bench-") as directory:
        tiny = Path(directory) / "tiny.csv"
        tiny.write_text("a,b\n1,2\n3,4\n5,6\n", encoding="utf-8")
        try:
            await parsers.run(write_dataset_json, tiny, tiny.name, Path(directory) / "rows.json")
            return _parser_peak()
        finally:
            parsers.close()


async def _round(url: str, body: bytes) -> tuple[float, list[float], int]:
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
            parser = _parser_peak()
    finally:
        server.should_exit = True
        await task
    return elapsed, latencies, parser


def main() -> None:
    body = csv_of(SIZE)
    parser = 0
    with scratch_postgres() as url:
        from orchestra.store import migrate

        migrate.upgrade(url)
        asyncio.run(_round(url, csv_of(64 * 1024, rows=100)))
        idle_parser = asyncio.run(_idle_parser_peak())
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        for number in range(1, ROUNDS + 1):
            elapsed, latencies, peak = asyncio.run(_round(url, body))
            parser = max(parser, peak)
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
    parser_grown = parser - idle_parser
    print(
        f"  server: peak memory grew by {grown / MIB:.0f} MiB, {grown / len(body):.1f}x the"
        f" upload; parser process: peak {parser / MIB:.0f} MiB, {parser_grown / MIB:.1f} MiB"
        f" above an idle parser's {idle_parser / MIB:.0f} MiB, {parser_grown / len(body):.1f}x"
        " the upload"
    )


if __name__ == "__main__":
    main()
