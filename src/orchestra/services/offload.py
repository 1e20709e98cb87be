"""How a use case runs a CPU-heavy call (a large upload's parse) off the event loop.

`asyncio.to_thread` (the CLI's way, where nothing else waits on the loop), or the API's parser
process (`orchestra.api.parsers.ParserProcess.run`), where no GIL is shared with the loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Offload(Protocol):
    def __call__(
        self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Awaitable[T]: ...
