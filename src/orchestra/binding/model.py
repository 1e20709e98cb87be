"""What a step of a binding says, as validated data: its action, checks and `eventually`, and
the `StepSpec` they make. The binding file's own shape is `orchestra.binding.document`.

Users' reference: docs/bindings.md (every key, tested); its JSON Schema is generated from
these models (`orchestra.schemas`).

An HTTP action's `path` is relative to its service's base URL (a path prefix in it is kept,
slashes between them are made one); the values under `query:` and `form:` are percent-encoded,
but a value written into `path` goes in as it is: a `?`, `#` or `/` in a data row's value
changes the URL, so encode it (`/users/{{ data.name | urlencode }}`; Jinja's filter leaves `/`,
`| replace('/', '%2F')` after it encodes that too).

An action without `protocol` is HTTP (`orchestra.protocols.http.HttpAction`); `protocol: NAME`
picks a plug-in's action model (`orchestra.protocols.registry`, docs/protocols.md), and the
action is validated by it.

Checks name one subject (status, header, jsonpath, jmespath, schema, latency_ms, that) and at
most one operator (eq, ne, contains, matches, exists, gt, lt, ge, le, length, in); a JSONPath
gives the value it matches (a list when several), a JMESPath expression what it evaluates to,
e.g. `{jmespath: "length(items[?state=='PAID'])", ge: 1}` (null: not there). A `save`/`exportAs`
value starting with `$` is a JSONPath into the response body; anything else is a template with
`response` ({status, headers (names in any case), json, body, elapsed_ms}) in scope.

`StepSpec` is what `attach_bindings` writes into `ScenarioStep.spec` (JSON) and what the
executor reads back; `Check` accepts both the file's short form and the normalized form.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from orchestra.domain.process import Frozen
from orchestra.protocols.base import ActionSpec
from orchestra.protocols.registry import UnknownProtocol, protocol_registry

if TYPE_CHECKING:
    import jmespath.parser

CheckKind = Literal["status", "header", "jsonpath", "jmespath", "schema", "latency_ms", "that"]
Operator = Literal[
    "eq", "ne", "contains", "matches", "exists", "gt", "lt", "ge", "le", "length", "in"
]

SUBJECTS: tuple[str, ...] = (
    "status", "header", "jsonpath", "jmespath", "schema", "latency_ms", "that"
)  # fmt: skip
OPERATORS: tuple[str, ...] = (
    "eq", "ne", "contains", "matches", "exists", "gt", "lt", "ge", "le", "length", "in"
)  # fmt: skip
_OPERATORS_OF: dict[str, frozenset[str]] = {
    "status": frozenset({"eq", "ne", "in", "gt", "lt", "ge", "le"}),
    "latency_ms": frozenset({"lt", "le"}),
    "header": frozenset({"eq", "ne", "contains", "matches", "exists", "in"}),
    "jsonpath": frozenset(OPERATORS),
    "jmespath": frozenset(OPERATORS),
    "schema": frozenset(),
    "that": frozenset(),
}


@lru_cache(maxsize=4096)
def compiled_jsonpath(path: str) -> Any:
    """A JSONPath parsed once (jsonpath-ng's parser is slow); ValueError names the path."""
    from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
    from jsonpath_ng.ext.parser import parse as parse_jsonpath

    try:
        return parse_jsonpath(path)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:
        raise ValueError(f"invalid JSONPath {path!r}: {exc}") from exc


@lru_cache(maxsize=4096)
def compiled_jmespath(expression: str) -> jmespath.parser.ParsedResult:
    """A JMESPath expression parsed once; ValueError names it."""
    import jmespath  # only for bindings that check with it
    import jmespath.exceptions

    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        raise ValueError(f"invalid JMESPath {expression!r}: {exc}") from exc


def check_jsonpath(path: str) -> None:
    """Refuses (ValueError) a path jsonpath-ng cannot parse. A plain one parses, so its parser
    is not even imported: `$`, then `.name` (ASCII letters, digits, `_`, none of jsonpath-ng's
    words) and `[index]` parts; a test holds jsonpath-ng to that."""
    plain = _PLAIN_JSONPATH.match(path) and _JSONPATH_WORDS.isdisjoint(_PLAIN_NAME.findall(path))
    if not plain:
        compiled_jsonpath(path)


_PLAIN_JSONPATH = re.compile(r"\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\])*\Z")
_PLAIN_NAME = re.compile(r"\.([A-Za-z0-9_]+)")
_JSONPATH_WORDS = frozenset({"where", "wherenot", "true", "false", "null"})
_SIMPLE_JSONPATH = re.compile(r"^\$((?:\.[A-Za-z_][\w-]*|\[\d+\]|\['[^'\]]*'\])*)$")
_JSONPATH_PART = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\['([^']*)'\]")


