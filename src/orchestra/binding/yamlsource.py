"""YAML read with line numbers kept, so a validation error can say where it is.

`parse` gives plain Python values plus the ruamel.yaml node tree; `locate` walks that tree along
a pydantic error location to find the line; `refusal` turns pydantic errors into one
BindingRefused whose message lists `file:line: path: what is wrong` for each problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from orchestra.errors import BindingRefused

Loc = Sequence[int | str]


@dataclass(frozen=True, slots=True)
class Source:
    name: str  # a file path, or a description such as "<binding of Task_A>"
    text: str
    line_offset: int = 0  # added to every line (YAML embedded in a larger file)


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    line: int | None
    message: str

    def render(self, source: Source) -> str:
        where = f"{source.name}:{self.line}" if self.line is not None else source.name
        return f"{where}: {self.path or '(top level)'}: {self.message}"


def parse(source: Source) -> tuple[Any, Any]:
    """(plain value, ruamel node tree) of a YAML (or JSON) text."""
    try:
        tree = YAML(typ="rt", pure=True).load(source.text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + source.line_offset if mark is not None else None
        problem = Problem("", line, f"not valid YAML: {exc.problem or exc.context}")
        raise refusal(source, [problem]) from exc
    except YAMLError as exc:
        raise refusal(source, [Problem("", None, f"not valid YAML: {exc}")]) from exc
    budget = [MAX_NODES]
    try:
        return plain(tree, budget), tree
    except OverflowError as exc:
        problem = Problem("", None, f"more than {MAX_NODES} values (aliases expanding?)")
        raise refusal(source, [problem]) from exc


MAX_NODES = 1_000_000


def plain(node: Any, budget: list[int] | None = None) -> Any:
    """ruamel's round-trip types (CommentedMap, ScalarFloat, ...) as plain Python values.

    `budget` counts the values built: YAML aliases can make a small file expand without end.
    """
    if budget is not None:
        budget[0] -= 1
        if budget[0] < 0:
            raise OverflowError
    if isinstance(node, dict):
        return {str(key): plain(value, budget) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(item, budget) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


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
