"""JSON text for jsonb parameters: what PostgreSQL would refuse is mended or refused here.

PostgreSQL refuses NUL in jsonb text, and a SUT may well send one, so it becomes U+FFFD (the
replacement character) instead of failing the write; so does a lone surrogate (a header's bytes
that are not UTF-8, as aiohttp decodes them), which PostgreSQL refuses too.

`json_dumps` serves every jsonb parameter (set on each connection) and keeps NaN and the
infinities as Python writes them, so PostgreSQL refuses them and `refusals` names the value: a
data set or a step's spec holding one is refused, not stored changed. `checkpoint_dumps` serves
the checkpoints, a step's records and the run's context written after every step: orjson writes
them in C, three to five times faster than `json`. There a non-finite number, which only a SUT's
non-standard JSON could bring in and which `ResponseView.json` refuses, would be stored as null.

`json_loads` reads every json and jsonb value back (set on each connection): orjson, in C,
except where it would read a value otherwise than `json` does (an integer beyond 64 bits,
which it makes an inexact float; a number beyond a double's range; nesting deeper than 1,024
levels): `json` reads those.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# 19 digits in a row, maybe an integer beyond 64 bits, which orjson reads as an inexact float,
# are 19 nines once every digit is made a nine (four times faster than a regular expression).
_DIGITS_AS_NINES = bytes.maketrans(b"0123456789", b"9999999999")
_LONG_DIGITS = b"9" * 19
# A NUL character escaped in JSON, not preceded by an escaped backslash.
_ESCAPED_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")
# A lone surrogate: what Python makes of bytes that are not UTF-8 (`surrogateescape`, as
# aiohttp decodes a header value); no UTF-8 text holds one.
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_dumps(value: Any, *, allow_nan: bool = True) -> str:
    """JSON for jsonb, NUL and lone surrogates made U+FFFD (see above); `allow_nan=False`
    raises ValueError at a non-finite number instead of writing what PostgreSQL refuses."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=allow_nan)
    if "\\u0000" in text:
        text = _ESCAPED_NUL.sub(r"\1\\ufffd", text)
    if not text.isascii() and _SURROGATE.search(text):  # isascii: a flag, no scan
        text = _SURROGATE.sub("\ufffd", text)
    return text


def checkpoint_dumps(value: Any) -> bytes | str:
    """`json_dumps` in C for the checkpoints' rows; what orjson does not take (a lone
    surrogate, an integer beyond 64 bits, a key that is not a string: its option for those
    makes every row 2.6 times dearer) goes through `json_dumps`."""
    try:
        data = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json_dumps(value)
    if b"\\u0000" in data:
        return _ESCAPED_NUL.sub(r"\1\\ufffd", data.decode())
    return data


def may_hold_long_integer(raw: bytes) -> bool:
    """Whether JSON text has 19 digits in a row: maybe an integer beyond 64 bits, which orjson
    would read as an inexact float, so `json` must read it."""
    return _LONG_DIGITS in raw.translate(_DIGITS_AS_NINES)


def json_loads(data: bytes | str) -> Any:
    """A json or jsonb value's text as `json.loads` reads it (see above)."""
    if not may_hold_long_integer(data if isinstance(data, bytes) else data.encode()):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)
