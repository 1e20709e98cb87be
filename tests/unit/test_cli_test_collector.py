"""`orchestra test` and the cyclic garbage collector: off while the run's modules are imported,
on for the run with what they made frozen, and as it was once the command is done."""

from __future__ import annotations

import gc

import pytest

from orchestra.cli.test import _collect_from_here, _collected_after_imports


def test_the_collector_skips_the_imports_collects_the_run_and_is_restored_after() -> None:
    before = gc.isenabled(), gc.get_threshold()

    with _collected_after_imports():
        assert not gc.isenabled()  # the imports
        _collect_from_here()
        assert gc.isenabled()  # the run
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] >= 5_000

    assert (gc.isenabled(), gc.get_threshold()) == before
    assert gc.get_freeze_count() == 0


def test_the_collector_is_restored_when_the_command_fails_before_the_run() -> None:
    before = gc.isenabled(), gc.get_threshold()

    with pytest.raises(ValueError, match="usage error"), _collected_after_imports():
        raise ValueError("a usage error, say")

    assert (gc.isenabled(), gc.get_threshold()) == before
