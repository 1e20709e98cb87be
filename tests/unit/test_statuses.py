from orchestra.domain.statuses import SuiteRunStatus, TestRunStatus


def test_terminal_test_run_statuses_allow_no_further_transition() -> None:
    for status in TestRunStatus:
        if status.is_terminal:
            assert not any(status.can_become(other) for other in TestRunStatus), status


def test_a_pending_run_must_be_queued_before_it_can_run() -> None:
    assert TestRunStatus.PENDING.can_become(TestRunStatus.QUEUED)
    assert not TestRunStatus.PENDING.can_become(TestRunStatus.RUNNING)
    assert TestRunStatus.QUEUED.can_become(TestRunStatus.RUNNING)


def test_a_running_run_can_finish_in_every_terminal_status_but_skipped() -> None:
    finishing = {s for s in TestRunStatus if s.is_terminal and TestRunStatus.RUNNING.can_become(s)}
    assert finishing == {s for s in TestRunStatus if s.is_terminal} - {TestRunStatus.SKIPPED}


def test_a_suite_run_closes_once() -> None:
    assert SuiteRunStatus.IN_PROGRESS.can_become(SuiteRunStatus.PASSED)
    assert not SuiteRunStatus.PASSED.can_become(SuiteRunStatus.FAILED)
