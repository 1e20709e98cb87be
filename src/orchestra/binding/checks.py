"""Checks evaluated against a response: each gives a CheckResult with expected and actual.

A check that does not hold is a result with `passed=False` (the step is FAILED); a check that
cannot be judged raises `CheckError` (the step is ERROR): a response that is not JSON where a
check needs JSON (`InvalidJson`), a schema whose `$ref` leads nowhere.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from orchestra.binding.model import Check, compiled_jmespath, jsonpath_values
from orchestra.binding.templates import Namespaces, Reads, Renderer, Templates
from orchestra.domain.execution import NO_MATCH, READ_MARK, CheckResult
from orchestra.store.jsontext import may_hold_long_integer

_UNPARSED: Any = object()
_MAX_REPR = 200
_SCALARS = frozenset({int, bool, type(None)})  # not float: -0.0 == 0.0


class CheckError(Exception):
    """A check that cannot be judged; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidJson(CheckError):
    pass


@dataclass(slots=True)
class ResponseView:
    """A response as checks and extractors see it; the body is parsed as JSON at most once."""

    status: int
    headers: dict[str, str]
    body: bytes
    elapsed_ms: float
    _json: Any = field(default=_UNPARSED)
    _lower: dict[str, str] | None = None

    def header(self, name: str) -> str | None:
        if self._lower is None:
            self._lower = {key.lower(): value for key, value in self.headers.items()}
        return self._lower.get(name.lower())

    def json(self) -> Any:
        if self._json is _UNPARSED:
            self._json = _parsed(self.body)
        if self._json is _UNPARSED:
            try:
                self._json = json.loads(self.body, parse_constant=_not_json)
            except (ValueError, UnicodeDecodeError) as exc:
                kind = self.header("content-type") or "no content type"
                raise InvalidJson(
                    f"response body is not valid JSON ({kind}, {len(self.body)} bytes): {exc}"
                ) from exc
            except RecursionError as exc:  # json's parser recurses per level
                raise InvalidJson(
                    f"response body is JSON nested too deeply to read ({len(self.body)} bytes)"
                ) from exc
        return self._json

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except InvalidJson:
            return None

    def text(self, limit: int | None = None) -> str:
        """The body (its first `limit` bytes) as text, in the charset its Content-Type names,
        UTF-8 when it names none or one Python does not know."""
        return self.body[:limit].decode(_charset(self.header("content-type")), "replace")

    def namespace(self) -> dict[str, Any]:
        """`response` in templates."""
        return {
            "status": self.status,
            "headers": AnyCaseHeaders(self.headers),
            "json": self.json_or_none(),
            "body": self.text(),
            "elapsed_ms": self.elapsed_ms,
        }


class AnyCaseHeaders(dict[str, str]):
    """`response.headers` in templates: a name in any case finds its header, as in HTTP
    (`response.headers['location']` when the SUT wrote `Location`)."""

    __slots__ = ("_lower",)

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(headers)
        self._lower = {name.lower(): value for name, value in headers.items()}

    def __missing__(self, name: object) -> str:
        if isinstance(name, str) and name.lower() in self._lower:
            return self._lower[name.lower()]
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name) or (isinstance(name, str) and name.lower() in self._lower)

    def get(self, name: str, default: Any = None) -> Any:
        found = super().get(name)
        return found if found is not None else self._lower.get(name.lower(), default)


@dataclass(frozen=True, slots=True)
class CompiledCheck:
    check: Check
    expected: Renderer  # rendered once per execution
    needs_response: bool
    name: str  # the check's name, worked out once
    reads: Reads | None = None  # `that`: the values its template reads, told when it fails

    def evaluate(self, view: ResponseView | None, ns: Namespaces, expected: Any) -> CheckResult:
        result = _EVALUATORS[self.check.kind](self.check, self.name, view, expected)
        if result.passed or self.reads is None:
            return result
        read = self.reads(ns)
        if not read:
            return result
        told = ", ".join(f"{path} = {_short(value)}" for path, value in read.items())
        return result.model_copy(update={"message": f"{result.message}{READ_MARK}{told}"})


_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


@lru_cache(maxsize=64)
def _charset(content_type: str | None) -> str:
    found = _CHARSET.search(content_type or "")
    if found is None:
        return "utf-8"
    try:
        codec = codecs.lookup(found.group(1))
    except LookupError:
        return "utf-8"
    # `bytes.decode` refuses the codecs that are not text encodings (base64, rot13)
    return codec.name if getattr(codec, "_is_text_encoding", True) else "utf-8"


def _parsed(body: bytes) -> Any:
    """The body's JSON as orjson reads it (in C, several times faster); `_UNPARSED` for what
    it refuses, which `json` then reads or refuses in its own words: NaN and Infinity, a lone
    surrogate, UTF-16, nesting deeper than 1,024 levels. A body with 19 digits in a row is
    left to `json` too: orjson reads an integer beyond 64 bits as an inexact float."""
    if may_hold_long_integer(body):
        return _UNPARSED
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _UNPARSED


