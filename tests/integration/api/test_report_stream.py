"""The API sends a suite run's report as it is rendered, a page of runs at a time: the
document `orchestra report` writes, and a refusal before its first byte a JSON error."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestra.services import reporting
from orchestra.store.database import Database
from tests.integration.api.conftest import Client
from tests.integration.reports.paged import PAGE_RUNS, ROWS, make_pages_small, mixed_suite_run

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
    assert served.headers.get("Transfer-Encoding") == "chunked"  # sent as it comes
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
