"""The API sends a suite run's report, read a page of runs at a time into a spool at the
database's pace, then sent: the document `orchestra report` writes; a refusal, or a failure
while reading it, a JSON error rather than a 200 cut short."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest

from orchestra.api.routes.suite_runs import _spooled
from orchestra.errors import StoreError
from orchestra.services import reporting
from orchestra.store.database import Database
from tests.integration.api.conftest import Client
from tests.integration.reports.paged import (
    PAGE_RUNS,
    ROWS,
    idle_in_transaction,
    make_pages_small,
    mixed_suite_run,
)

MEDIA_TYPES = {"junit": "application/xml", "html": "text/html", "json": "application/json"}
SUFFIXES = {"junit": ".xml", "html": ".html", "json": ".json"}


@pytest.mark.parametrize("format_name", ["junit", "html", "json"])
@pytest.mark.parametrize("all_runs", [False, True])
async def test_a_report_served_over_several_pages_is_the_one_the_cli_writes(
    api: Client,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    format_name: str,
    all_runs: bool,
) -> None:
    make_pages_small(monkeypatch)
    suite_run_id = await mixed_suite_run(db)
    assert 3 * ROWS > 2 * PAGE_RUNS  # several pages
    query = f"format={format_name}" + ("&all_runs=true" if all_runs else "")

    served = await api.get(f"/suite-runs/{suite_run_id}/report?{query}")
    written = tmp_path / f"report.{format_name}"
    await reporting.write_report(db, suite_run_id, format_name, written, all_runs=all_runs)

    assert served.status == 200
    assert served.media_type == MEDIA_TYPES[format_name]
    filename = f"orchestra-report-{suite_run_id}{SUFFIXES[format_name]}"
    assert served.headers["Content-Disposition"] == f'inline; filename="{filename}"'
    assert served.headers.get("Transfer-Encoding") == "chunked"  # sent in parts
    assert served.body.decode() == written.read_text(encoding="utf-8")


async def test_a_report_refused_is_a_json_error_sent_before_any_of_it(
    api: Client, db: Database
) -> None:
    suite_run_id = await mixed_suite_run(db)
    unknown = await api.get("/suite-runs/999/report?format=junit")
    wrong_format = await api.get(f"/suite-runs/{suite_run_id}/report?format=pdf")

    assert (unknown.status, unknown.media_type) == (404, "application/json")
    assert unknown.json()["message"] == "no suite run 999"
    assert (wrong_format.status, wrong_format.media_type) == (422, "application/json")
    assert wrong_format.json()["error"] == "RequestInvalid"


async def test_a_report_is_read_whole_before_it_is_sent_its_snapshot_let_go(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_pages_small(monkeypatch)
    suite_run_id = await mixed_suite_run(db)
    written = tmp_path / "report.xml"
    await reporting.write_report(db, suite_run_id, "junit", written)

    spool = await _spooled(await reporting.open_report(db, suite_run_id, "junit"))

    with spool:  # a slow client holds no pooled connection in a transaction
        assert await idle_in_transaction(db) == 0
        assert spool.read().decode() == written.read_text(encoding="utf-8")


async def test_a_report_failing_half_way_is_an_error_status_not_a_200_cut_short(
    api: Client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite_run_id = await mixed_suite_run(db)

    async def failing(*args: Any, **kwargs: Any) -> AsyncGenerator[str, None]:
        yield "<?xml"
        raise StoreError("PostgreSQL went away")

    monkeypatch.setattr(reporting, "_report_pieces", failing)
    served = await api.get(f"/suite-runs/{suite_run_id}/report?format=junit")

    assert (served.status, served.media_type) == (503, "application/json")
    assert served.json()["message"] == "PostgreSQL went away"
