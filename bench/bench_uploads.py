"""/health latency while the API processes a large data set upload, and the server's memory.

A real server (uvicorn, in this process's event loop) on a fresh PostgreSQL; a client in a
process of its own (so that its work shares neither the server's loop nor its GIL) uploads a
CSV data set of `BENCH_UPLOADS_MIB` MiB (default 20, 90,000 rows) while asking `/health` every
10 ms. Printed per round: the upload's time, the CPU time the server process (the parser
process apart) spent meanwhile, /health's p50, p99 and worst latency during it
(the issue's target: within 50 ms on a machine that is not overloaded, hence the load average
before and after the round), the server process's garbage collections meanwhile (the
longest pause, the count of full ones) and the pause of a full one forced before the upload,
once the server listens (what `gc.freeze()` saves). Then the peak resident memory the server
process grew by against the upload's size (from after a first round with a small upload,
which loads what any request does), and the peak resident memory of the parser process
(`orchestra.api.parsers`), apart: what it grew by above an idle parser's (one that parsed a
3-row CSV, imports and all), against the upload's size.

`BENCH_UPLOADS_ROUNDS` (default 3) rounds of each of `BENCH_UPLOADS_VARIANTS` (default
`serve`, how `orchestra serve` serves), alternating, so that variants compare under the same
load: `serve` (uvicorn's C HTTP parser, httptools, and the start-up objects frozen), `h11`
(uvicorn's pure-Python HTTP parser, nothing frozen), `unfrozen` (httptools, nothing frozen):
`h11` against `unfrozen` is the parser's part, `unfrozen` against `serve` the freeze's.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bench.support import scratch_postgres
from orchestra.api import create_app
from orchestra.api.server import ApiServer
from orchestra.bpmn import Limits
from orchestra.collector import freeze_start_up_objects
from orchestra.config import Settings

MIB = 1024 * 1024
SIZE = int(os.environ.get("BENCH_UPLOADS_MIB", "20")) * MIB
ROUNDS = int(os.environ.get("BENCH_UPLOADS_ROUNDS", "3"))
VARIANTS = os.environ.get("BENCH_UPLOADS_VARIANTS", "serve").split(",")
TOKEN = "bench-token"


@dataclass(frozen=True)
class Variant:
    http: Literal["h11", "httptools"] = "httptools"
    freeze: bool = True


KNOWN = {
    "serve": Variant(),
    "h11": Variant(http="h11", freeze=False),
    "unfrozen": Variant(freeze=False),
}


def csv_of(size: int, rows: int = 90_000) -> bytes:
    columns = [f"c{n}" for n in range(8)]
    width = max(1, size // rows // len(columns) - 1)
    line = ",".join("x" * width for _ in columns)
    return ("\n".join([",".join(columns), *([line] * rows)]) + "\n").encode()


@dataclass
class Collections:
    """The server process's garbage collections while watched (`gc.callbacks`)."""

    pauses: list[tuple[int, float]] = field(default_factory=list)  # (generation, ms)
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], (time.perf_counter() - self._started) * 1000))

    def describe(self) -> str:
        longest = max((ms for _, ms in self.pauses), default=0.0)
        full = sum(1 for generation, _ in self.pauses if generation == 2)
        return f"GC: {len(self.pauses)} collections, {full} full, longest {longest:.1f} ms"


def _parser_peak(client: int) -> int:
    """The peak resident memory (bytes) of the server's parser process, 0 if none runs."""
    peak = 0
    for child in multiprocessing.active_children():
        if child.pid is None or child.pid == client:
            continue
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
            return _parser_peak(client=-1)
        finally:
            parsers.close()


def upload_and_probe(base: str, size: int, rows: int) -> tuple[int, float, list[float]]:
    """In the client process: (its pid, the upload's seconds, /health's latencies in ms
    meanwhile). The CSV is made here: a copy pickled from the server's process would count in
    its memory."""
    elapsed, latencies = asyncio.run(_upload_and_probe(base, csv_of(size, rows)))
    return os.getpid(), elapsed, latencies


