"""YAML read with line numbers kept, so a validation error can say where it is.

`parse` gives plain Python values plus the ruamel.yaml node tree; `locate` walks that tree along
a pydantic error location to find the line; `refusal` turns pydantic errors into one
BindingRefused whose message lists `file:line: path: what is wrong` for each problem.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from orchestra.errors import BindingRefused

Loc = Sequence[int | str]


@dataclass(frozen=True, slots=True)
class Source:
    name: str  # a file path, or a description such as "<binding of Task_A>"
    text: str
    line_offset: int = 0  # added to every line (YAML embedded in a larger file)


@dataclass(frozen=True, slots=True)
class Upload:
    """A file a client sent: its bytes at `path` (a temporary file), `name` its name in
    refusals. Files it names (an environment's certificates) are not read: it has no
    directory of its own."""

    path: Path
    name: str


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    line: int | None
    message: str

    def render(self, source: Source) -> str:
        where = f"{source.name}:{self.line}" if self.line is not None else source.name
        return f"{where}: {self.path or '(top level)'}: {self.message}"


def read_text_file(path: Path, what: str, name: str | None = None) -> str:
    """A binding, environment or data set file's text; refused naming the file when it cannot
    be read, and its line when it is not UTF-8 (a UTF-8 byte order mark is dropped). The file
    is named `name` if given (an upload's name, not its temporary file's)."""
    shown = name or str(path)
    try:
        with path.open("rb") as handle:  # bounded: a pipe or a device has no size to check
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise BindingRefused(f"{shown}: cannot read {what}: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise BindingRefused(f"{shown}: the {what} is above the limit of {MAX_FILE_BYTES} bytes")
    return utf8_text(data, shown)


MAX_FILE_BYTES = 64 * 1024 * 1024


def read_source(path_or_text: str | Path) -> Source:
    """A binding file's text: a Path or an existing file name is read; any other string is
    the text itself."""
    if isinstance(path_or_text, Path) or _is_file(path_or_text):
        path = Path(path_or_text)
        return Source(str(path), read_text_file(path, "binding file"))
    return Source("<bindings>", str(path_or_text))


def _is_file(text: str) -> bool:
    if "\n" in text or len(text) > 4096:
        return False
    try:
        return Path(text).is_file()
    except OSError:  # a one-line text too long to be a file name
        return False


def utf8_text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise BindingRefused(
            f"{name}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column}):"
            " save it as UTF-8"
        ) from exc


def parse(source: Source) -> tuple[Any, Any]:
    """(plain value, ruamel node tree) of a YAML (or JSON) text."""
    # ruamel.yaml (~8 ms of imports) comes with the first file parsed: a warm `orchestra test`,
    # its environment and data set files unchanged, parses none
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    try:
        tree = YAML(typ="rt", pure=True).load(source.text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + source.line_offset if mark is not None else None
        problem = Problem("", line, f"not valid YAML: {exc.problem or exc.context}")
        raise refusal(source, [problem]) from exc
    except ReaderError as exc:  # a control character: say where, as for a syntax error
        line = source.text.count("\n", 0, exc.position) + 1 + source.line_offset
        what = f"character U+{exc.character:04X}" if isinstance(exc.character, int) else "byte"
        problem = Problem("", line, f"not valid YAML: {what} is not allowed in YAML text")
        raise refusal(source, [problem]) from exc
    except YAMLError as exc:
        raise refusal(source, [Problem("", None, f"not valid YAML: {exc}")]) from exc
    except RecursionError as exc:  # ruamel composes nested collections recursively
        problem = Problem("", None, f"nested more than {MAX_DEPTH} levels deep")
        raise refusal(source, [problem]) from exc
    try:
        _check_expansion(tree)  # before expanding: an alias bomb is refused at its size
        return plain(tree, [MAX_NODES]), tree
    except OverflowError as exc:
        problem = Problem("", None, f"more than {MAX_NODES} values (aliases expanding?)")
        raise refusal(source, [problem]) from exc
    except UnfitValue as exc:
        problem = Problem(dotted(exc.loc), locate(tree, exc.loc, source), exc.message)
        raise refusal(source, [problem]) from exc


MAX_NODES = 1_000_000
MAX_DEPTH = 100


class UnfitValue(Exception):
    """A YAML value JSON cannot hold (bytes, a set, a custom tag, NaN), or nesting too deep
    (a recursive alias): refused at `loc` rather than failing where it is stored or used."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.loc, self.message))  # `Exception` would give the message alone


def _check_expansion(tree: Any) -> None:
    """Raise OverflowError when the values `plain` would build pass MAX_NODES, counting each
    node shared by aliases once per use but walking it once: a 359-byte file of nested aliases
    (a "billion laughs") is refused after reading its few nodes, not after building millions.
    A recursive alias is left to `plain`, which refuses it at MAX_DEPTH."""
    sizes: dict[int, int] = {}
    walking: set[int] = set()

    def size(node: Any) -> int:
        if not isinstance(node, dict | list):
            return 1
        known = sizes.get(id(node))
        if known is not None:
            return known
        if id(node) in walking:  # recursive: `plain` says where
            return 1
        walking.add(id(node))
        children = node.values() if isinstance(node, dict) else node
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_NODES:
                raise OverflowError
        walking.discard(id(node))
        sizes[id(node)] = total
        return total

    try:
        size(tree)
    except RecursionError as exc:  # nesting beyond Python's stack: deeper than MAX_DEPTH
        raise UnfitValue((), f"nested more than {MAX_DEPTH} levels deep") from exc


def plain(node: Any, budget: list[int] | None = None, loc: tuple[int | str, ...] = ()) -> Any:
    """ruamel's round-trip types (CommentedMap, ScalarFloat, ...) as plain JSON values: a date
    or a timestamp becomes its ISO text; what JSON has no place for raises UnfitValue.

    `budget` counts the values built: YAML aliases can make a small file expand without end.
    """
    if budget is not None:
        budget[0] -= 1
        if budget[0] < 0:
            raise OverflowError
    if len(loc) > MAX_DEPTH:  # a recursive alias (`&a [*a]`) has no end
        raise UnfitValue(loc[:3], f"nested more than {MAX_DEPTH} levels deep (a recursive alias?)")
    if isinstance(node, dict):
        keys = [_key(k, loc) for k in node]
        return {k: plain(v, budget, (*loc, k)) for k, v in zip(keys, node.values(), strict=True)}
    if isinstance(node, list):
        return [plain(item, budget, (*loc, index)) for index, item in enumerate(node)]
    return _scalar(node, loc)


def _key(key: Any, loc: tuple[int | str, ...]) -> str:
    """A mapping key as JSON's text: `null`, `true` and `1` as YAML wrote them."""
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    if isinstance(key, str | int | float):
        return str(key)
    raise UnfitValue(loc, "a key must be text or a number, not a list or a mapping")


def _scalar(node: Any, loc: tuple[int | str, ...]) -> Any:
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        if not math.isfinite(node):
            raise UnfitValue(loc, f"{node} is not a number JSON can hold")
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, datetime.date):  # and datetime: `2026-01-01`, `2026-01-01T10:00:00Z`
        return node.isoformat()
    if isinstance(node, bytes):
        kind = "!!binary"
    elif isinstance(node, AbstractSet):
        kind = "!!set"
    else:  # a custom tag (`!secret x`)
        kind = getattr(getattr(node, "tag", None), "value", None) or type(node).__name__
    raise UnfitValue(loc, f"a {kind} value has no JSON form: write it as text, a list or a mapping")


def dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def locate(tree: Any, loc: Loc, source: Source) -> int | None:
    """The line of the deepest node of `loc` found in the tree (1-based)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    line: int | None = None
    node = tree
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0]
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0]
            node = node[part]
        else:
            break
    if line is None and isinstance(tree, CommentedMap | CommentedSeq):
        line = tree.lc.line
    return None if line is None else line + 1 + source.line_offset


def problems_of(exc: ValidationError, tree: Any, source: Source, prefix: Loc = ()) -> list[Problem]:
    found = []
    for error in exc.errors():
        loc = [*prefix, *error["loc"]]
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        elif error["type"] == "missing":
            message = f"missing key {loc[-1]!r}"
            loc = loc[:-1] if len(loc) > 1 else loc
        found.append(Problem(dotted(loc), locate(tree, loc, source), message))
    return found


def refusal(source: Source, problems: list[Problem]) -> BindingRefused:
    lines = [problem.render(source) for problem in problems]
    return BindingRefused(
        "\n".join(lines),
        details={
            "file": source.name,
            "problems": [{"path": p.path, "line": p.line, "message": p.message} for p in problems],
        },
    )
