"""What `run --wait` and `status --watch` show on their progress bar beside the runs done."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestra.cli.run import failed_count, progress_stats
from orchestra.domain.records import SuiteRun
from orchestra.domain.statuses import SuiteRunStatus, TestRunStatus
from orchestra.services.running import Progress


def _progress(counts: dict[TestRunStatus, int]) -> Progress:
    suite_run = SuiteRun(
        id=1,
        suite_id=1,
        environment_id=None,
        data_set_id=None,
        status=SuiteRunStatus.FAILED,
        created_at=datetime(2026, 11, 28, tzinfo=UTC),
    )
    return Progress(suite_run, counts, sum(counts.values()))


def test_skipped_and_cancelled_runs_are_not_counted_failed_as_the_reports_count_them() -> None:
    counts = {
        TestRunStatus.PASSED: 2,
        TestRunStatus.FAILED: 1,
        TestRunStatus.ERROR: 1,
        TestRunStatus.FAILED_STUCK: 1,
        TestRunStatus.SKIPPED: 3,
        TestRunStatus.CANCELLED: 4,
        TestRunStatus.RUNNING: 5,
    }
    assert failed_count(counts) == 3
    assert progress_stats(_progress(counts), 1.0) == (
        "[green]2 passed[/] [red]1 failed[/] [magenta]2 errors[/] [yellow]7 skipped[/]"
    )


def test_errored_runs_are_counted_apart_from_failed_ones() -> None:
    counts = {TestRunStatus.FAILED: 2, TestRunStatus.ERROR: 3}
    assert progress_stats(_progress(counts), 1.0) == (
        "[green]0 passed[/] [red]2 failed[/] [magenta]3 errors[/]"
    )


def test_no_skipped_figure_while_none_was_skipped() -> None:
    counts = {TestRunStatus.PASSED: 1, TestRunStatus.QUEUED: 2}
    assert progress_stats(_progress(counts), 1.0) == "[green]1 passed[/] [red]0 failed[/]"
