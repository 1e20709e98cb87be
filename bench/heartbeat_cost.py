"""What the heartbeat's look-up of runs cancelled under their lease adds: one worker holds N
leases among 5,000 runs; prints the heartbeat's median wall time, and (EXPLAIN ANALYZE) the time
of its renewal and of its look-up, with none and with three of the runs cancelled.

    python -m bench.heartbeat_cost [N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from typing import Any

from bench.support import scratch_postgres
from bench.sweep_cost import _scenario, _step, _suite
from orchestra.services import running
from orchestra.store import migrate
from orchestra.store.database import Database, ServerInfo, connect_pool
from orchestra.store.queries import sql
from orchestra.store.runs import RunRepository

ROUNDS = 200


async def measure(leases: int) -> None:
    with scratch_postgres() as url:
        await asyncio.to_thread(migrate.upgrade, url)
        async with connect_pool(url, max_size=2, upgrade=False) as pool:
            db = Database(pool, ServerInfo(url=url, embedded=False))
            suite = await _suite(db, [_scenario(f"s{i}", [_step(0, "a")]) for i in range(50)], "p")
            for _ in range(100):
                await running.start_suite_run(db, suite)
            async with pool.connection() as conn:
                await conn.execute("ANALYZE test_run")
                claimed = await RunRepository(conn).claim("w", leases, lease_seconds=600)
                held = {run.id: run.attempt for run in claimed}
                print(f"{leases} leases: {await _wall_ms(conn, held):.2f} ms per heartbeat")
                print("  none cancelled: " + await _parts(conn, held))
                await conn.execute(
                    "UPDATE test_run SET status = 'CANCELLED', lock_until = NULL"
                    " WHERE id = ANY(%s)",
                    [list(held)[:3]],
                )
                print("  three cancelled: " + await _parts(conn, held))


async def _wall_ms(conn: Any, held: dict[int, int]) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        await RunRepository(conn).heartbeat("w", held, 600)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _parts(conn: Any, held: dict[int, int]) -> str:
    """The renewal's and the look-up's actual times, from the plan of the last of three."""
    params = {"worker": "w", "ids": list(held), "attempts": list(held.values())}
    for _ in range(3):
        cursor = await conn.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + sql("heartbeat"), params | {"lease_seconds": 600}
        )
    (row,) = await cursor.fetchall()
    renewal, lookup = row["QUERY PLAN"][0]["Plan"]["Plans"][1:3]
    return (
        f"renewal {renewal['Actual Total Time']:.2f} ms,"
        f" look-up {lookup['Actual Total Time']:.3f} ms ({lookup['Actual Rows']} rows)"
    )


def main() -> None:
    for leases in [int(a) for a in sys.argv[1:]] or [32, 256]:
        asyncio.run(measure(leases))


if __name__ == "__main__":
    main()
