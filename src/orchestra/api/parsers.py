"""A process that parses large uploads, so that the API's own process keeps answering.

It generates the suites of large processes too (`services.generating.generated_rows`, from the
stored graph's JSON text to the rows' JSON text): validating a 20,000-task graph is one
pydantic-core call of 300-600 ms that holds the GIL, which a thread would share with the loop.

A thread was not enough: parsing a 20 MiB, 90,000-row CSV holds the GIL in turns with the event
loop, and each of the dozen hand-overs a request needs (accept, read, the database's round
trip, write) waited for the parser's next switch, so `/health` took 40-110 ms meanwhile on a
busy 2-core machine. In a process of its own the parser shares no GIL with the loop.

The process is started at the first upload that needs it (never at the server's start, and
not again for each upload: about half a second of CPU for its imports), with the `spawn`
method (no copy of the server's threads, sockets or pool connections), and stopped with the
server. A parser that died (killed, out of memory) is replaced, and the upload tried once
more in the new one; if that one dies too, the upload is refused (`ParserUnavailable`, 503).
An upload below `IN_PROCESS_FROM` is parsed in a thread still: it holds the loop for less than
the process would cost to start, and less than the 50 ms `/health` is allowed.

An upload goes to the process as the path of the file it was spooled to
(`orchestra.api.uploads`), and what the parser makes of it that is as large (a data set's
JSON) comes back as a file too: neither travels pickled, whole, through the pipe.

As with any `spawn`ed process, the new interpreter imports the parent's main module under
another name: `orchestra serve` and `python -m ...` are fine, and a script that serves
`create_app` itself must do so under `if __name__ == "__main__":`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import ParamSpec, TypeVar

from orchestra.api.errors import ParserUnavailable

P = ParamSpec("P")
T = TypeVar("T")

PARSERS = 1  # one upload parses at a time; the others wait their turn, off the loop
IN_PROCESS_FROM = 256 * 1024  # characters or bytes of arguments: a CSV of that parses in ~15 ms


class ParserProcess:
    """`await parsers.run(function, *args)`: `function(*args)` in the parser process when its
    text, bytes and file (`Path`, by its size) arguments are `in_process_from` long or more,
    else in a thread; in the process, the function, its arguments, its result and its errors
    travel pickled."""

    def __init__(self, in_process_from: int = IN_PROCESS_FROM) -> None:
        self.in_process_from = in_process_from
        self._pool: ProcessPoolExecutor | None = None
        self._starting = asyncio.Lock()

    async def run(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        if kwargs:
            raise TypeError("the parser process takes positional arguments only")
        if _size(args) < self.in_process_from:
            return await asyncio.to_thread(function, *args, **kwargs)
        try:
            return await self._in_process(function, *args)
        except BrokenProcessPool:  # the parser died (killed, out of memory): once more, anew
            try:
                return await self._in_process(function, *args)
            except BrokenProcessPool as exc:
                raise ParserUnavailable(
                    "the parser process died twice on this request (killed, or out of"
                    " memory); nothing was stored"
                ) from exc

    @property
    def started(self) -> bool:
        return self._pool is not None

    async def _in_process(self, function: Callable[..., T], *args: object) -> T:
        async with self._starting:  # one pool, however many uploads come first
            if self._pool is None:  # in a thread: ~20 ms of work the loop need not wait for
                self._pool = await asyncio.to_thread(_started_pool)
            pool = self._pool
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, function, *args)
        except BrokenProcessPool:
            if self._pool is pool:  # the next call starts a new parser
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise

    def close(self) -> None:
        """Stop the parser process, if one was started; an upload still parsing fails."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _size(args: tuple[object, ...]) -> int:
    """Characters, bytes, or a file's bytes on disk (none for one yet to be written)."""
    return sum(
        len(arg) if isinstance(arg, str | bytes) else _file_size(arg)
        for arg in args
        if isinstance(arg, str | bytes | Path)
    )


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _started_pool() -> ProcessPoolExecutor:
    pool = ProcessPoolExecutor(PARSERS, mp_context=multiprocessing.get_context("spawn"))
    pool.submit(int)  # spawns the process now, not in the first `run_in_executor`
    return pool
