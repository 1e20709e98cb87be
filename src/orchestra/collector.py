"""The cyclic garbage collector and what a process makes at start-up.

Imports (and a server's app and pool) make hundreds of thousands of objects that live as long
as the process and are never garbage. Walking them again at each full collection frees nothing
and pauses the event loop, so once start-up is over they are frozen (`gc.freeze`) out of the
collector's sight; what the work makes afterwards is still collected.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Objects the youngest generation holds before the collector looks at them: 700 by default,
# where `orchestra test`'s modules make some 400,000 objects, none of them garbage.
_YOUNG_OBJECTS = 5_000


@contextmanager
def paused_during_start_up() -> Iterator[None]:
    """The collector off while start-up imports modules (it would walk their classes and
    functions over and over, freeing nothing), back on from `resume_after_start_up`; as it
    was on the way out, nothing frozen."""
    enabled, threshold = gc.isenabled(), gc.get_threshold()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
        if enabled:
            gc.enable()


def resume_after_start_up() -> None:
    """The collector on, what start-up made frozen for good, and the young generation larger:
    the work's own garbage is still collected."""
    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], _YOUNG_OBJECTS), *threshold[1:])
    gc.enable()


@contextmanager
def paused() -> Iterator[None]:
    """The collector held off while a block makes tens of thousands of objects none of which
    is in a cycle (a report's rows, records and parts): they would set off collections that
    walk the whole heap, for nothing. They are collected afterwards like any; a block within
    another leaves it to the outer, and a collector off stays off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def freeze_start_up_objects() -> None:
    """Collect start-up's garbage, then freeze every object alive (the imports, the app, the
    pool): a full collection then walks only what requests made, not the whole server. Once a
    server listens, in a process that serves it only."""
    gc.collect()
    gc.freeze()


def frozen_at_exit() -> None:
    """Freeze every object alive once the command is over (at exit, after the other exit
    handlers): the interpreter's last collections then walk nothing, where they walked the whole
    heap of a command that ran a suite (~70 ms of CPU after `orchestra test` of 1,000 steps).
    The process ends; what a collection would free, its end frees too."""
    atexit.unregister(gc.freeze)  # once, however many commands ran in this process
    atexit.register(gc.freeze)
