"""Look-ups that concurrent callers share: what the runs a worker claims together need once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """One look-up per key at a time: a caller asking for a key whose look-up is on its way
    awaits that one rather than making its own (the 32 runs of one claim need one scenario,
    not 32 reads of it). A look-up outlives a caller that is cancelled while the others wait
    for it; its failure is every waiting caller's, and the next caller looks up again."""

    def __init__(self) -> None:
        self._flying: dict[K, asyncio.Future[V]] = {}

    async def run(self, key: K, look_up: Callable[[], Awaitable[V]]) -> V:
        flying = self._flying.get(key)
        if flying is None:
            flying = asyncio.ensure_future(look_up())
            self._flying[key] = flying
            flying.add_done_callback(lambda done: self._landed(key, done))
        return await asyncio.shield(flying)

    def _landed(self, key: K, done: asyncio.Future[V]) -> None:
        if self._flying.get(key) is done:
            del self._flying[key]
        if not done.cancelled():
            done.exception()  # retrieved: a failure no caller waited for is not logged as lost
