"""Every statement that changes a test run's status marks it with its transaction
(`status_changed`): a suite run's event stream reads the runs changed since its last look by
that mark, and would never see a change left unmarked."""

from __future__ import annotations

import re
from importlib.resources import files

from orchestra.store.queries import parse_queries

# `UPDATE test_run [alias] SET ... WHERE`: the SET list of an update of test_run
_UPDATE = re.compile(r"UPDATE\s+test_run\b(?:\s+\w+)?\s+SET\b(?P<set>.*?)\bWHERE\b", re.S)
_SETS_STATUS = re.compile(r"(?:^|,)\s*status\s*=", re.S)
_MARKS = re.compile(r"(?:^|,)\s*status_changed\s*=", re.S)


def updates_of_test_run() -> dict[str, list[str]]:
    """The SET lists of every update of test_run, by query name."""
    found: dict[str, list[str]] = {}
    for entry in (files("orchestra.store") / "sql").iterdir():
        if entry.name.endswith(".sql"):
            for name, statement in parse_queries(entry.read_text(encoding="utf-8")).items():
                found[name] = [m["set"] for m in _UPDATE.finditer(statement)]
    return found


def test_every_statement_setting_a_runs_status_marks_it() -> None:
    setting = {
        name: sets
        for name, sets in updates_of_test_run().items()
        if any(_SETS_STATUS.search(s) for s in sets)
    }
    unmarked = [
        name
        for name, sets in setting.items()
        if any(_SETS_STATUS.search(s) and not _MARKS.search(s) for s in sets)
    ]
    assert unmarked == []
    assert {"claim_runs", "complete_run", "checkpoint_many", "cancel_test_runs"} <= set(setting)
    assert len(setting) == 9  # a new one: mark it, and count it here


def test_a_statement_leaving_the_status_alone_does_not_mark() -> None:
    updates = updates_of_test_run()
    for name in ("checkpoint", "heartbeat", "finish_cleanup", "release_barrier"):
        assert updates[name], name
        assert not any(_MARKS.search(s) for s in updates[name]), name
