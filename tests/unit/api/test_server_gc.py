"""`orchestra serve` freezes what start-up left alive: the collector walks it no more."""

from __future__ import annotations

import gc

from orchestra.api.server import freeze_start_up_objects


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
