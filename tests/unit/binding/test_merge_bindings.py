"""A binding file laid over the BPMN's embedded bindings keeps every key of the format."""

from __future__ import annotations

from typing import Any

import pytest

from orchestra.binding.document import Bindings
from orchestra.binding.loader import merge_bindings

ACTION = {"method": "POST", "path": "/orders"}
# One value per key of the format, none of them its default. A key added to `Bindings` fails
# `test_every_key_of_the_format_has_an_example` until it has one here, and is then merged.
EXAMPLES: dict[str, Any] = {
    "defaults": {"service": "orders", "timeout": 5},
    "tasks": {"Task_Create": {"action": ACTION}},
    "events": {"End_Done": {"checks": [{"status": 200}]}},
    "flows": {"Flow_Yes": {"data": {"express": True}}},
    "scenarios": [{"reaching": "Task_Ship", "dependsOn": [{"reaching": "Task_Create"}]}],
    "barriers": [{"name": "stock", "before": "Task_Ship"}],
    "cleanup": [{"name": "reset", "action": {"path": "/reset"}}],
}
CONSTANT = {"version"}  # one value only: nothing to merge


def test_every_key_of_the_format_has_an_example() -> None:
    assert set(EXAMPLES) == set(Bindings.model_fields) - CONSTANT


@pytest.mark.parametrize("key", sorted(EXAMPLES))
def test_a_key_written_in_the_file_alone_survives_the_merge(key: str) -> None:
    from_file = Bindings.model_validate({key: EXAMPLES[key]})

    merged = merge_bindings(Bindings(), from_file)

    assert getattr(merged, key) == getattr(from_file, key)
    assert getattr(merged, key) != getattr(Bindings(), key)


@pytest.mark.parametrize("key", sorted(EXAMPLES))
def test_a_key_embedded_alone_survives_a_file_without_it(key: str) -> None:
    embedded = Bindings.model_validate({key: EXAMPLES[key]})

    merged = merge_bindings(embedded, Bindings())

    assert getattr(merged, key) == getattr(embedded, key)


def test_the_file_wins_per_element_and_its_lists_come_after_the_embedded() -> None:
    embedded = Bindings.model_validate({
        "tasks": {"Task_Create": {"action": ACTION}, "Task_Ship": {"action": ACTION}},
        "cleanup": [{"name": "embedded", "action": {"path": "/a"}}],
    })  # fmt: skip
    from_file = Bindings.model_validate({
        "tasks": {"Task_Create": {"action": {"path": "/v2/orders"}}},
        "cleanup": [{"name": "file", "action": {"path": "/b"}}],
    })  # fmt: skip

    merged = merge_bindings(embedded, from_file)

    assert merged.tasks["Task_Create"] == from_file.tasks["Task_Create"]
    assert merged.tasks["Task_Ship"] == embedded.tasks["Task_Ship"]
    assert [c.name for c in merged.cleanup] == ["embedded", "file"]


def test_defaults_written_in_the_file_replace_the_embedded_ones_whole() -> None:
    embedded = Bindings.model_validate({"defaults": {"service": "orders", "timeout": 5}})
    from_file = Bindings.model_validate({"defaults": {"service": "billing"}})

    assert merge_bindings(embedded, from_file).defaults == from_file.defaults
    assert merge_bindings(embedded, Bindings.model_validate({"defaults": {}})).defaults == (
        embedded.defaults
    )
