"""Concurrent look-ups of one key share one: the runs of a claim need a scenario once."""

from __future__ import annotations

import asyncio

import pytest

from orchestra.runtime.flights import SingleFlight


class Lookups:
    """A look-up that counts its calls and waits until `release` is set."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.fail = False

    async def __call__(self) -> str:
        self.calls += 1
        await self.release.wait()
        if self.fail:
            raise LookupError("gone")
        return f"value {self.calls}"


async def test_callers_asking_for_one_key_at_once_share_one_look_up() -> None:
    flights: SingleFlight[int, str] = SingleFlight()
    look_up = Lookups()
    callers = [asyncio.create_task(flights.run(7, look_up)) for _ in range(32)]
    await asyncio.sleep(0)
    look_up.release.set()
    assert await asyncio.gather(*callers) == ["value 1"] * 32
    assert look_up.calls == 1


async def test_a_key_asked_for_after_its_look_up_landed_is_looked_up_again() -> None:
    flights: SingleFlight[int, str] = SingleFlight()
    look_up = Lookups()
    look_up.release.set()
    assert await flights.run(7, look_up) == "value 1"
    assert await flights.run(7, look_up) == "value 2"


async def test_other_keys_are_looked_up_apart() -> None:
    flights: SingleFlight[int, str] = SingleFlight()
    look_up = Lookups()
    look_up.release.set()
    found = await asyncio.gather(flights.run(1, look_up), flights.run(2, look_up))
    assert list(found) == ["value 1", "value 2"]


async def test_a_failed_look_up_fails_every_waiting_caller_and_the_next_one_tries_again() -> None:
    flights: SingleFlight[int, str] = SingleFlight()
    look_up = Lookups()
    look_up.fail = True
    callers = [asyncio.create_task(flights.run(7, look_up)) for _ in range(3)]
    await asyncio.sleep(0)
    look_up.release.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, LookupError) for r in results)
    look_up.fail = False
    assert await flights.run(7, look_up) == "value 2"


async def test_a_cancelled_caller_leaves_the_look_up_to_the_others() -> None:
    flights: SingleFlight[int, str] = SingleFlight()
    look_up = Lookups()
    first = asyncio.create_task(flights.run(7, look_up))
    second = asyncio.create_task(flights.run(7, look_up))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    look_up.release.set()
    assert await second == "value 1"
    assert look_up.calls == 1
