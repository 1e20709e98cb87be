"""Lookups of what a user named: the ids behind `latest` and `PROCESS[@VERSION][:CRITERION]`."""

from __future__ import annotations

from dataclasses import dataclass

from orchestra.store.base import Repository


@dataclass(frozen=True, slots=True)
class SuiteMatch:
    """The process version a suite reference looked in, and its newest matching suite (None
    when it has none)."""

    version: int
    suite_id: int | None


class ReferenceRepository(Repository):
    async def find_suite(
        self, key: str, version: int | None, criterion: str | None
    ) -> SuiteMatch | None:
        """None when process `key` has no such version (no version at all, for None)."""
        row = await self._filtered("find_suite", key=key, version=version, criterion=criterion)
        if not row:
            return None
        found = row[0]
        suite_id = found["suite_id"]
        return SuiteMatch(int(found["version"]), None if suite_id is None else int(suite_id))

    async def newest_suite(self) -> int | None:
        row = await self._one("newest_suite")
        return None if row is None or row["id"] is None else int(row["id"])

    async def suite_exists(self, suite_id: int) -> bool:
        return await self._one("suite_exists", id=suite_id) is not None

    async def newest_suite_run(self, suite_id: int | None = None) -> int | None:
        """The newest suite run, of suite `suite_id` when given."""
        rows = await self._filtered("newest_suite_run", suite_id=suite_id)
        found = rows[0]["id"] if rows else None
        return None if found is None else int(found)

    async def suite_run_exists(self, suite_run_id: int) -> bool:
        return await self._one("suite_run_exists", id=suite_run_id) is not None
