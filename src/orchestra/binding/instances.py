"""A small valid instance of a JSON Schema: the request body a scaffold sends when the
description gives no example. Pure; the schema's own `example`, `examples`, `default`, `const`
or first `enum` value wins, then the least the schema asks for (required properties only,
`minItems` items, the lowest number allowed, a string of the right format and length)."""

from __future__ import annotations

from typing import Any

_FORMATS = {
    "email": "user@example.org",
    "date": "2026-01-01",
    "date-time": "2026-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "uri": "https://example.org/",
    "url": "https://example.org/",
    "hostname": "example.org",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
}
_MAX_DEPTH = 12


def example_instance(schema: Any, depth: int = 0) -> Any:
    """A value `schema` accepts (as far as it can be known without searching)."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None if schema is False else {}
    given = _given(schema)
    if given is not _NONE:
        return given
    for key in ("allOf", "oneOf", "anyOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return _combined(schema, key, depth)
    kind = _type_of(schema)
    return _BUILDERS.get(kind, lambda s, d: {})(schema, depth)


_NONE: Any = object()


def _given(schema: dict[str, Any]) -> Any:
    if "const" in schema:
        return schema["const"]
    for key in ("example", "default"):
        if key in schema:
            return schema[key]
    for key in ("examples", "enum"):
        if isinstance(schema.get(key), list) and schema[key]:
            return schema[key][0]
    return _NONE


def _combined(schema: dict[str, Any], key: str, depth: int) -> Any:
    parts = schema[key] if key == "allOf" else schema[key][:1]
    rest = {k: v for k, v in schema.items() if k != key}
    values = [example_instance(part, depth + 1) for part in parts]
    if rest and _type_of(rest) != "any":
        values.append(example_instance(rest, depth + 1))
    if all(isinstance(value, dict) for value in values):
        merged: dict[str, Any] = {}
        for value in values:
            merged.update(value)
        return merged
    return values[0]


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "any"


def _object(schema: dict[str, Any], depth: int) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    required = [name for name in schema.get("required") or [] if isinstance(name, str)]
    return {name: example_instance(properties.get(name, {}), depth + 1) for name in required}


def _array(schema: dict[str, Any], depth: int) -> list[Any]:
    count = int(schema.get("minItems") or 0)
    item = example_instance(schema.get("items") or {}, depth + 1)
    return [item for _ in range(count)]


def _string(schema: dict[str, Any], depth: int) -> str:
    text = _FORMATS.get(str(schema.get("format")), "text")
    low = int(schema.get("minLength") or 0)
    text = text + "x" * max(0, low - len(text))
    high = schema.get("maxLength")
    return text[: int(high)] if isinstance(high, int) else text


def _number(schema: dict[str, Any], depth: int) -> float | int:
    step = schema.get("multipleOf") or 1
    value: float | int = 0
    if isinstance(schema.get("minimum"), int | float):
        value = schema["minimum"]
    if isinstance(schema.get("exclusiveMinimum"), int | float):
        value = max(value, schema["exclusiveMinimum"] + step)
    if isinstance(schema.get("maximum"), int | float) and value > schema["maximum"]:
        value = schema["maximum"]
    if (
        isinstance(schema.get("exclusiveMaximum"), int | float)
        and value >= schema["exclusiveMaximum"]
    ):
        value = schema["exclusiveMaximum"] - step
    if value % step:
        value += step - value % step
    return int(value) if schema.get("type") == "integer" or float(value).is_integer() else value


_BUILDERS: dict[str, Any] = {
    "object": _object,
    "array": _array,
    "string": _string,
    "integer": _number,
    "number": _number,
    "boolean": lambda schema, depth: False,
    "null": lambda schema, depth: None,
}
