"""The HTTP client imported ahead, in a thread of its own: light, so a command can start it first.

aiohttp costs 0.1-0.2 s of imports (its TLS contexts load the system's certificates). Imported
on the event loop it held the loop, every run and heartbeat of the worker waiting; imported
here, it goes on while the command opens the database and looks its inputs up.
"""

from __future__ import annotations

import importlib
import threading
from concurrent.futures import Future

_imported: Future[None] | None = None
_importing = threading.Lock()


def import_http_client() -> Future[None]:
    """Start importing the HTTP client, once per process; done when it is imported (an
    executor's build waits for it). A command that will run steps calls it first thing."""
    global _imported
    with _importing:
        if _imported is None:
            _imported = Future()
            threading.Thread(target=_import, args=(_imported,), daemon=True).start()
        return _imported


def _import(done: Future[None]) -> None:
    try:
        importlib.import_module("orchestra.protocols.http_client")
    except BaseException as exc:  # the build waiting for it raises it
        done.set_exception(exc)
    else:
        done.set_result(None)
