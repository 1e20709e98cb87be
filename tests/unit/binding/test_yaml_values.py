"""What a YAML file may hold: JSON values only, since every one ends up in PostgreSQL's jsonb."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from orchestra.binding.yamlsource import Source, parse, read_text_file
from orchestra.errors import BindingRefused


def values(text: str) -> object:
    return parse(Source("f.yaml", text))[0]


def refused(text: str) -> str:
    with pytest.raises(BindingRefused) as caught:
        parse(Source("f.yaml", text))
    return caught.value.message


def test_dates_and_timestamps_become_their_iso_text() -> None:
    assert values("a: 2026-01-01\nb: 2026-01-01T10:00:00Z\n") == {
        "a": "2026-01-01",
        "b": "2026-01-01T10:00:00+00:00",
    }


@pytest.mark.parametrize("literal", [".nan", ".inf", "-.inf", "1e400"])
def test_a_number_json_cannot_hold_is_refused_with_its_line_and_path(literal: str) -> None:
    message = refused(f"rows:\n  - {{a: 1}}\n  - {{a: {literal}}}\n")

    assert message.startswith("f.yaml:3: rows[1].a: ")
    assert "is not a number JSON can hold" in message


@pytest.mark.parametrize(
    ("value", "kind"),
    [("!!binary aGVsbG8=", "!!binary"), ("!!set {x, y}", "!!set"), ("!secret token", "!secret")],
)
def test_a_value_without_a_json_form_is_refused_naming_its_tag(value: str, kind: str) -> None:
    message = refused(f"name: x\nheaders:\n  X-Token: {value}\n")

    assert message == (
        f"f.yaml:3: headers.X-Token: a {kind} value has no JSON form: "
        "write it as text, a list or a mapping"
    )


def test_a_recursive_alias_is_refused_instead_of_recursing_without_end() -> None:
    assert "nested more than 100 levels deep (a recursive alias?)" in refused("&a [*a]\n")


def test_nesting_deeper_than_the_parser_can_follow_is_refused() -> None:
    assert (
        refused("[" * 5000 + "]" * 5000) == "f.yaml: (top level): nested more than 100 levels deep"
    )


def test_a_file_not_in_utf8_is_refused_naming_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "env.yaml"
    path.write_bytes(b"name: x\nheaders: {X: caf\xe9}\n")

    with pytest.raises(BindingRefused) as caught:
        read_text_file(path, "environment file")

    assert caught.value.message == (
        f"{path}:2: not UTF-8 text (byte 0xe9 at column 17): save it as UTF-8"
    )


def test_a_utf8_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "env.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: x\n")

    assert read_text_file(path, "environment file") == "name: x\n"


def test_a_file_that_cannot_be_read_is_refused_naming_it_and_why(tmp_path: Path) -> None:
    with pytest.raises(BindingRefused) as caught:
        read_text_file(tmp_path / "gone.yaml", "binding file")

    assert caught.value.message == (
        f"{tmp_path / 'gone.yaml'}: cannot read binding file: No such file or directory"
    )


@pytest.mark.parametrize(("char", "code"), [("\x00", "U+0000"), ("\x07", "U+0007")])
def test_a_control_character_is_refused_naming_its_line(char: str, code: str) -> None:
    message = refused(f"name: x\nheaders:\n  X: 'a{char}b'\n")

    assert (
        message
        == f"f.yaml:3: (top level): not valid YAML: character {code} is not allowed in YAML text"
    )


def test_a_file_above_64_mib_is_refused_without_reading_more() -> None:
    endless = Path("/dev/zero")  # a device without end: only the limit stops the reading

    with pytest.raises(BindingRefused) as caught:
        read_text_file(endless, "data set")

    assert caught.value.message == ("/dev/zero: the data set is above the limit of 67108864 bytes")


def test_null_and_boolean_keys_are_written_as_yaml_and_json_write_them() -> None:
    assert values("{1: a, null: b, false: c, 1.5: d}") == {
        "1": "a",
        "null": "b",
        "false": "c",
        "1.5": "d",
    }


def test_a_list_or_mapping_as_a_key_is_refused() -> None:
    message = refused("rows:\n  ? [1, 2]\n  : 3\n")

    assert message == "f.yaml:1: rows: a key must be text or a number, not a list or a mapping"


def test_an_alias_bomb_is_refused_before_it_is_expanded() -> None:
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    text = "\n".join(levels) + "\n"
    assert len(text) < 400

    started = time.perf_counter()
    with pytest.raises(BindingRefused, match="aliases expanding"):
        parse(Source("bomb.yaml", text))
    assert time.perf_counter() - started < 1.0  # 387 million values were never built


def test_aliases_expanding_to_fewer_values_than_the_limit_are_kept() -> None:
    value, _ = parse(Source("ok.yaml", "a: &a [1, 2]\nb: [*a, *a]\n"))
    assert value == {"a": [1, 2], "b": [[1, 2], [1, 2]]}
