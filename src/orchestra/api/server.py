"""Uvicorn, telling when it listens and where, or why it could not: `orchestra serve`, the
example SUT and the tests use it."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
from collections.abc import Iterator
from typing import Literal

import uvicorn
from starlette.applications import Starlette


class ApiServer(uvicorn.Server):
    """A uvicorn server whose `listening` event is set once its socket accepts requests. When it
    cannot start, `serve()` returns with `started` false (and `bind_error` saying why when the
    address was the problem) instead of uvicorn's SystemExit, which would escape the loop."""

    def __init__(
        self,
        app: Starlette,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        quiet: bool = False,
        graceful_signals: bool = True,
        http: Literal["h11", "httptools"] = "httptools",
    ) -> None:
        self.graceful_signals = graceful_signals  # False: uvicorn's way (see capture_signals)
        level = "warning" if quiet else "info"
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            lifespan="on",
            log_level=level,
            access_log=not quiet,
            http=http,  # C, not h11's pure Python: a large body is read in fewer, shorter steps
        )
        super().__init__(config)
        self.app = app
        self.listening = asyncio.Event()
        self.bind_error: OSError | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        except SystemExit as exc:  # uvicorn exits when it cannot bind or the app cannot start
            self.should_exit = True  # `serve` then returns, `started` false, instead of raising
            cause = exc.__context__
            self.bind_error = cause if isinstance(cause, OSError) else None
            return
        if self.started:
            self.listening.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop: first tell the app's endless responses (event streams) to end, through its
        `state.stopping` event when it has one; uvicorn waits for every open response."""
        stopping = getattr(self.app.state, "stopping", None)
        if isinstance(stopping, asyncio.Event):
            stopping.set()
        await super().shutdown(sockets)

    @property
    def url(self) -> str:
        """`http://host:port`, with the port really bound (a free one when asked for 0)."""
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM stop the server gracefully, and the process then exits normally
        (uvicorn's own version, kept with `graceful_signals=False`, raises the signal again once
        stopped, ending a process that would otherwise wait on)."""
        if not self.graceful_signals:
            with super().capture_signals():
                yield
            return
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
