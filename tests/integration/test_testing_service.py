"""`orchestra test`'s use case in process: what it reads of the store on the way."""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg.rows import DictRow

from orchestra.binding.factory import executor_factory
from orchestra.domain.records import StoredSuite
from orchestra.services.testing import TestPlan, run_test
from orchestra.store.database import Database
from orchestra.store.repositories import SuiteRepository
from tests.support.linear_project import Sut, sut_in_thread, write_project


@pytest.mark.parametrize("reused", [False, True])
async def test_a_test_run_reads_its_suite_once_from_generation_to_report(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reused: bool
) -> None:
    reads: list[int] = []  # every read of a whole suite loads its scenarios here
    load = SuiteRepository._with_scenarios

    async def counted(self: SuiteRepository, row: DictRow) -> StoredSuite:
        reads.append(row["id"])
        return await load(self, row)

    monkeypatch.setattr(SuiteRepository, "_with_scenarios", counted)
    with sut_in_thread(Sut()) as base_url:
        project = write_project(tmp_path / "shop", base_url)
        plan = TestPlan(
            models=(project["model"],),
            bindings=project["bindings"],
            env=str(project["env"]),
            data=str(project["data"]),
            reports={"junit": tmp_path / "junit.xml"},
        )
        if reused:
            await run_test(db, plan, executor_factory())
            reads.clear()
        result = await run_test(db, plan, executor_factory())

    assert result.suite["reused"] is reused
    assert result.execution.progress.total == 3  # a run per data row
    assert len(reads) == 1, reads
    assert (tmp_path / "junit.xml").read_text().count("<testcase") == 3
