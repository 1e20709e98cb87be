"""Use case: prune ended suite runs with everything of theirs (test runs, step results, lost
leases, barriers), by age, beyond the newest N of each suite, or by id. A suite run in progress
is never deleted; deleting goes in batches, each its own short transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from orchestra.domain.timestamps import rfc3339
from orchestra.errors import Conflict, NotFound, UsageError
from orchestra.store.database import Database

# the longest --older-than: now() minus more leaves PostgreSQL's range of dates (4713 BC)
LONGEST = timedelta(days=1000 * 365)
BATCH = 100  # suite runs per deleting transaction: locks held briefly, progress kept


@dataclass(frozen=True, slots=True)
class Pruned:
    """The suite runs deleted (or, for a dry run, that would be), oldest first."""

    dry_run: bool
    suite_runs: list[dict[str, Any]]

    def totals(self) -> dict[str, int]:
        return {
            "suite_runs": len(self.suite_runs),
            "test_runs": sum(int(run["test_runs"]) for run in self.suite_runs),
            "step_results": sum(int(run["step_results"]) for run in self.suite_runs),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "totals": self.totals(),
            "suite_runs": [_suite_run_json(run) for run in self.suite_runs],
        }


def _suite_run_json(run: dict[str, Any]) -> dict[str, Any]:
    """A suite run with the key names `orchestra status` gives it (`suite_run`, `suite`)."""
    return {
        "suite_run": run["id"],
        "suite": run["suite_id"],
        "status": run["status"],
        "finished_at": rfc3339(run["finished_at"]),
        "test_runs": run["test_runs"],
        "step_results": run["step_results"],
    }


async def prune(
    db: Database,
    *,
    older_than: timedelta | None = None,
    keep_last: int | None = None,
    suite_id: int | None = None,
    ids: Sequence[int] = (),
    dry_run: bool = False,
) -> Pruned:
    """Delete the ended suite runs that match every filter given; at least one of
    `older_than`, `keep_last` and `ids` must be (a suite alone is not enough)."""
    _check_filters(older_than, keep_last, ids)
    async with db.transaction() as uow:
        if suite_id is not None and await uow.suites.get(suite_id) is None:
            raise NotFound("suite", suite_id)
        for suite_run_id in ids:
            suite_run = await uow.runs.get(suite_run_id)
            if suite_run is None:
                raise NotFound("suite run", suite_run_id)
            if suite_run.finished_at is None:
                raise Conflict(
                    f"suite run {suite_run_id} is in progress: cancel it first, then prune it",
                    details={"suite_run": suite_run_id},
                )
        found = await uow.runs.prunable(
            suite_id=suite_id,
            older_than_seconds=None if older_than is None else older_than.total_seconds(),
            keep_last=keep_last,
            ids=list(ids) or None,
        )
    if dry_run:
        return Pruned(dry_run=True, suite_runs=found)
    deleted: list[dict[str, Any]] = []
    for start in range(0, len(found), BATCH):
        batch = found[start : start + BATCH]
        async with db.transaction() as uow:
            gone = set(await uow.runs.delete_suite_runs([run["id"] for run in batch]))
        deleted += [run for run in batch if run["id"] in gone]
    return Pruned(dry_run=False, suite_runs=deleted)


def _check_filters(older_than: timedelta | None, keep_last: int | None, ids: Sequence[int]) -> None:
    if older_than is None and keep_last is None and not ids:
        raise UsageError(
            "say which suite runs to prune: --older-than, --keep-last or --suite-run"
            " (--suite only narrows them)"
        )
    if older_than is not None and older_than < timedelta(0):
        raise UsageError("--older-than must not be negative")
    if older_than is not None and older_than > LONGEST:
        raise UsageError(f"--older-than {older_than.days}d is too long: {LONGEST.days}d at most")
    if keep_last is not None and keep_last < 0:
        raise UsageError("--keep-last must not be negative")
