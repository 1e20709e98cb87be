"""What `run --wait` and `test` share: Ctrl-C handling, and the end of a suite run in words.

The first Ctrl-C (or SIGTERM) sets an event the command's workers stop on; a second Ctrl-C
stops the process at once (exit 130), leaving its runs to their leases.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import TYPE_CHECKING, Any

import click

from orchestra.cli.output import console

if TYPE_CHECKING:
    from rich.console import Console

INTERRUPTED = 130

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
    """An event the first SIGINT or SIGTERM sets while the loop runs; a second SIGINT ends
    the process at once (its runs come back when their leases expire)."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()

    def first(signum: int) -> None:
        if event.is_set():
            if signum == signal.SIGINT:
                _stop_now()
            return
        event.set()
        console(stderr=True).print(
            "\n[yellow]stopping:[/] letting the steps in flight finish (Ctrl-C again to stop "
            "at once)"
        )

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, first, signum)
    return event


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
