"""The least a durable runner must add to the bare aiohttp loop: each step's result committed
before the scenario's next step, the commits of concurrent scenarios grouped into shared
transactions. No templates, no checks beyond the bare loop's, no leases, no scheduling.

Measured beside Orchestra and the bare loop in `bench_steps`: its steps/s over the bare loop's is
a reference for what checkpointing every step costs on this machine and SUT. Like Orchestra's
group committer (`store.commits`), two flushers on two connections take turns, so one group
fills while the other commits (PostgreSQL shares a flush between concurrent commits). Not a
bound: a runner could group otherwise. Each step writes one row (run, position, status,
response) and moves its run's cursor, in one transaction per group, `synchronous_commit` on.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from bench.order_loop import order_loop
from bench.support import Measure, measure

SCHEMA = """
DROP TABLE IF EXISTS bench_step, bench_cursor;
CREATE TABLE bench_cursor (run integer PRIMARY KEY, position integer NOT NULL);
CREATE TABLE bench_step (
    run integer NOT NULL, position integer NOT NULL, status integer NOT NULL,
    response jsonb NOT NULL, PRIMARY KEY (run, position)
);
"""

WRITE = """
WITH steps AS (
    INSERT INTO bench_step (run, position, status, response)
    SELECT * FROM unnest(%(runs)s::int[], %(positions)s::int[], %(statuses)s::int[],
                         %(responses)s::jsonb[])
)
INSERT INTO bench_cursor (run, position)
SELECT * FROM unnest(%(runs)s::int[], %(positions)s::int[])
ON CONFLICT (run) DO UPDATE SET position = excluded.position
"""


class GroupCommit:
    """Rows waiting for the next transaction; a free flusher commits all of them at once."""

    def __init__(self) -> None:
        self.pending: list[tuple[int, int, int, Any, asyncio.Future[None]]] = []
        self.wake = asyncio.Event()
        self.closed = False

    async def record(self, run: int, position: int, status: int, response: Any) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((run, position, status, Jsonb(response), done))
        self.wake.set()
        await done

    async def flusher(self, conn: psycopg.AsyncConnection[Any]) -> None:
        while not self.closed or self.pending:
            await self.wake.wait()
            self.wake.clear()
            batch, self.pending = self.pending, []
            if not batch:
                continue
            async with conn.transaction():
                await conn.execute(
                    WRITE,
                    {
                        "runs": [row[0] for row in batch],
                        "positions": [row[1] for row in batch],
                        "statuses": [row[2] for row in batch],
                        "responses": [row[3] for row in batch],
                    },
                )
            for row in batch:
                row[4].set_result(None)


async def durable_loop(base_url: str, url: str, runs: int, concurrency: int) -> float:
    """The bare loop's scenarios, each step's response committed before the next step."""
    async with (
        await psycopg.AsyncConnection.connect(url, autocommit=True) as conn,
        await psycopg.AsyncConnection.connect(url, autocommit=True) as other,
    ):
        await conn.execute(SCHEMA)
        committer = GroupCommit()
        flushing = [asyncio.create_task(committer.flusher(c)) for c in (conn, other)]
        elapsed = await order_loop(base_url, runs, concurrency, committer.record)
        committer.closed = True
        committer.wake.set()
        await asyncio.gather(*flushing)
        return elapsed


def measure_durable(url: str, base_url: str, runs: int, concurrency: int) -> tuple[float, Measure]:
    """Elapsed seconds and the CPU it cost (this process, PostgreSQL)."""
    with measure(url) as m:
        elapsed = asyncio.run(durable_loop(base_url, url, runs, concurrency))
    return elapsed, m
