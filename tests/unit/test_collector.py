"""The cyclic garbage collector at start-up: `orchestra test` pauses it while the run's modules
are imported, resumes it for the run with what they made frozen, and restores it once done;
`orchestra serve` freezes what start-up left alive once it listens."""

from __future__ import annotations

import gc

import pytest

from orchestra.collector import (
    freeze_start_up_objects,
    paused_during_start_up,
    resume_after_start_up,
)


def test_the_collector_skips_the_imports_collects_the_run_and_is_restored_after() -> None:
    before = gc.isenabled(), gc.get_threshold()

    with paused_during_start_up():
        assert not gc.isenabled()  # the imports
        resume_after_start_up()
        assert gc.isenabled()  # the run
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] >= 5_000

    assert (gc.isenabled(), gc.get_threshold()) == before
    assert gc.get_freeze_count() == 0


def test_the_collector_is_restored_when_the_command_fails_before_the_run() -> None:
    before = gc.isenabled(), gc.get_threshold()

    with pytest.raises(ValueError, match="usage error"), paused_during_start_up():
        raise ValueError("a usage error, say")

    assert (gc.isenabled(), gc.get_threshold()) == before


def test_objects_alive_at_start_up_are_out_of_the_collectors_sight() -> None:
    alive_at_start_up = ["a", "list", "the collector tracks"]
    try:
        freeze_start_up_objects()
        assert gc.get_freeze_count() > 0
        assert not any(found is alive_at_start_up for found in gc.get_objects())
        made_later: list[str] = []
        assert any(found is made_later for found in gc.get_objects())
    finally:
        gc.unfreeze()
