"""JSON text for jsonb: the checkpoints' fast writer says what the general one says."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestra.store.jsontext import checkpoint_dumps, json_dumps, json_loads

ORDINARY: list[Any] = [
    {"done": {"0": "PASSED"}, "vars": {"id": 7, "total": 12.5}, "outcome": None},
    [{"status": 200, "json": {"tags": ["é", "😀", ""], "nested": {"a": [1, 2.0, True]}}}],
    {"quote": 'say "hi"\n\t', "backslash": "C:\\path", "big": 2**63 - 1, "neg": -(2**63)},
]


def _text(dumped: bytes | str) -> str:
    return dumped.decode() if isinstance(dumped, bytes) else dumped


@pytest.mark.parametrize("value", ORDINARY)
def test_the_checkpoint_writer_writes_the_same_json_as_the_general_one(value: Any) -> None:
    assert json.loads(_text(checkpoint_dumps(value))) == json.loads(json_dumps(value))


def test_a_nul_character_becomes_the_replacement_character() -> None:
    value = {"body": "a\x00b", "literal": "\\u0000 is six characters"}

    assert json.loads(_text(checkpoint_dumps(value))) == {
        "body": "a\ufffdb",
        "literal": "\\u0000 is six characters",  # text that reads like an escape is kept
    }
    assert json.loads(_text(checkpoint_dumps(value))) == json.loads(json_dumps(value))


def test_a_lone_surrogate_becomes_the_replacement_character() -> None:
    value = {"X-Note": b"caf\xe9".decode("utf-8", "surrogateescape")}

    assert json.loads(_text(checkpoint_dumps(value))) == {"X-Note": "caf\ufffd"}


def test_an_integer_beyond_64_bits_is_written_exactly() -> None:
    assert json.loads(_text(checkpoint_dumps({"n": 2**70}))) == {"n": 2**70}


def test_keys_that_are_not_strings_are_written_as_json_would() -> None:
    value = {1: "one", 2.5: "x", False: "f", None: "n"}

    assert json.loads(_text(checkpoint_dumps(value))) == json.loads(json_dumps(value))


def test_the_general_writer_keeps_a_non_finite_number_for_postgresql_to_refuse() -> None:
    assert json_dumps({"amount": float("nan")}) == '{"amount": NaN}'


READ_BACK: list[str] = [
    *(json.dumps(value, ensure_ascii=False) for value in ORDINARY),
    '{"n": 1180591620717411303424, "m": -9223372036854775809}',  # beyond 64 bits
    '{"id": "1234567890123456789012", "x": 1.5}',  # 19 digits in a string: read by json
    "[1" + "0" * 400 + "]",  # beyond a double's range, as jsonb may hold a numeric
    '{"e": 1e-07, "f": 0.30000000000000004, "g": 10000000000000000, "u": "\\u00e9\\n"}',
]


@pytest.mark.parametrize("text", READ_BACK)
def test_values_read_back_are_what_json_reads(text: str) -> None:
    expected = json.loads(text)

    for data in (text.encode(), text):
        read = json_loads(data)
        assert read == expected
        assert json.dumps(read) == json.dumps(expected)  # an int stays an int


def test_a_value_nested_deeper_than_orjson_reads_is_left_to_json() -> None:
    text = "[" * 1500 + "]" * 1500
    with pytest.raises(RecursionError):
        json.loads(text)
    with pytest.raises(RecursionError):
        json_loads(text.encode())
