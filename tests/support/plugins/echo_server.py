"""A real line-echo TCP server on 127.0.0.1 in a thread: each line comes back as it was sent."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Echo(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline(64 * 1024)
        self.server.lines.append(line)  # type: ignore[attr-defined]
        self.wfile.write(line)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Echo)
        self.lines: list[bytes] = []


@contextmanager
def echo_server() -> Iterator[tuple[str, list[bytes]]]:
    """(`tcp-echo://127.0.0.1:PORT`, the lines received so far) while the server runs."""
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"tcp-echo://127.0.0.1:{server.server_address[1]}", server.lines
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