async def _upload_and_probe(base: str, body: bytes) -> tuple[float, list[float]]:
    import io

    import aiohttp

    latencies: list[float] = []
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/csv"}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/health") as reply:  # a connection, warm
            await reply.read()
        started = time.perf_counter()
        upload = asyncio.create_task(
            session.post(f"{base}/data-sets/big", data=io.BytesIO(body), headers=auth)
        )
        while not upload.done():
            asked = time.perf_counter()
            async with session.get(f"{base}/health") as reply:
                await reply.read()
            if not upload.done():
                latencies.append((time.perf_counter() - asked) * 1000)
            await asyncio.sleep(0.01)
        reply = await upload
        assert reply.status == 201, await reply.text()
        return time.perf_counter() - started, latencies


@dataclass(frozen=True)
class Round:
    elapsed: float
    latencies: list[float]
    parser: int
    collections: Collections
    full_ms: float  # a full collection's pause, forced once the server listened
    cpu: float  # the server process's CPU seconds during the upload (the parser's apart)


async def _round(
    url: str, upload: tuple[int, int], variant: Variant, client: ProcessPoolExecutor
) -> Round:
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="orchestra-bench-")), database_url=url)
    app = create_app(settings, token=TOKEN, limits=Limits(max_bytes=SIZE + MIB))
    server = ApiServer(app, port=0, quiet=True, http=variant.http)
    task = asyncio.create_task(server.serve())
    await server.listening.wait()
    if variant.freeze:
        freeze_start_up_objects()
    collecting = time.perf_counter()
    gc.collect()  # what a full collection costs the loop now, before the upload
    full_ms = (time.perf_counter() - collecting) * 1000
    collections = Collections()
    gc.callbacks.append(collections)
    try:
        loop = asyncio.get_running_loop()
        cpu = time.process_time()
        client_pid, elapsed, latencies = await loop.run_in_executor(
            client, upload_and_probe, server.url, *upload
        )
        cpu = time.process_time() - cpu
        parser = _parser_peak(client_pid)
    finally:
        gc.callbacks.remove(collections)
        server.should_exit = True
        await task
        gc.unfreeze()
    return Round(elapsed, latencies, parser, collections, full_ms, cpu)


def _describe(name: str, number: int, run: Round, load: tuple[float, float]) -> str:
    ordered = sorted(run.latencies) or [0.0]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"  {name:>9} round {number}: load {load[0]:.1f}->{load[1]:.1f}; upload of"
        f" {SIZE / MIB:.1f} MiB in {run.elapsed:.2f} s, server CPU {run.cpu:.2f} s;"
        f" /health asked {len(run.latencies)} times meanwhile:"
        f" p50 {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms,"
        f" worst {ordered[-1]:.1f} ms; {run.collections.describe()}"
        f" (a forced full one before: {run.full_ms:.1f} ms)"
    )


def main() -> None:
    unknown = [name for name in VARIANTS if name not in KNOWN]
    if unknown:
        raise SystemExit(f"BENCH_UPLOADS_VARIANTS: unknown {unknown}, known {list(KNOWN)}")
    parser = 0
    spawn = multiprocessing.get_context("spawn")
    with scratch_postgres() as url, ProcessPoolExecutor(1, mp_context=spawn) as client:
        from orchestra.store import migrate

        migrate.upgrade(url)
        idle_parser = asyncio.run(_idle_parser_peak())  # before the client process starts
        for name in VARIANTS:  # each variant's imports, then the client's, loaded
            asyncio.run(_round(url, (64 * 1024, 100), KNOWN[name], client))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        for number in range(1, ROUNDS + 1):
            for name in VARIANTS:
                before = os.getloadavg()[0]
                run = asyncio.run(_round(url, (SIZE, 90_000), KNOWN[name], client))
                parser = max(parser, run.parser)
                load = (before, os.getloadavg()[0])
                print(_describe(name, number, run, load), flush=True)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    parser_grown = parser - idle_parser
    print(
        f"  server: peak memory grew by {grown / MIB:.0f} MiB, {grown / SIZE:.1f}x the"
        f" upload; parser process: peak {parser / MIB:.0f} MiB, {parser_grown / MIB:.1f} MiB"
        f" above an idle parser's {idle_parser / MIB:.0f} MiB, {parser_grown / SIZE:.1f}x"
        " the upload"
    )


if __name__ == "__main__":
    main()
