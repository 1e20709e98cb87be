"""A mapping that keeps its newest entries only: what a long-running worker remembers."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Bounded(MutableMapping[K, V]):
    """A dict of at most `size` entries: adding a new key to a full one forgets the oldest
    (the first added; setting a key again keeps its place: pop it first to renew it)."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a Bounded mapping holds at least one entry, not {size}")
        self.size = size
        self._items: dict[K, V] = {}

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __setitem__(self, key: K, value: V) -> None:
        if key not in self._items and len(self._items) >= self.size:
            del self._items[next(iter(self._items))]  # the oldest
        self._items[key] = value

    def __delitem__(self, key: K) -> None:
        del self._items[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)
