"""SIGTERM and SIGINT from the very start of the commands that stop in order on them.

`worker` drains and exits 0; `test` and `run --wait` stop their workers and exit 130. A signal
may come while such a command is still starting (importing its modules, connecting to
PostgreSQL, checking the schema), before its event loop can take it: `main` catches them from
the start (`caught_from_start`), keeping the first for the command to act on once it can
(`caught`); a second SIGINT meanwhile stops the process at once. A command that finds it does
not stop in order (`run` without --wait) gives them back (`give_back`): one caught meanwhile
then does what it would have done.

Only the interpreter's own start-up, before `main` runs, is left to the default actions.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

INTERRUPTED = 130  # the exit code of a command stopped by Ctrl-C or SIGTERM

# the commands whose event loop takes SIGTERM and SIGINT to stop in order
STOPS_IN_ORDER = frozenset({"run", "test", "worker"})
_SIGNALS = (signal.SIGTERM, signal.SIGINT)

_caught: list[int] = []  # the first stop signal, while the command cannot take it yet


@contextmanager
def caught_from_start(args: Sequence[str]) -> Iterator[None]:
    """For a command that stops in order (its name is the first argument that is no option:
    the group's own take no value), catch SIGTERM and SIGINT while the block runs; as they
    were on the way out."""
    command = next((arg for arg in args if not arg.startswith("-")), None)
    if command not in STOPS_IN_ORDER or threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {signum: signal.getsignal(signum) for signum in _SIGNALS}
    for signum in _SIGNALS:
        signal.signal(signum, _catch)
    try:
        yield
    finally:
        _caught.clear()
        for signum, handler in before.items():
            signal.signal(signum, handler)


def _catch(signum: int, frame: FrameType | None) -> None:
    if not _caught:
        _caught.append(signum)
    elif signum == signal.SIGINT:
        # written as is: a signal handler that imports could find a module half imported
        os.write(2, b"\nstopped at once, while starting: nothing ran here\n")
        os._exit(INTERRUPTED)


def caught() -> int | None:
    """The stop signal caught since the start, if any: the command acts on it as its event
    loop takes SIGTERM and SIGINT over (`loop.add_signal_handler`)."""
    return _caught[0] if _caught else None


def give_back() -> None:
    """SIGTERM and SIGINT back to Python's own actions (SIGINT: KeyboardInterrupt); one
    caught since the start is raised again, and acts now."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if _caught:
        signal.raise_signal(_caught.pop())
