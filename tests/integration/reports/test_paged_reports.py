"""A report written in bounded memory (the JUnit document a page of runs at a time; the HTML
and JSON loading the steps of the runs they detail only) is the document rendered whole."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

import orchestra.errors
import orchestra.reports
from orchestra.reports import ReportFormat, render
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import reporting, running
from orchestra.store.database import Database
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    step,
    store_suite,
)

ROWS = 7
MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class _Fixed(datetime):
    @classmethod
    def now(cls, tz: object = None) -> _Fixed:
        del tz
        return cls.fromtimestamp(MOMENT.timestamp(), UTC)


async def mixed_suite_run(db: Database) -> int:
    """Runs that passed, failed at their second step and at their first, over data rows."""
    suite = await store_suite(
        db,
        [
            scenario("good", [step(0, "a"), step(1, "b")], position=0),
            scenario(
                "bad", [step(0, "a"), step(1, "b", result="FAILED"), step(2, "c")], position=1
            ),
            scenario("worse", [step(0, "a", result="ERROR"), step(1, "d")], position=2),
        ],
    )
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("rows", [{"name": f"row {n}"} for n in range(ROWS)])
    suite_run = await running.start_suite_run(db, suite.id, data_set="rows")
    await running.work_until_done(
        db, suite_run.id, factory_for(ScriptedExecutor()), options=WorkerOptions(poll_seconds=0.05)
    )
    return suite_run.id


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 3 runs, 4 runs detailed, and one moment for `generated_at`."""
    monkeypatch.setattr(reporting, "PAGE_RUNS", 3)
    monkeypatch.setattr(reporting, "MAX_DETAILED_RUNS", 4)
    monkeypatch.setattr(orchestra.reports, "MAX_DETAILED_RUNS", 4)
    monkeypatch.setattr(reporting, "datetime", _Fixed)


@pytest.mark.usefixtures("small_pages")
@pytest.mark.parametrize("format_name", ["junit", "html", "json"])
@pytest.mark.parametrize("all_runs", [False, True])
async def test_a_report_written_page_by_page_is_the_one_rendered_whole(
    db: Database, tmp_path: Path, format_name: str, all_runs: bool
) -> None:
    suite_run_id = await mixed_suite_run(db)
    whole = render(await reporting.load_report(db, suite_run_id), format_name, all_runs=all_runs)
    path = tmp_path / f"report.{format_name}"
    await reporting.write_report(db, suite_run_id, format_name, path, all_runs=all_runs)
    assert path.read_text(encoding="utf-8") == whole
    assert not path.with_name(path.name + ".partial").exists()
    rendered = await reporting.render_report(db, suite_run_id, format_name, all_runs=all_runs)
    assert rendered == whole


@pytest.mark.usefixtures("small_pages")
async def test_the_runs_a_bounded_page_does_not_detail_keep_their_summary_lines(
    db: Database,
) -> None:
    suite_run_id = await mixed_suite_run(db)
    html = await reporting.render_report(db, suite_run_id, "html")
    assert f"{3 * ROWS - 4} of {3 * ROWS} runs are listed without their steps" in html
    assert html.count('class="left-out"') == 3 * ROWS - 4
    assert "scripted ERROR" in html  # the summary line of a failure left out says why


async def test_several_formats_of_a_large_suite_run_are_each_written_bounded(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite_run_id = await mixed_suite_run(db)
    monkeypatch.setattr(reporting, "MAX_DETAILED_RUNS", 4)
    monkeypatch.setattr(orchestra.reports, "MAX_DETAILED_RUNS", 4)
    monkeypatch.setattr(reporting, "datetime", _Fixed)
    paths = {name: tmp_path / f"r.{name}" for name in ("junit", "html", "json")}
    written = await reporting.write_reports(db, suite_run_id, paths)
    assert written == {name: str(path) for name, path in paths.items()}
    report = await reporting.load_report(db, suite_run_id)
    for name, path in paths.items():
        assert path.read_text(encoding="utf-8") == render(report, name)


async def test_a_report_that_cannot_be_written_leaves_no_file_aside(
    db: Database, tmp_path: Path
) -> None:
    suite_run_id = await mixed_suite_run(db)
    path = tmp_path / "taken"
    path.mkdir()  # a directory where the file should go
    with pytest.raises(orchestra.errors.UsageError, match="cannot write the report"):
        await reporting.write_report(db, suite_run_id, "junit", path)
    assert sorted(os.listdir(tmp_path)) == ["taken"]


async def test_the_outline_of_a_runs_steps_leaves_out_what_only_a_detailed_step_shows(
    db: Database,
) -> None:
    suite_run_id = await mixed_suite_run(db)
    async with db.reading() as uow:
        ids = [i for i, _ in await uow.runs.report_order(suite_run_id)]
        results = await uow.runs.step_results(ids)
        outlines = await uow.runs.step_outlines(ids)
    assert len(ids) == 3 * ROWS
    assert all(result.response is not None for result in results)
    assert [o.response for o in outlines] == [None] * len(results)
    shown = ("test_run_id", "position", "element_id", "status", "error", "attempt", "phase")
    assert [[getattr(o, name) for name in shown] for o in outlines] == [
        [getattr(r, name) for name in shown] for r in results
    ]


@pytest.mark.usefixtures("small_pages")
async def test_a_report_read_in_pages_reads_the_suite_run_as_it_stood_at_its_start(
    db: Database,
) -> None:
    suite_run_id = await mixed_suite_run(db)
    before = render(await reporting.load_report(db, suite_run_id), "junit")
    pieces: list[str] = []

    async def meanwhile(text: str) -> None:
        if not pieces:  # after the totals: a run changes before the first page is read
            async with db.transaction() as uow:
                await uow.conn.execute(
                    "UPDATE test_run SET status = 'FAILED', error = 'changed'"
                    " WHERE suite_run_id = %s AND status = 'PASSED'",
                    (suite_run_id,),
                )
        pieces.append(text)

    await reporting._render_into(db, suite_run_id, ReportFormat.JUNIT, meanwhile, all_runs=False)
    assert "".join(pieces) == before
    assert render(await reporting.load_report(db, suite_run_id), "junit") != before
