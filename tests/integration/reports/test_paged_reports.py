"""A report written in bounded memory (the JUnit document a page of runs at a time; the HTML
and JSON loading the steps of the runs they detail only) is the document rendered whole."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pytest

import orchestra.errors
from orchestra.reports import render
from orchestra.services import reporting
from orchestra.store.database import Database
from tests.integration.reports.paged import (
    ROWS,
    idle_in_transaction,
    make_pages_small,
    mixed_suite_run,
)


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    make_pages_small(monkeypatch)


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
    make_pages_small(monkeypatch)
    headers_read = 0
    read_header = reporting._header

    async def counted(*args: Any, **kwargs: Any) -> reporting.Header:
        nonlocal headers_read
        headers_read += 1
        return await read_header(*args, **kwargs)

    monkeypatch.setattr(reporting, "_header", counted)
    paths = {name: tmp_path / f"r.{name}" for name in ("junit", "html", "json")}
    written = await reporting.write_reports(db, suite_run_id, paths)
    assert written == {name: str(path) for name, path in paths.items()}
    assert headers_read == 1  # one snapshot for the three formats
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
    async with contextlib.aclosing(await reporting.open_report(db, suite_run_id, "junit")) as read:
        async for text in read:
            if not pieces:  # after the totals: a run changes before the first page is read
                async with db.transaction() as uow:
                    await uow.conn.execute(
                        "UPDATE test_run SET status = 'FAILED', error = 'changed'"
                        " WHERE suite_run_id = %s AND status = 'PASSED'",
                        (suite_run_id,),
                    )
            pieces.append(text)
    assert "".join(pieces) == before
    assert render(await reporting.load_report(db, suite_run_id), "junit") != before


async def test_a_report_closed_before_its_end_lets_its_snapshot_go(db: Database) -> None:
    suite_run_id = await mixed_suite_run(db)
    pieces = await reporting.open_report(db, suite_run_id, "junit")
    assert (await anext(pieces)).startswith("<?xml")
    held = await idle_in_transaction(db)
    await pieces.aclose()
    assert (held, await idle_in_transaction(db)) == (1, 0)


@pytest.mark.parametrize("format_name", ["junit", "html", "json"])
async def test_a_report_of_no_suite_run_is_refused_before_its_first_piece(
    db: Database, format_name: str
) -> None:
    with pytest.raises(orchestra.errors.NotFound, match="no suite run 999"):
        await reporting.open_report(db, 999, format_name)
    with pytest.raises(orchestra.errors.UsageError, match="unknown report format 'pdf'"):
        await reporting.open_report(db, 999, "pdf")
