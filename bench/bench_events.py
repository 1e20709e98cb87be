"""A suite run's event stream (`GET /suite-runs/{id}/events`) while 1,000 runs finish on 4
worker processes: events delivered per second against runs ended per second, and the delay
from a run's end to its event reaching a client.

An `orchestra serve --no-auth` process serves the stream; 4 `bench.events_worker` processes
(concurrency 8 each) execute one-step runs whose step sleeps 0 to 2 x `BENCH_EVENTS_STEP_MS`
(default 100: a SUT answering in 100 ms on average), so the ends are spread over seconds. The
delay of a run is the time its `test-run` event arrived at this process's SSE client minus its
`finished_at` (PostgreSQL's `now()` in the transaction that ended it, a few milliseconds before
its commit): an upper bound of the delay from the commit. With Chromium at /usr/bin/chromium
(`BENCH_EVENTS_BROWSER=0` to skip), the live page `/ui/suite-runs/{id}` is open too, and the
delay to each run's row changing on it is measured the same way. `BENCH_EVENTS_N` (default
1000) runs; the whole measure is bounded to `BENCH_EVENTS_TIMEOUT` seconds (default 180).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

from bench.bench_claims import create_suite_run
from bench.support import scratch_postgres

N = int(os.environ.get("BENCH_EVENTS_N", "1000"))
WORKERS = 4
CONCURRENCY = 8
STEP_MS = float(os.environ.get("BENCH_EVENTS_STEP_MS", "100"))
TIMEOUT = float(os.environ.get("BENCH_EVENTS_TIMEOUT", "180"))
BROWSER = os.environ.get("BENCH_EVENTS_BROWSER", "1") != "0"
CHROMIUM = Path("/usr/bin/chromium")
TERMINAL = {"PASSED", "FAILED", "ERROR", "SKIPPED", "CANCELLED", "FAILED_STUCK"}


@dataclass
class Stream:
    """What the SSE client saw: when each run's end arrived, and every event counted."""

    arrived: dict[int, float] = field(default_factory=dict)
    events: int = 0
    first: float | None = None
    last: float | None = None


@contextlib.asynccontextmanager
async def api_server(url: str) -> AsyncIterator[str]:
    env = {**os.environ, "ORCHESTRA_DATABASE_URL": url}
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orchestra", "serve", "--no-auth", "--port", "0", "--json",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        text = ""
        while line := (await server.stdout.readline()).decode():
            text += line
            if line.startswith("}"):
                break
        yield str(json.loads(text)["url"])
    finally:
        server.terminate()
        await server.wait()


async def follow(api: str, suite_run_id: int, stream: Stream, opened: asyncio.Event) -> None:
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(f"{api}/suite-runs/{suite_run_id}/events") as response,
    ):
        name = ""
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                now = time.time()
                stream.events += 1
                data = json.loads(line.removeprefix("data: "))
                if name == "test-run" and data["status"] in TERMINAL:
                    stream.arrived.setdefault(data["test_run"], now)
                    stream.first = stream.first or now
                    stream.last = now
                opened.set()
                if name == "end":
                    return


async def workers(url: str, suite_run_id: int) -> None:
    arguments = [url, str(suite_run_id), str(STEP_MS), str(CONCURRENCY)]
    module = ("-m", "bench.events_worker")
    processes = [
        await asyncio.create_subprocess_exec(sys.executable, *module, *arguments)
        for _ in range(WORKERS)
    ]
    try:
        codes = await asyncio.gather(*(p.wait() for p in processes))
        assert codes == [0] * WORKERS, codes
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()


_WATCH_ROWS = """() => {
  window.__ended = {};
  const terminal = new Set(TERMINAL);
  const note = () => {
    for (const row of document.querySelectorAll("[data-run][data-status]")) {
      const id = row.getAttribute("data-run");
      if (!(id in window.__ended) && terminal.has(row.getAttribute("data-status"))) {
        window.__ended[id] = Date.now() / 1000;
      }
    }
  };
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true,
    attributes: true, attributeFilter: ["data-status"]});
}""".replace("TERMINAL", json.dumps(sorted(TERMINAL)))