def _not_json(constant: str) -> Any:
    """Python's json reads NaN and Infinity, which JSON does not have (nor jsonb)."""
    raise ValueError(f"{constant} is not a JSON number")


def compile_check(check: Check, templates: Templates) -> CompiledCheck:
    # The executor renders `expected` once per execution, except for `that`: it is rendered after
    # each response, with `response` in scope.
    reads = templates.reads(check.expected) if check.kind == "that" else None
    return CompiledCheck(
        check, templates.compile(check.expected), check.kind != "that", check.name, reads
    )


DEFAULT_STATUS_CHECK = Check(kind="status", op="lt", expected=400)


def default_status_result(view: ResponseView) -> CheckResult:
    passed = view.status < 400
    message = None if passed else f"HTTP {view.status} (no status check given: expected < 400)"
    return CheckResult(
        name="status < 400 (default)", passed=passed, expected="< 400", actual=view.status,
        message=message,
    )  # fmt: skip


def _result(
    name: str, passed: bool, expected: Any, actual: Any, why: str = "", *, found: bool = True
) -> CheckResult:
    """A check's result; a failed one's message names the check, the expected and the actual
    value (`why` adds the reason when the comparison itself could not be made)."""
    if passed and found and _shareable(expected) and _shareable(actual):
        return _passed(name, expected, actual)
    message = None
    if not passed:
        got = NO_MATCH if not found else _short(actual)
        message = f"{name}: expected {_short(expected)}, got {got}"
        if why:
            message += f" ({why})"
    return CheckResult(
        name=name, passed=passed, expected=expected, actual=actual, message=message, found=found
    )


def not_judged(name: str, expected: Any, why: str) -> CheckResult:
    """A check that could not be judged (the body is not JSON): failed, saying why."""
    message = f"{name}: not judged: {why}"
    return CheckResult(name=name, passed=False, expected=expected, message=message)


def _shareable(value: Any) -> bool:
    kind = type(value)
    return kind in _SCALARS or (kind is str and len(value) <= _MAX_REPR)


@lru_cache(maxsize=1024, typed=True)
def _passed(name: str, expected: Any, actual: Any) -> CheckResult:
    """A check that held: the same frozen result for the same name and values, built once."""
    return CheckResult(name=name, passed=True, expected=expected, actual=actual, message=None)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def _status(check: Check, name: str, view: Any, expected: Any) -> CheckResult:
    actual = view.status
    if check.op in ("eq", "ne"):
        if isinstance(expected, str) and expected.isdigit():
            expected = int(expected)
        return _result(name, _is_code(actual, expected) == (check.op == "eq"), expected, actual)
    if check.op == "in" and isinstance(expected, list):
        return _result(name, any(_is_code(actual, code) for code in expected), expected, actual)
    passed, why = compare(check.op or "eq", actual, expected)
    return _result(name, passed, expected, actual, why)


def _is_code(actual: int, code: Any) -> bool:
    """Whether a status is `code`: a number, its digits (a template's text), or a class (2xx)."""
    if isinstance(code, str):
        if re.fullmatch(r"[1-5]xx", code):
            return actual // 100 == int(code[0])
        return code.isdigit() and actual == int(code)
    return bool(actual == code)


def _latency(check: Check, name: str, view: Any, expected: Any) -> CheckResult:
    actual = round(view.elapsed_ms, 1)
    passed, why = compare(check.op or "lt", actual, expected)
    return _result(name, passed, expected, actual, why)


def _header(check: Check, name: str, view: Any, expected: Any) -> CheckResult:
    actual = view.header(check.target or "")
    if check.op == "exists":
        return _result(
            name, (actual is not None) == bool(expected), bool(expected), actual is not None
        )
    # a header's value is text: `eq: 3` and `in: [1, 2]` mean the digits
    if isinstance(expected, list):
        expected = [_header_text(item) for item in expected]
    else:
        expected = _header_text(expected)
    passed, why = compare(check.op or "eq", actual, expected)
    return _result(name, passed, expected, actual, why, found=actual is not None)