@lru_cache(maxsize=4096)
def _simple_jsonpath(path: str) -> tuple[str | int, ...] | None:
    match = _SIMPLE_JSONPATH.match(path)
    if match is None:
        return None
    parts = _JSONPATH_PART.findall(match.group(1))
    return tuple(int(index) if index else (name or quoted) for name, index, quoted in parts)


def jsonpath_values(path: str, document: Any) -> list[Any]:
    """The values `path` matches in `document`; `$.a.b[0]` is walked directly (the hot path)."""
    simple = _simple_jsonpath(path)
    if simple is None:
        return [match.value for match in compiled_jsonpath(path).find(document)]
    value = document
    for part in simple:
        if isinstance(part, int):
            if not isinstance(value, list) or part >= len(value):
                return []
        elif not isinstance(value, dict) or part not in value:
            return []
        value = value[part]
    return [value]


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


class Check(Frozen):
    """One check, normalized: what it looks at, how it compares, against what."""

    kind: CheckKind
    target: str | None = None  # the header name, the JSONPath or the JMESPath expression
    op: Operator | None = None  # None for schema and that
    expected: Any = None

    @model_validator(mode="before")
    @classmethod
    def _from_short_form(cls, value: Any) -> Any:
        if isinstance(value, dict) and "kind" not in value:
            return _normalize_check(value)
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Check:
        allowed = _OPERATORS_OF[self.kind]
        if self.op is not None and self.op not in allowed:
            raise ValueError(f"operator {self.op!r} does not apply to {self.kind}")
        if self.kind == "jsonpath":
            check_jsonpath(self.target or "")
        if self.kind == "jmespath":
            compiled_jmespath(self.target or "")
        if self.op == "matches" and not is_template(self.expected):
            try:
                re.compile(str(self.expected))
            except re.error as exc:
                raise ValueError(f"invalid regular expression {self.expected!r}: {exc}") from exc
        if self.kind == "schema":
            _check_schema(self.expected)
        if self.kind == "that" and not is_template(self.expected):
            raise ValueError("`that` needs a template such as '{{ vars.total > 0 }}'")
        return self

    @property
    def name(self) -> str:
        subject = f"{self.kind} {self.target}" if self.target else self.kind
        return f"{subject} {self.op}" if self.op else subject

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: Any, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        """The file's short form (`{status: 201}`, `{jsonpath: $.state, eq: PAID}`), which is
        what people write; the normalized form is Orchestra's own."""
        return check_json_schema()


_TEMPLATE = {"type": "string", "pattern": r"\{\{|\{%"}
_NUMBER_OR_TEMPLATE = {"anyOf": [{"type": "number"}, _TEMPLATE]}
_STATUS_CODE = {
    "anyOf": [
        {"type": "integer", "minimum": 100, "maximum": 599},
        {"type": "string", "pattern": r"^([1-5]xx|[1-5][0-9][0-9])$|\{\{|\{%"},
    ]
}


def _comparison_schema(subject: str, value: dict[str, Any]) -> dict[str, Any]:
    """`status: 201`, `[200, 201]`, `2xx`, `{lt: 400}`; `latency_ms: 500`, `{le: 800}`."""
    ops = sorted(_OPERATORS_OF[subject])
    one_op = {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
        "properties": {
            op: ({"type": "array", "items": _STATUS_CODE, "minItems": 1} if op == "in" else value)
            for op in ops
        },
    }
    forms = [value, one_op]
    if subject == "status":
        forms.insert(1, {"type": "array", "items": _STATUS_CODE, "minItems": 1})
    return {"anyOf": forms}


