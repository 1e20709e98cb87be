"""The bare client loop of `bench_steps`: each scenario creates, reads, pays, reads and cancels
an order on the SUT with one aiohttp session, `concurrency` scenarios at a time. `after_step`,
when given, is awaited after each step with (scenario, position, status, payload) before the
next step: the durable loop commits there (`bench.durable_loop`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

AfterStep = Callable[[int, int, int, dict[str, Any]], Awaitable[None]]


async def order_loop(
    base_url: str, runs: int, concurrency: int, after_step: AfterStep | None = None
) -> float:
    """Run `runs` scenarios; the elapsed seconds."""
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call(
            i: int, position: int, method: str, path: str, body: object = None
        ) -> dict[str, Any]:
            headers = {"Idempotency-Key": f"{i}-{position}"}
            async with session.request(
                method, base_url + path, headers=headers, json=body
            ) as response:
                payload: dict[str, Any] = await response.json()
                assert response.status in (200, 201), response.status
            if after_step is not None:
                await after_step(i, position, response.status, payload)
            return payload

        async def scenario(i: int) -> None:
            created = await call(i, 0, "POST", "/orders", {"amount": i})
            order = f"/orders/{created['id']}"
            assert (await call(i, 1, "GET", order))["status"] == "CREATED"
            assert (await call(i, 2, "POST", f"{order}/pay"))["status"] == "PAID"
            assert (await call(i, 3, "GET", order))["status"] == "PAID"
            assert (await call(i, 4, "POST", f"{order}/cancel"))["status"] == "CANCELLED"

        counter = iter(range(runs))

        async def worker() -> None:
            for i in counter:
                await scenario(i)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started
