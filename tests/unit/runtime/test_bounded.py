"""What a long-running worker remembers is bounded: the oldest entry goes first."""

from __future__ import annotations

import pytest

from orchestra.runtime.bounded import Bounded


def test_a_full_mapping_forgets_its_oldest_entry_for_a_new_one() -> None:
    seen: Bounded[int, str] = Bounded(2)
    seen[1], seen[2], seen[3] = "a", "b", "c"
    assert dict(seen) == {2: "b", 3: "c"}


def test_setting_a_key_again_keeps_its_place_and_forgets_nothing() -> None:
    seen: Bounded[int, str] = Bounded(2)
    seen[1], seen[2] = "a", "b"
    seen[1] = "again"
    seen[3] = "c"
    assert dict(seen) == {2: "b", 3: "c"}


def test_a_key_popped_and_set_again_is_the_newest() -> None:
    seen: Bounded[int, str] = Bounded(2)
    seen[1], seen[2] = "a", "b"
    seen[1] = seen.pop(1)
    seen[3] = "c"
    assert dict(seen) == {1: "a", 3: "c"}


def test_a_mapping_of_no_entries_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Bounded(0)
