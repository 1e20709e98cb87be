"""`orchestra prune`: delete ended suite runs and all that is theirs."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from orchestra.cli.output import emit, json_option, with_database
from orchestra.cli.params import SUITE, SUITE_RUN
from orchestra.domain.references import SuiteRef, SuiteRunRef
from orchestra.domain.timestamps import rfc3339
from orchestra.services import retention

if TYPE_CHECKING:
    from orchestra.store.database import Database

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
SHOWN = 20  # suite runs listed in the human output; the JSON has them all


class Duration(click.ParamType[timedelta]):
    """`30d`, `12h`, `90m`, `45s`, `2w`, or parts together: `1d12h`."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        text = str(value).strip().lower()
        parts = _PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            self.fail(
                f"{value!r} is not a duration like 30d, 12h, 90m, 45s, 2w or 1d12h", param, ctx
            )
        try:
            return sum((timedelta(**{_UNITS[unit]: float(n)}) for n, unit in parts), timedelta())
        except OverflowError:
            self.fail(f"{value!r} is too long", param, ctx)


@click.command()
@click.option(
    "--older-than",
    type=Duration(),
    help="Suite runs that ended longer ago than this (30d, 12h, 1d12h), by the server's clock.",
)
@click.option(
    "--keep-last",
    type=click.IntRange(min=0),
    help="Keep the N newest ended suite runs of each suite.",
)
@click.option("--suite", type=SUITE, help="Only the suite runs of this suite.")
@click.option(
    "--suite-run",
    "suite_runs",
    type=SUITE_RUN,
    multiple=True,
    help="This suite run (repeat for more).",
)
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@json_option
def prune(
    older_than: timedelta | None,
    keep_last: int | None,
    suite: SuiteRef | None,
    suite_runs: tuple[SuiteRunRef, ...],
    dry_run: bool,
    as_json: bool,
) -> None:
    """Delete ended suite runs with their test runs, step results and lost leases: those older
    than --older-than, beyond the --keep-last newest of each suite, or named by --suite-run
    (filters given together must all hold). Suite runs in progress are never deleted.
    A suite or suite run is named by its id, `latest` or its process (see `orchestra run`)."""

    async def prune_them(db: Database) -> retention.Pruned:
        from orchestra.services import references

        suite_id = None if suite is None else await references.suite_id(db, suite)
        ids = [await references.suite_run_id(db, ref) for ref in suite_runs]
        return await retention.prune(
            db,
            older_than=older_than,
            keep_last=keep_last,
            suite_id=suite_id,
            ids=ids,
            dry_run=dry_run,
        )

    pruned = with_database(prune_them)
    emit(pruned.to_json(), as_json=as_json, human=lambda out: _print(out, pruned))


def _print(out: Console, pruned: retention.Pruned) -> None:
    totals = pruned.totals()
    verb = "Would delete" if pruned.dry_run else "Deleted"
    out.print(
        f"{verb} {totals['suite_runs']} suite run{'s' if totals['suite_runs'] != 1 else ''}"
        f" ({totals['test_runs']} test runs, {totals['step_results']} step results)"
    )
    if not pruned.suite_runs:
        return
    table = Table("suite run", "suite", "status", "finished", "test runs", "step results")
    for run in pruned.suite_runs[:SHOWN]:
        table.add_row(
            str(run["id"]),
            str(run["suite_id"]),
            run["status"],
            rfc3339(run["finished_at"], timespec="seconds"),
            str(run["test_runs"]),
            str(run["step_results"]),
        )
    out.print(table)
    if len(pruned.suite_runs) > SHOWN:
        out.print(f"and {len(pruned.suite_runs) - SHOWN} more (--json lists them all)")