def _operator_schema(op: str) -> dict[str, Any]:
    if op == "exists":
        return {"type": "boolean"}
    if op == "length":
        return {"anyOf": [{"type": "integer", "minimum": 0}, _TEMPLATE]}
    if op in ("gt", "lt", "ge", "le"):
        return _NUMBER_OR_TEMPLATE
    if op == "in":
        return {"anyOf": [{"type": "array"}, _TEMPLATE]}
    if op == "matches":
        return {"type": "string"}
    return {}


def check_json_schema() -> dict[str, Any]:
    """One check as a binding file writes it: exactly one subject, at most one operator."""
    status_value = _STATUS_CODE
    latency_value = {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, _TEMPLATE]}
    forms: list[dict[str, Any]] = [
        _one_subject("status", _comparison_schema("status", status_value), ()),
        _one_subject("latency_ms", _comparison_schema("latency_ms", latency_value), ()),
        _one_subject("schema", {"type": ["object", "boolean"]}, ()),
        _one_subject("that", _TEMPLATE, ()),
    ]
    for subject in ("header", "jsonpath", "jmespath"):
        forms.append(_one_subject(subject, {"type": "string"}, sorted(_OPERATORS_OF[subject])))
    return {
        "title": "Check",
        "description": "One check: a subject (status, header, jsonpath, jmespath, schema, "
        "latency_ms, that) and at most one operator (eq, ne, contains, matches, exists, gt, "
        "lt, ge, le, length, in). See docs/bindings.md#checks.",
        "oneOf": forms,
    }


def _one_subject(subject: str, value: dict[str, Any], ops: list[str] | tuple[()]) -> dict[str, Any]:
    properties = {subject: value, **{op: _operator_schema(op) for op in ops}}
    return {
        "type": "object",
        "required": [subject],
        "properties": properties,
        "additionalProperties": False,
        "maxProperties": 2 if ops else 1,
    }


def _check_schema(schema: Any) -> None:
    if not isinstance(schema, dict | bool):
        raise ValueError("`schema` must be a JSON Schema object")
    import jsonschema  # only for bindings with a schema check: a worker rarely needs it

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)  # type: ignore[arg-type]
    except jsonschema.SchemaError as exc:
        raise ValueError(f"invalid JSON Schema: {exc.message}") from exc


def _normalize_check(raw: dict[str, Any]) -> dict[str, Any]:
    subjects = [key for key in raw if key in SUBJECTS]
    if len(subjects) != 1:
        found = ", ".join(map(str, raw)) or "nothing"
        raise ValueError(f"a check names exactly one of {', '.join(SUBJECTS)} (found: {found})")
    kind = subjects[0]
    ops = [key for key in raw if key != kind]
    for op in ops:
        if op not in OPERATORS:
            raise ValueError(f"unknown operator {op!r} (one of {', '.join(OPERATORS)})")
    if len(ops) > 1:
        raise ValueError(f"one operator per check (found: {', '.join(ops)})")
    subject = raw[kind]
    if kind in ("status", "latency_ms"):
        if ops:
            raise ValueError(f"write `{kind}: {{{ops[0]}: ...}}`")
        return _comparison(kind, subject)
    if kind in ("schema", "that"):
        if ops:
            raise ValueError(f"`{kind}` takes no operator (found: {ops[0]})")
        return {"kind": kind, "expected": subject}
    if not isinstance(subject, str):
        raise ValueError(f"`{kind}` must be a string")
    if not ops:
        return {"kind": kind, "target": subject, "op": "exists", "expected": True}
    return {"kind": kind, "target": subject, "op": ops[0], "expected": raw[ops[0]]}


def _comparison(kind: str, subject: Any) -> dict[str, Any]:
    """`status: 201`, `status: [200, 201]`, `status: 2xx`, `latency_ms: 500`, `{lt: 400}`."""
    if isinstance(subject, dict):
        if len(subject) != 1:
            raise ValueError(f"`{kind}` takes one comparison such as {{lt: 400}}")
        ((op, expected),) = subject.items()
        if op not in OPERATORS:
            raise ValueError(f"unknown operator {op!r} (one of {', '.join(OPERATORS)})")
    elif kind == "latency_ms":
        op, expected = "lt", subject
    else:
        op, expected = ("in" if isinstance(subject, list) else "eq"), subject
    _check_expected(kind, op, expected)
    return {"kind": kind, "op": op, "expected": expected}