def _header_text(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _jsonpath(check: Check, name: str, view: Any, expected: Any) -> CheckResult:
    found = jsonpath_values(check.target or "$", view.json())
    if check.op == "exists":
        return _result(name, bool(found) == bool(expected), bool(expected), bool(found))
    if not found:  # nothing there is not JSON null: only `ne` holds (`eq: null` does not)
        return _result(name, check.op == "ne", expected, None, found=False)
    actual = found[0] if len(found) == 1 else found
    passed, why = compare(check.op or "eq", actual, expected)
    return _result(name, passed, expected, actual, why)


def _jmespath(check: Check, name: str, view: Any, expected: Any) -> CheckResult:
    import jmespath.exceptions  # loaded with the binding's expression (compiled_jmespath)

    try:
        actual = compiled_jmespath(check.target or "@").search(view.json())
    except jmespath.exceptions.JMESPathError as exc:  # `length(items)` while items is null
        return _result(name, False, expected, None, str(exc))
    if check.op == "exists":  # JMESPath gives null for what is not there
        present = actual is not None
        return _result(name, present == bool(expected), bool(expected), present)
    passed, why = compare(check.op or "eq", actual, expected)
    return _result(name, passed, expected, actual, why)


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    import jsonschema  # only for schema checks: a worker rarely needs it

    schema = json.loads(schema_json)
    return jsonschema.validators.validator_for(schema)(schema)


def _schema(check: Check, name: str, view: Any, expected: Any) -> CheckResult:
    import jsonschema
    from referencing.exceptions import Unresolvable

    validator = _validator(json.dumps(expected, sort_keys=True))
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(view.json()))
    except Unresolvable as exc:  # a `$ref` to nowhere, or to a URL: nothing is fetched
        raise CheckError(f"the schema's $ref cannot be resolved: {exc}") from exc
    if error is None:
        return _result(name, True, "valid against the schema", "valid")
    where = error.json_path
    actual = f"at {where}: {error.message}"
    return _result(name, False, "valid against the schema", actual)


def _that(check: Check, name: str, view: Any, expected: Any) -> CheckResult:
    value = expected  # the executor renders `that` with `response` in scope
    result = _result(name, bool(value), True, value)
    if result.passed:
        return result
    message = f"that {check.expected}: expected true, got {_short(value)}"
    return result.model_copy(update={"message": message})


_EVALUATORS: dict[str, Callable[[Check, str, Any, Any], CheckResult]] = {
    "status": _status,
    "latency_ms": _latency,
    "header": _header,
    "jsonpath": _jsonpath,
    "jmespath": _jmespath,
    "schema": _schema,
    "that": _that,
}


def compare(op: str, actual: Any, expected: Any) -> tuple[bool, str]:
    """(holds, why not); `why` is empty when the default message says it well."""
    try:
        return _compare(op, actual, expected)
    except TypeError:
        return False, f"cannot compare {_short(actual)} {op} {_short(expected)}"


def _compare(op: str, actual: Any, expected: Any) -> tuple[bool, str]:
    if op == "eq":
        return json_equal(actual, expected), ""
    if op == "ne":
        return not json_equal(actual, expected), ""
    if op == "in":
        return isinstance(expected, list) and any(json_equal(actual, e) for e in expected), ""
    if op == "contains":
        return _contains(actual, expected)
    if op == "matches":
        return actual is not None and _pattern(expected).search(str(actual)) is not None, ""
    if op == "length":
        if not hasattr(actual, "__len__"):
            return False, f"{_short(actual)} has no length"
        return len(actual) == expected, f"its length is {len(actual)}"
    if op in ("gt", "lt", "ge", "le"):
        return _order(op, actual, expected)
    raise ValueError(f"unknown operator {op!r}")


def json_equal(one: Any, other: Any) -> bool:
    """Equality as JSON has it: true is not 1 and false is not 0 (Python says they are)."""
    if isinstance(one, bool) or isinstance(other, bool):
        return one is other
    if isinstance(one, list) and isinstance(other, list):
        return len(one) == len(other) and all(map(json_equal, one, other))
    if isinstance(one, dict) and isinstance(other, dict):
        return one.keys() == other.keys() and all(json_equal(v, other[k]) for k, v in one.items())
    return bool(one == other)


def _pattern(expected: Any) -> re.Pattern[str]:
    """The expression to match; one a template made invalid cannot judge: CheckError."""
    try:
        return re.compile(str(expected))
    except re.error as exc:
        raise CheckError(f"invalid regular expression {_short(expected)}: {exc}") from exc


def _contains(actual: Any, expected: Any) -> tuple[bool, str]:
    if isinstance(actual, str):
        return str(expected) in actual, ""
    if isinstance(actual, list):
        return any(json_equal(item, expected) for item in actual), ""
    if isinstance(actual, dict):
        return expected in actual, ""
    return False, f"{_short(actual)} is not a string, list or object"


def _order(op: str, actual: Any, expected: Any) -> tuple[bool, str]:
    numbers = (int, float)
    if isinstance(actual, bool) or not isinstance(actual, numbers):
        return False, f"{_short(actual)} is not a number"
    if isinstance(expected, bool) or not isinstance(expected, numbers):
        return False, f"the expected value {_short(expected)} is not a number"
    holds = {
        "gt": actual > expected,
        "lt": actual < expected,
        "ge": actual >= expected,
        "le": actual <= expected,
    }
    return holds[op], ""
