"""Templates in step specs: Jinja2's immutable sandbox with strict undefined variables.

A spec value is compiled once into a `Renderer` (a plain callable over the namespaces) and
cached by the executor. A string that is exactly one `{{ expression }}` renders to the
expression's native value (`{{ data.amount }}` stays a number in a JSON body); any other string
with `{{`/`{%` renders to text; everything else is a constant returned as is.

The namespaces are `data` (data row and branch data), `vars`, `steps`, `suite`, `env`,
`secrets`, `run`, plus `response` in `save` and `exportAs`. A variable that is not there raises
`TemplateFailure` naming it (`vars.order_id is undefined`), found by walking the failing
template's syntax tree against the namespaces: free on the happy path.

A string that only interpolates dotted paths (`/orders/{{ vars.order_id }}`) renders by plain
lookups; Jinja (imported then) compiles it only if a lookup misses, to word the failure.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

Namespaces = Mapping[str, Any]
Renderer = Callable[[Namespaces], Any]
Reads = Callable[[Namespaces], dict[str, Any]]
# What a failed `that` may tell of the values it read: never `secrets`.
_SHOWN_NAMESPACES = frozenset({"data", "vars", "steps", "suite", "env", "run", "response"})

_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{((?:(?!\}\}|\{\{|\{%).)*)\}\}\s*$", re.DOTALL)
# `{{ vars.order.id }}`, `{{ data.items[0] }}`, `{{ response.headers['X-Id'] }}`: plain lookups
# that need no Jinja machinery (the hot path), with Jinja as the fallback when one misses.
_PATH = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d+\]|\['[^'\]]*'\]|\[\"[^\"\]]*\"\])*"
_LOOKUP = re.compile(r"\{\{\s*(" + _PATH + r")\s*\}\}")
_PART = re.compile(r"\.?([A-Za-z_]\w*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_MISSING: Any = object()
_NOT_FIRST = re.compile(r"\{\{\s*not\b")  # `{{ not }}` matches `_LOOKUP`, and Jinja refuses it


class TemplateFailure(Exception):
    """A template that does not compile or render; `message` names the culprit, `missing`
    the undefined variable's dotted path when that is why (`vars.order_id`)."""

    def __init__(self, message: str, missing: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing

    @property
    def awaits_response(self) -> bool:
        """Whether another answer of the SUT might make it render: only what is missing from
        `response` may come; `vars`, `suite`, `data`... do not change while a step polls."""
        return self.missing is None or _root(self.missing) == "response"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _uuid() -> str:
    return str(uuid.uuid4())


class Templates:
    """Compiles spec values into renderers; one per executor (its caches are per instance)."""

    def __init__(self) -> None:
        self._sandbox: ImmutableSandboxedEnvironment | None = None
        self._strings: dict[str, Renderer] = {}

    @property
    def _env(self) -> ImmutableSandboxedEnvironment:
        """Jinja's sandbox, built (and Jinja imported) when a template first needs it."""
        if self._sandbox is None:
            from orchestra.binding.sandbox import new_sandbox

            self._sandbox = new_sandbox(globals_={"uuid": _uuid, "now": _now})
        return self._sandbox

    def compile(self, value: Any) -> Renderer:
        """A renderer for any JSON-like value; raises TemplateFailure on a syntax error."""
        if isinstance(value, str):
            return self._string(value) if ("{{" in value or "{%" in value) else _constant(value)
        if isinstance(value, dict):
            parts = {key: self.compile(item) for key, item in value.items()}
            if all(getattr(r, "constant", False) for r in parts.values()):
                return _constant(value)
            return lambda ns: {key: render(ns) for key, render in parts.items()}
        if isinstance(value, list | tuple):
            items = [self.compile(item) for item in value]
            if all(getattr(r, "constant", False) for r in items):
                return _constant(value)
            return lambda ns: [render(ns) for render in items]
        return _constant(value)

    def _string(self, source: str) -> Renderer:
        cached = self._strings.get(source)
        if cached is None:
            cached = self._strings[source] = self._compile_string(source)
        return cached

    def _compile_string(self, source: str) -> Renderer:
        if _plainly_valid(source):  # a path template is valid Jinja: compiled to word a miss
            return _fast_renderer(source, self._later(source)) or self._compile_jinja(source)
        jinja = self._compile_jinja(source)  # a syntax error is refused now
        return _fast_renderer(source, jinja) or jinja

    def _later(self, source: str) -> Renderer:
        """Jinja's renderer of `source`, compiled when first called: a path template only
        needs it to word a lookup that missed (a plain path is valid Jinja)."""
        compiled: list[Renderer] = []

        def render(ns: Namespaces) -> Any:
            if not compiled:
                compiled.append(self._compile_jinja(source))
            return compiled[0](ns)

        return render

    def _compile_jinja(self, source: str) -> Renderer:
        from jinja2 import TemplateSyntaxError, UndefinedError
        from jinja2.exceptions import SecurityError

        try:
            single = self._lone_expression(source)
            if single is not None:
                expression = self._env.compile_expression(single, undefined_to_none=False)
            else:
                template = self._env.from_string(source)
        except TemplateSyntaxError as exc:
            raise TemplateFailure(f"template {source!r} is invalid: {exc.message}") from exc

        def render(ns: Namespaces) -> Any:
            try:
                if single is not None:
                    return _json_like(expression(**ns))
                return template.render(ns)
            except UndefinedError as exc:
                missing = self._missing_variable(source, ns)
                what = f"{missing} is undefined" if missing else exc.message
                raise TemplateFailure(f"template {source!r}: {what}", missing) from exc
            except SecurityError as exc:
                raise TemplateFailure(f"template {source!r}: not allowed: {exc}") from exc
            except NotJson as exc:
                raise TemplateFailure(f"template {source!r} gives {exc}, not a JSON value") from exc
            except Exception as exc:  # an expression error such as 1 + 'a': the user's
                raise TemplateFailure(f"template {source!r}: {type(exc).__name__}: {exc}") from exc

        return render

    def _lone_expression(self, source: str) -> str | None:
        """The expression when `source` is one `{{ ... }}` and nothing else: the pattern says
        so at once, the parser when the expression itself holds `}}` (`{'a': {'b': 1}}`)."""
        single = _SINGLE_EXPRESSION.match(source)
        if single is not None:
            return single.group(1)
        text = source.strip()
        if not (text.startswith("{{") and text.endswith("}}")) or "{%" in text:
            return None
        from jinja2 import nodes

        body = self._env.parse(text).body
        if len(body) != 1 or not isinstance(body[0], nodes.Output):
            return None
        if len(body[0].nodes) != 1 or isinstance(body[0].nodes[0], nodes.TemplateData):
            return None
        return text[2:-2]

    def reads(self, source: str) -> Reads:
        """A function giving the values `source` reads, by dotted path (`vars.total`): each
        longest plain lookup of the template found in the namespaces, in order, secrets left
        out. A template that does not parse reads nothing."""
        from jinja2 import TemplateSyntaxError, nodes

        try:
            tree = self._env.parse(source)
        except TemplateSyntaxError:
            return lambda ns: {}
        chains: list[list[str | int]] = []
        for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
            chain = lookup_chain(node)
            if chain is not None and chain[0] in _SHOWN_NAMESPACES and chain not in chains:
                chains.append(chain)
        longest = [
            c for c in chains if not any(len(o) > len(c) and o[: len(c)] == c for o in chains)
        ]
        longest.sort(key=chains.index)

        def values(ns: Namespaces) -> dict[str, Any]:
            found = ((_dotted(chain), _lookup(ns, chain)) for chain in longest)
            return {path: value for path, value in found if value is not _MISSING}

        return values

    def _missing_variable(self, source: str, ns: Namespaces) -> str | None:
        """The shortest dotted path of the template that the namespaces do not have."""
        from jinja2 import nodes

        tree = self._env.parse(source)
        for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
            chain = lookup_chain(node)
            if chain is None:
                continue
            value: Any = ns
            for depth, part in enumerate(chain):
                in_mapping = isinstance(value, Mapping) and part in value
                in_list = isinstance(value, list) and isinstance(part, int) and part < len(value)
                if in_mapping or in_list:
                    value = value[part]
                else:
                    return _dotted(chain[: depth + 1])
        return None


class NotJson(Exception):
    """A lone expression's value that no JSON value stands for (a function, an object)."""


_JSON_SCALARS = (str, int, float, bool, type(None))
_SEQUENCES = (list, tuple, set, frozenset, range, Iterator, KeysView, ValuesView, ItemsView)


def _json_like(value: Any) -> Any:
    """A lone expression's value as JSON-like data, for bodies, checks, `save` and `exportAs`.

    Jinja filters such as `map`, `select` and `unique` give generators, and `range` or
    `.items()` views: made lists (a generator is read once, and is truthy even when empty).
    A missing variable inside a list or mapping (`{{ [vars.a] }}`) raises here, where it can
    be named, not when the body is encoded or the checkpoint written.
    """
    if isinstance(value, _JSON_SCALARS):
        return value
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises, naming what is missing
    if isinstance(value, dict):
        return {key: _json_like(item) for key, item in value.items()}
    if isinstance(value, _SEQUENCES):
        return [_json_like(item) for item in value]
    raise NotJson(f"a {type(value).__name__}")


def _plainly_valid(source: str) -> bool:
    """Whether `source`, if it only interpolates paths (`_LOOKUP`), is valid Jinja too."""
    return source.isascii() and "\\" not in source and not _NOT_FIRST.search(source)


def path_lookups(source: str) -> list[list[str | int]] | None:
    """The paths a template that only interpolates dotted paths looks up, as `lookup_chain`
    gives them (`/orders/{{ vars.order.id }}`: [["vars", "order", "id"]]); None for any
    other template, which takes Jinja's parser to read."""
    if not _plainly_valid(source) or "{%" in source or "{#" in source:
        return None
    rest = _LOOKUP.sub("", source)
    if "{{" in rest or "}}" in rest:
        return None
    return [_parts(match.group(1)) for match in _LOOKUP.finditer(source)]


def _fast_renderer(source: str, fallback: Renderer) -> Renderer | None:
    """A renderer doing plain lookups when `source` only interpolates dotted paths, else None."""
    if "{%" in source or "{#" in source:
        return None
    pieces: list[str | list[str | int]] = []
    end = 0
    for match in _LOOKUP.finditer(source):
        pieces += [source[end : match.start()], _parts(match.group(1))]
        end = match.end()
    pieces.append(source[end:])
    if any("{{" in p or "}}" in p for p in pieces if isinstance(p, str)):
        return None  # an expression that is more than a path
    if len(pieces) == 3 and pieces[0].strip() == "" == pieces[2].strip():  # type: ignore[union-attr]
        path = pieces[1]
        assert isinstance(path, list)

        def native(ns: Namespaces) -> Any:
            value = _lookup(ns, path)
            return fallback(ns) if value is _MISSING else value

        return native

    def text(ns: Namespaces) -> Any:
        out = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            value = _lookup(ns, piece)
            if value is _MISSING:
                return fallback(ns)
            out.append(str(value))
        return "".join(out)

    return text


def _parts(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for name, index, single, double in _PART.findall(path):
        parts.append(int(index) if index else (name or single or double))
    return parts


def _lookup(ns: Namespaces, path: list[str | int]) -> Any:
    value: Any = ns
    for part in path:
        if isinstance(part, int):
            if type(value) is not list or part >= len(value):
                return _MISSING
        elif not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def is_constant(renderer: Renderer) -> bool:
    """Whether the renderer gives the same value whatever the namespaces (no template)."""
    return getattr(renderer, "constant", False) is True


def _constant(value: Any) -> Renderer:
    def render(ns: Namespaces) -> Any:
        return value

    render.constant = True  # type: ignore[attr-defined]
    return render


def lookup_chain(node: nodes.Node) -> list[str | int] | None:
    """`vars.order["id"]` as ["vars", "order", "id"]; None for anything less simple."""
    from jinja2 import nodes

    parts: list[str | int] = []
    while True:
        if isinstance(node, nodes.Name):
            return [node.name, *reversed(parts)]
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            parts.append(node.arg.value)
            node = node.node
        else:
            return None


def _root(dotted: str) -> str:
    return re.split(r"[.\[]", dotted, maxsplit=1)[0]


def _dotted(chain: list[str | int]) -> str:
    text = str(chain[0])
    for part in chain[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text
