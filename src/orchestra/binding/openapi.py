"""An OpenAPI 3.0 or 3.1 description (already parsed) -> the operations a scaffold binds.

Pure: the caller reads the file. `$ref`s are resolved inside the document only (`#/...`); a
reference to another file or a URL is refused naming it and where it is, as is a reference to
nothing. Schemas come out as JSON Schema: OpenAPI 3.0's `nullable`, boolean exclusive bounds
and annotations (`example`, `xml`, `discriminator`...) are translated or dropped; a recursive
schema is cut at its second visit (`{}`: anything).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from orchestra.errors import InputRefused

METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
# schema nodes resolved in all: references may repeat a schema exponentially (YAML aliases too)
MAX_SCHEMA_NODES = 200_000
# `example` stays: an annotation JSON Schema ignores, and what an instance is made of
_DROPPED = frozenset({"xml", "externalDocs", "discriminator", "nullable"})
_JSON_MEDIA = re.compile(r"^application/(.+\+)?json\b")


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str  # path, query, header, cookie
    required: bool
    schema: dict[str, Any]
    example: Any = None
    has_example: bool = False


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str
    operation_id: str | None
    summary: str
    tags: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    body_schema: dict[str, Any] | None  # a JSON request body's schema
    body_example: Any = None
    has_body_example: bool = False
    success_status: str = "2xx"  # "201", or "2xx" when none is documented precisely
    response_schema: dict[str, Any] | None = None  # the JSON body of that status
    response_properties: frozenset[str] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        return (
            f"{self.operation_id} ({self.method} {self.path})"
            if self.operation_id
            else (f"{self.method} {self.path}")
        )


@dataclass(frozen=True)
class Description:
    operations: tuple[Operation, ...]
    servers: tuple[str, ...]
    title: str
    auth: tuple[str, ...] = ()  # its security schemes, in words


def read_description(document: Any, source: str) -> Description:
    """The operations of a parsed OpenAPI document; InputRefused names what is wrong."""
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise InputRefused(
            f"{source}: not an OpenAPI 3.0 or 3.1 description (no `openapi: 3.x` at its top)",
            details={"file": source},
        )
    try:
        return _read(document, source)
    except RecursionError as exc:
        raise InputRefused(
            f"{source}: nested too deeply to be read", details={"file": source}
        ) from exc


def _read(document: dict[str, Any], source: str) -> Description:
    resolver = _Resolver(document, source)
    operations = []
    for path, item in (document.get("paths") or {}).items():
        item = resolver.resolve(item, f"paths.{path}")
        shared = item.get("parameters") or []
        for method in METHODS:
            if isinstance(item.get(method), dict):
                where = f"paths.{path}.{method}"
                operations.append(_operation(resolver, path, method, item[method], shared, where))
    servers = tuple(str(s.get("url")) for s in document.get("servers") or [] if isinstance(s, dict))
    title = str((document.get("info") or {}).get("title") or source)
    return Description(tuple(operations), servers, title, _auth(resolver, document))


def _auth(resolver: _Resolver, document: dict[str, Any]) -> tuple[str, ...]:
    """Its security schemes in words: `bearer: http bearer`, `key: apiKey X-Key in header`."""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    found = []
    for name, raw in schemes.items():
        scheme = resolver.resolve(raw, f"components.securitySchemes.{name}")
        if not isinstance(scheme, dict):
            continue
        kind = str(scheme.get("type", "?"))
        detail = {
            "http": str(scheme.get("scheme", "")),
            "apiKey": f"{scheme.get('name')} in {scheme.get('in')}",
            "oauth2": " ".join(sorted(scheme.get("flows") or {})),
        }.get(kind, "")
        found.append(f"{name}: {kind} {detail}".strip())
    return tuple(found)


def _operation(
    resolver: _Resolver,
    path: str,
    method: str,
    raw: dict[str, Any],
    shared: list[Any],
    where: str,
) -> Operation:
    raw = resolver.resolve(raw, where)
    parameters = _parameters(resolver, [*shared, *(raw.get("parameters") or [])], where)
    body_schema, body_example, has_example = _request_body(resolver, raw, where)
    status, response_schema = _success(resolver, raw, where)
    properties = _properties(response_schema)
    return Operation(
        method=method.upper(),
        path=path,
        operation_id=raw.get("operationId"),
        summary=" ".join(str(raw.get(key) or "") for key in ("summary", "description")).strip(),
        tags=tuple(str(tag) for tag in raw.get("tags") or ()),
        parameters=parameters,
        body_schema=body_schema,
        body_example=body_example,
        has_body_example=has_example,
        success_status=status,
        response_schema=response_schema,
        response_properties=properties,
    )


def _properties(schema: Any) -> frozenset[str]:
    """The top-level properties an object schema names, through allOf/anyOf/oneOf."""
    if not isinstance(schema, dict):
        return frozenset()
    found = set(schema.get("properties") or {})
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or []:
            found |= _properties(part)
    return frozenset(found)


def _parameters(resolver: _Resolver, raw: list[Any], where: str) -> tuple[Parameter, ...]:
    found: dict[tuple[str, str], Parameter] = {}
    for i, item in enumerate(raw):
        item = resolver.resolve(item, f"{where}.parameters[{i}]")
        if not isinstance(item, dict) or "name" not in item:
            continue
        schema = resolver.schema(item.get("schema") or {}, f"{where}.parameters[{i}].schema")
        example, has = _example_of(item, resolver, where)
        found[(item["name"], item.get("in", "query"))] = Parameter(  # an operation's own win
            name=str(item["name"]),
            where=str(item.get("in", "query")),
            required=bool(item.get("required")) or item.get("in") == "path",
            schema=schema,
            example=example,
            has_example=has,
        )
    return tuple(found.values())


def _request_body(
    resolver: _Resolver, raw: dict[str, Any], where: str
) -> tuple[dict[str, Any] | None, Any, bool]:
    body = resolver.resolve(raw.get("requestBody"), f"{where}.requestBody")
    media = _json_media(body, resolver, f"{where}.requestBody")
    if media is None:
        return None, None, False
    schema = resolver.schema(media.get("schema") or {}, f"{where}.requestBody.schema")
    schema = not_required(schema, "readOnly")  # an id is required in answers, not in requests
    example, has = _example_of(media, resolver, where)
    if not has:
        example, has = _schema_example(schema)
    return schema, example, has


def _success(
    resolver: _Resolver, raw: dict[str, Any], where: str
) -> tuple[str, dict[str, Any] | None]:
    responses = raw.get("responses") or {}
    codes = sorted(str(code) for code in responses if re.fullmatch(r"2\d\d", str(code)))
    key = codes[0] if codes else next((c for c in responses if str(c).upper() == "2XX"), None)
    if key is None:
        return "2xx", None
    answer = resolver.resolve(responses[key], f"{where}.responses.{key}")
    media = _json_media(answer, resolver, f"{where}.responses.{key}")
    schema = None
    if media is not None and media.get("schema") is not None:
        schema = resolver.schema(media["schema"], f"{where}.responses.{key}.schema")
        schema = not_required(schema, "writeOnly")  # a password is required in, never out
    return (str(key) if codes else "2xx"), schema


def not_required(schema: Any, flag: str) -> Any:
    """The schema with the properties marked `flag` (readOnly, writeOnly) no longer required,
    as OpenAPI reads `required` on each side of an exchange."""
    if isinstance(schema, list):
        return [not_required(item, flag) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copied = {key: not_required(value, flag) for key, value in schema.items()}
    properties = schema.get("properties")
    if isinstance(properties, dict) and isinstance(schema.get("required"), list):
        marked = {n for n, p in properties.items() if isinstance(p, dict) and p.get(flag) is True}
        copied["required"] = [name for name in schema["required"] if name not in marked]
    return copied


def _json_media(container: Any, resolver: _Resolver, where: str) -> dict[str, Any] | None:
    if not isinstance(container, dict):
        return None
    for media_type, media in (container.get("content") or {}).items():
        if _JSON_MEDIA.match(str(media_type)) and isinstance(media, dict):
            return resolver.resolve(media, f"{where}.content")  # type: ignore[no-any-return]
    return None


def _example_of(holder: dict[str, Any], resolver: _Resolver, where: str) -> tuple[Any, bool]:
    if "example" in holder:
        return holder["example"], True
    for name, example in (holder.get("examples") or {}).items():
        example = resolver.resolve(example, f"{where}.examples.{name}")
        if isinstance(example, dict) and "value" in example:
            return example["value"], True
    return None, False


def _schema_example(schema: dict[str, Any]) -> tuple[Any, bool]:
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0], True
    return None, False


class _Resolver:
    """`$ref`s inside the document (`#/components/schemas/Loan`), and only those."""

    def __init__(self, document: dict[str, Any], source: str) -> None:
        self.document = document
        self.source = source
        self.nodes = 0

    def resolve(self, value: Any, where: str) -> Any:
        seen: set[str] = set()
        while isinstance(value, dict) and isinstance(value.get("$ref"), str):
            ref = value["$ref"]
            if ref in seen:
                self._refuse(ref, where, "refers to itself")
            seen.add(ref)
            value = self._target(ref, where)
        return value

    def schema(self, value: Any, where: str, visiting: frozenset[str] = frozenset()) -> Any:
        """A schema with every reference inlined, as JSON Schema."""
        self.nodes += 1
        if self.nodes > MAX_SCHEMA_NODES:
            raise InputRefused(
                f"{self.source}: its schemas are over {MAX_SCHEMA_NODES:,} nodes once their "
                f"references are resolved (at {where})",
                details={"file": self.source, "at": where},
            )
        if isinstance(value, list):
            return [self.schema(item, where, visiting) for item in value]
        if not isinstance(value, dict):
            return value
        ref = value.get("$ref")
        if isinstance(ref, str):
            if ref in visiting:
                return {}  # recursive: cut here
            return self.schema(self._target(ref, where), where, visiting | {ref})
        converted = {
            key: self.schema(item, where, visiting) if key not in ("enum", "const") else item
            for key, item in value.items()
            if key not in _DROPPED and not key.startswith("x-")
        }
        return _json_schema(value, converted)

    def _target(self, ref: str, where: str) -> Any:
        if not ref.startswith("#"):
            self._refuse(ref, where, "points outside the file: only `#/...` references are read")
        node: Any = self.document
        for part in ref[1:].lstrip("/").split("/") if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                self._refuse(ref, where, "points to nothing in the file")
        return node

    def _refuse(self, ref: str, where: str, why: str) -> None:
        raise InputRefused(
            f"{self.source}: $ref {ref!r} at {where} {why}",
            details={"file": self.source, "ref": ref, "at": where},
        )


def _json_schema(original: dict[str, Any], converted: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.0's dialect into JSON Schema (3.1's schemas are JSON Schema already)."""
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if converted.get(exclusive) is True and bound in converted:
            converted[exclusive] = converted.pop(bound)
        elif isinstance(converted.get(exclusive), bool):
            del converted[exclusive]
    if original.get("nullable") is True:
        kind = converted.get("type")
        if isinstance(kind, str):
            converted["type"] = [kind, "null"]
        elif "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
    return converted
