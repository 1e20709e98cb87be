"""What `run --wait` and `test` share: Ctrl-C handling, and the end of a suite run in words.

The first Ctrl-C (or SIGTERM) sets an event the command's workers stop on; a second Ctrl-C
stops the process at once (exit 130), leaving its runs to their leases. One that comes while
the command connects to PostgreSQL ends it at once, nothing run (`unless_stopped`; `worker`
too).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from orchestra.cli import stopping
from orchestra.cli.output import console, emit
from orchestra.cli.stopping import INTERRUPTED

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from rich.console import Console

T = TypeVar("T")

on_interrupt_option = click.option(
    "--on-interrupt",
    type=click.Choice(["cancel", "leave"]),
    default="cancel",
    show_default=True,
    help="What the first Ctrl-C does: cancel the suite run (its unfinished runs end "
    "CANCELLED), or leave it in progress for `orchestra worker` to finish. A second Ctrl-C "
    "stops at once.",
)


def stop_on_signals() -> asyncio.Event:
    """An event the first SIGINT or SIGTERM sets while the loop runs, or set already when
    one came while the command was starting (`stopping`); a second SIGINT ends the process
    at once (its runs come back when their leases expire)."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()

    def first(signum: int) -> None:
        if event.is_set():
            if signum == signal.SIGINT:
                _stop_now()
            return
        event.set()
        console(stderr=True).print(
            "\n[yellow]stopping:[/] any step in flight finishes first (Ctrl-C again to stop "
            "at once)"
        )

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, first, signum)
    early = stopping.caught()
    if early is not None:
        first(early)
    return event


@asynccontextmanager
async def unless_stopped(
    entering: AbstractAsyncContextManager[T], stop: asyncio.Event
) -> AsyncIterator[T | None]:
    """`entering` entered for the block (the database opened: connected, its schema checked),
    or None as soon as `stop` is set first, its entering cancelled: a server that does not
    answer keeps no one waiting for a stop."""
    async with AsyncExitStack() as stack:
        entered = asyncio.ensure_future(stack.enter_async_context(entering))
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([entered, stopped], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            entered.cancel()  # when it has not returned
        with suppress(asyncio.CancelledError):
            await entered
        yield None if entered.cancelled() else entered.result()


def exit_stopped_while_starting(as_json: bool) -> NoReturn:
    """Exit 130: stopped before the suite run was started, nothing run."""
    emit(
        {"interrupted": True, "suite_run": None},
        as_json=as_json,
        human=lambda out: out.print("interrupted while starting: no suite run started"),
    )
    raise click.exceptions.Exit(INTERRUPTED)


def _stop_now() -> None:
    console(stderr=True).print(
        "[red]stopped at once:[/] the runs in flight come back to the queue when their leases "
        "expire"
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(INTERRUPTED)


def print_counts(out: Console, result: dict[str, Any]) -> None:
    """A suite run's counts by status (FAILED and ERROR apart) and how many runs finished."""
    from rich.table import Table

    table = Table(title=f"suite run {result['suite_run']}: {result['status']}")
    table.add_column("status")
    table.add_column("runs", justify="right")
    for status, n in result["counts"].items():
        table.add_row(status, str(n))
    out.print(table)
    out.print(f"{result['done']} of {result['total']} runs finished")


def print_outcome(out: Console, result: dict[str, Any]) -> None:
    """A suite run's counts, then one line per failed or errored run, then what an interrupt
    did."""
    print_counts(out, result)
    print_failures(out, result.get("failures") or [])
    if result.get("interrupted"):
        print_interrupt(out, result)


def print_failures(out: Console, failures: list[dict[str, Any]]) -> None:
    from rich.markup import escape

    from orchestra.services.failures import failure_line

    for failure in failures:
        colour = {"FAILED": "red", "PASSED": "yellow"}.get(failure["status"], "magenta")
        out.print(f"[{colour}]✗[/] {escape(failure_line(failure))}")


def print_interrupt(out: Console, result: dict[str, Any]) -> None:
    suite_run = result["suite_run"]
    if result["status"] == "IN_PROGRESS" and result.get("on_interrupt") == "leave":
        left = result["total"] - result["done"]
        out.print(
            f"interrupted: suite run {suite_run} is still in progress with {left} runs "
            f"unfinished. Continue it with `orchestra worker` (any machine, same database), "
            f"or cancel it with `orchestra cancel {suite_run}`."
        )
    elif result["status"] == "IN_PROGRESS":  # only the watching stopped
        out.print(
            f"stopped watching: suite run {suite_run} goes on (`orchestra status {suite_run} "
            "--watch` follows it again)."
        )
    elif result.get("cancelled"):
        out.print(
            f"interrupted: suite run {suite_run} cancelled, {result['cancelled']} unfinished "
            "runs CANCELLED."
        )
    else:
        out.print(f"interrupted: suite run {suite_run} had already ended {result['status']}.")