def _check_expected(kind: str, op: str, expected: Any) -> None:
    """What a status or latency check compares with, refused here rather than failing every
    run: a number for an order (`{lt: 400}`, `latency_ms: 500`), a code or class for a status."""
    if is_template(expected) or (kind == "status" and op not in ("eq", "ne", "in")):
        if not is_template(expected) and not _is_number(expected):
            raise ValueError(f"`{kind}: {{{op}: ...}}` compares with a number, not {expected!r}")
        return
    if kind == "latency_ms":
        if not _is_number(expected) or expected <= 0:
            raise ValueError(f"latency_ms {expected!r} is not a number of milliseconds above 0")
        return
    codes = expected if op == "in" else [expected]
    if op == "in" and (not isinstance(expected, list) or not expected):
        raise ValueError(f"`status: {{in: ...}}` takes a list of codes, not {expected!r}")
    for code in codes:
        if not _is_status(code):
            raise ValueError(f"status {code!r} is neither a code nor a class like 2xx")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_status(value: Any) -> bool:
    if isinstance(value, str):
        return is_template(value) or re.fullmatch(r"[1-5]xx|[1-5]\d\d", value) is not None
    return isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599


def action_by_protocol(value: Any) -> Any:
    """An action validated by its protocol's model (`http` when it names none).

    An unknown protocol is a validation error on `action.protocol` listing those available;
    a protocol whose plug-in is broken raises ConfigurationError naming its entry point.
    """
    if value is None or isinstance(value, ActionSpec):
        return value
    if not isinstance(value, dict):
        raise ValueError("an action is a mapping such as {method: GET, path: /orders}")
    name = value.get("protocol", "http")
    registry = protocol_registry()
    try:
        plugin = registry.plugin(name) if isinstance(name, str) else None
    except UnknownProtocol as exc:
        raise _protocol_error(value, exc.message) from exc
    if plugin is None:
        raise _protocol_error(value, f"a protocol is a name such as http (found {name!r})")
    return plugin.action_model.model_validate(value)


def _protocol_error(value: Any, message: str) -> ValidationError:
    error = PydanticCustomError("unknown_protocol", "{message}", {"message": message})
    return ValidationError.from_exception_data(
        "action", [{"type": error, "loc": ("protocol",), "input": value}]
    )


# An action of any protocol: validated by its model, dumped with all of that model's fields.
Action = Annotated[SerializeAsAny[ActionSpec] | None, BeforeValidator(action_by_protocol)]
RequiredAction = Annotated[SerializeAsAny[ActionSpec], BeforeValidator(action_by_protocol)]


MIN_EVENTUALLY_INTERVAL = 0.01
MAX_EVENTUALLY_TIMEOUT = 7 * 24 * 3600.0


class Eventually(Frozen):
    """Repeat the action until its checks hold, every `interval` s, for at most `timeout` s:
    no faster than every 10 ms (a busy loop on the SUT otherwise), no longer than a week.

    With `poll`, the action is a command sent once, and `poll` (another action, typically a
    GET of the resource the command changes) is what is repeated and checked: a command is
    not sent again to watch it settle, so a SUT replaying it for its Idempotency-Key can
    answer with the original response (docs/bindings.md#eventually)."""

    timeout: float = Field(gt=0, le=MAX_EVENTUALLY_TIMEOUT)
    interval: float = Field(default=1.0, ge=MIN_EVENTUALLY_INTERVAL, le=MAX_EVENTUALLY_TIMEOUT)
    poll: Action = None

    @field_validator("poll")
    @classmethod
    def _poll_not_replayed(cls, value: ActionSpec | None) -> ActionSpec | None:
        if value is not None and value.replay is not None:
            raise ValueError("a poll is never a re-send: give `replay` on the step's action")
        return value


class StepSpec(Frozen):
    """What `ScenarioStep.spec` holds for a bound ACTION or ASSERTION step."""

    action: Action = None
    checks: tuple[Check, ...] = ()
    eventually: Eventually | None = None
    save: dict[str, str] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)  # branch data for this step
    # the scenario's data from its gateway conditions; the data row is laid over it
    given: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        dumped = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        if not dumped["given"]:
            del dumped["given"]
        return dumped