@contextlib.asynccontextmanager
async def live_page(api: str, suite_run_id: int) -> AsyncIterator[Any]:
    """The live page in Chromium, noting when each run's row turns to an ended status; None
    without Chromium or Playwright."""
    if not BROWSER or not await asyncio.to_thread(CHROMIUM.exists):
        yield None
        return
    from orchestra.reports.screenshot import chromium

    async with chromium(CHROMIUM) as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        await page.goto(f"{api}/ui/suite-runs/{suite_run_id}")
        await page.evaluate(_WATCH_ROWS)
        yield page


async def finished_at(url: str, suite_run_id: int) -> dict[int, float]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute(
            "SELECT id, extract(epoch FROM finished_at)::float8 FROM test_run"
            " WHERE suite_run_id = %s",
            (suite_run_id,),
        )
        return {int(row[0]): float(row[1]) for row in await cur.fetchall()}


@dataclass
class Figures:
    ended: dict[int, float]
    stream: Stream
    on_page: dict[int, float] | None


async def measure(url: str) -> Figures:
    suite_run_id, _ = await create_suite_run(url, N)
    async with api_server(url) as api, live_page(api, suite_run_id) as page:
        stream, opened = Stream(), asyncio.Event()
        async with asyncio.timeout(TIMEOUT):
            following = asyncio.create_task(follow(api, suite_run_id, stream, opened))
            await opened.wait()  # the stream is open: nothing ends before it
            await workers(url, suite_run_id)
            await following
            on_page = None
            if page is not None:
                await page.wait_for_function(f"Object.keys(window.__ended).length >= {N}")
                on_page = {int(k): v for k, v in (await page.evaluate("window.__ended")).items()}
    return Figures(await finished_at(url, suite_run_id), stream, on_page)


def _delays(ended: dict[int, float], seen: dict[int, float]) -> str:
    delays = sorted(seen[run] - at for run, at in ended.items() if run in seen)
    if not delays:
        return "none seen"
    p50 = statistics.median(delays)
    p95 = delays[min(len(delays) - 1, int(0.95 * len(delays)))]
    return (
        f"p50 {1000 * p50:.0f} ms, p95 {1000 * p95:.0f} ms, max {1000 * delays[-1]:.0f} ms"
        f" ({len(delays)} of {len(ended)} runs){' (target p95 < 1 s)' if p95 >= 1 else ''}"
    )


def report(figures: Figures) -> None:
    ends = sorted(figures.ended.values())
    produced_span = max(ends[-1] - ends[0], 1e-3)
    stream = figures.stream
    delivered_span = max((stream.last or 0) - (stream.first or 0), 1e-3)
    produced, delivered = len(ends) / produced_span, len(stream.arrived) / delivered_span
    print(f"  {N} one-step runs on {WORKERS} workers x{CONCURRENCY}, steps of {STEP_MS:g} ms mean")
    print(
        f"  runs ended        {produced:7.0f}/s over {produced_span:.2f} s"
        f"   ends delivered {delivered:7.0f}/s over {delivered_span:.2f} s"
        f"   ratio {delivered / produced:.2f}; {len(stream.arrived)}/{len(ends)} ends told,"
        f" {stream.events} events in all"
    )
    print(f"  run ended -> its event at an SSE client: {_delays(figures.ended, stream.arrived)}")
    if figures.on_page is not None:
        print(
            f"  run ended -> its row on the live page:  {_delays(figures.ended, figures.on_page)}"
        )


def main() -> None:
    one, five, _ = os.getloadavg()
    print(f"  load {one:.1f}/{five:.1f}", flush=True)
    with scratch_postgres() as url:
        from orchestra.store import migrate

        migrate.upgrade(url)
        report(asyncio.run(measure(url)))


if __name__ == "__main__":
    main()
