"""Environments: how to reach the SUT, with secrets kept as references until run time.

    name: staging
    timeout: 10                      # seconds per request (default 30)
    verify_tls: true
    tls: {ca_file: ./certs/internal-ca.pem}   # see binding/tls.py: extra CAs, mutual TLS...
    headers: {X-Client: orchestra}   # sent to every service
    auth: {type: bearer, token: "${ORDERS_TOKEN}"}
    services:
      orders: {base_url: "https://orders.staging.example", timeout: 5}
      billing:
        base_url: https://billing.staging.example
        auth: {type: oauth2_client_credentials, token_url: https://idp/token,
               client_id: orchestra, client_secret: "${BILLING_SECRET}", scope: billing}
    variables: {tenant: acme}        # templates: {{ env.tenant }}
    secrets: {admin_password: "${ADMIN_PASSWORD}"}   # templates: {{ secrets.admin_password }}

A `${NAME}` anywhere is a reference to the process environment variable NAME. Secret fields
(auth tokens, passwords, API keys, client secrets, and every `secrets` entry) must be
references: a literal secret in the file is refused, so the file and the database never hold
one. `${secret:NAME}` declares NAME a secret wherever it is written. Certificates named by
`tls` are read when the file is loaded and kept as PEM text (they are public); a private key
never is (see `orchestra.binding.tls`). `resolve_secrets` reads the
variables at run time; `resolved_environment` substitutes them. `{{ secrets.NAME }}` reads the
`secrets` entries only (a variable is not one). Results mask the values of
secrets (`secret_references`: declared, or referenced by auth, headers, `secrets`, a key's
password) and show the others (`public_references`: a `${ORDERS_URL}` base URL, `variables`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from yarl import URL

from orchestra.binding.references import (
    REFERENCE,
    SECRET_REFERENCE,
    is_resolved,
    reference_only,
)
from orchestra.binding.tls import Tls
from orchestra.binding.tls_files import embed_certificates
from orchestra.binding.yamlsource import (
    Problem,
    Source,
    dotted,
    locate,
    parse,
    problems_of,
    read_text_file,
    refusal,
)
from orchestra.domain.process import Frozen
from orchestra.domain.records import MAX_NAME_LENGTH
from orchestra.errors import ConfigurationError
from orchestra.protocols.base import Headers, header_fields
from orchestra.protocols.registry import protocol_registry

_SECRET_FIELDS = ("token", "password", "value", "client_secret")
_Path = tuple[str | int, ...]
_SUBSTITUTED = "its value"  # a base_url once substituted, in messages: never the value itself


class Auth(Frozen):
    type: Literal["bearer", "basic", "api_key", "oauth2_client_credentials"]
    token: str | None = None  # bearer
    username: str | None = None  # basic
    password: str | None = None  # basic
    header: str = "X-API-Key"  # api_key
    value: str | None = None  # api_key
    token_url: str | None = None  # oauth2
    client_id: str | None = None
    client_secret: str | None = None
    scope: str | None = None
    audience: str | None = None

    @field_validator("header")
    @classmethod
    def _header_name(cls, value: str) -> str:
        header_fields({value: ""})
        return value

    @model_validator(mode="after")
    def _complete(self, info: ValidationInfo) -> Auth:
        required = {
            "bearer": ("token",),
            "basic": ("username", "password"),
            "api_key": ("value",),
            "oauth2_client_credentials": ("token_url", "client_id", "client_secret"),
        }[self.type]
        missing = [name for name in required if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.type} auth needs {', '.join(missing)}")
        if not is_resolved(info):
            for name in _SECRET_FIELDS:
                reference_only(name, getattr(self, name))
        return self


class Service(Frozen):
    base_url: str
    headers: Headers = Field(default_factory=dict)
    auth: Auth | None = None
    verify_tls: bool | None = None
    tls: Tls | None = None  # over the environment's, field by field
    timeout: float | None = Field(default=None, gt=0)

    @field_validator("base_url")
    @classmethod
    def _absolute(cls, value: str, info: ValidationInfo) -> str:
        """http(s)://..., or a plug-in protocol's name as the scheme (`tcp-echo://host:port`).
        Once its variables are substituted the value may hold a secret: the message leaves it
        out, and `resolved_environment` names the text as written instead."""
        shown = _SUBSTITUTED if is_resolved(info) else f"base_url {value!r}"
        if re.match(r"^https?://", value):
            return value if REFERENCE.search(value) else _http_url(value, shown)
        if REFERENCE.match(value):  # `${ORDERS_URL}...`: checked again once substituted
            return value
        scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", value)
        available = protocol_registry().available
        if scheme is None or scheme.group(1) not in available:
            plugged = "".join(f", {name}://" for name in available if name != "http")
            raise ValueError(
                f"{shown} must start with http://, https://{plugged}"
                " (or the name of a plug-in protocol installed here)"
            )
        return value


def _http_url(value: str, shown: str) -> str:
    """An http(s) base URL aiohttp can reach: a host without spaces, a port in range."""
    try:
        host = URL(value).host
    except ValueError as exc:  # a port out of range or not a number
        # the parser quotes the part it refused: left out, as `shown` leaves out the value
        why = re.sub(r"'[^']*'", "'...'", str(exc)) if shown == _SUBSTITUTED else str(exc)
        raise ValueError(f"{shown} is not a valid URL: {why}") from exc
    if not host or any(char.isspace() for char in host):
        raise ValueError(f"{shown} names no valid host")
    return value


class Origin(Frozen):
    """Where an environment was written: its file and the line of each value holding a
    `${VARIABLE}` (by dotted path), for the errors only substitution at run time can find."""

    file: str
    lines: dict[str, int] = Field(default_factory=dict)

    def where(self, path: str) -> str:
        line = self.lines.get(path)
        return self.file if line is None else f"{self.file}:{line}"


class EnvironmentSpec(Frozen):
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    services: dict[str, Service] = Field(default_factory=dict)
    headers: Headers = Field(default_factory=dict)
    auth: Auth | None = None
    verify_tls: bool = True
    tls: Tls | None = None
    timeout: float = Field(default=30.0, gt=0)
    variables: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    applied_from: Origin | None = None  # set when the file is read, never written in it

    @field_validator("services")
    @classmethod
    def _service_names(cls, value: dict[str, Service]) -> dict[str, Service]:
        """What bindings name a service by (`service: orders`): not empty, no space around,
        no longer than any name Orchestra takes."""
        for name in value:
            if not name.strip() or name != name.strip():
                raise ValueError(
                    f"a service's name may not be empty or have spaces around it: {name!r}"
                )
            if len(name) > MAX_NAME_LENGTH:
                raise ValueError(
                    f"a service's name has at most {MAX_NAME_LENGTH} characters, not {len(name)}:"
                    f" {name[:40]!r}..."
                )
        return value

    @field_validator("secrets")
    @classmethod
    def _references(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if not is_resolved(info):
            for name, text in value.items():
                reference_only(f"secrets.{name}", text)
        return value

    def references(self) -> list[str]:
        """Every environment variable the spec refers to, in order of first appearance."""
        return references_in(self.model_dump(mode="json"))

    def secret_references(self) -> frozenset[str]:
        """The variables whose values results mask (see `secret_references_in`)."""
        return frozenset(secret_references_in(self.model_dump(mode="json")))

    def public_references(self) -> frozenset[str]:
        """The variables that are no secret (a base URL, `variables`, a key file's path):
        results show their values, so a URL reads as it was sent, not `***/orders`."""
        everywhere = set(self.references())
        return frozenset(everywhere - self.secret_references() - set(self.secrets))

    def template_view(self) -> dict[str, Any]:
        """The `env` template namespace: variables, name and services' base URLs, no secrets."""
        services = {name: {"base_url": svc.base_url} for name, svc in self.services.items()}
        return {**self.variables, "name": self.name, "services": services}


def references_in(configuration: Mapping[str, Any]) -> list[str]:
    """Every variable an environment as stored (its JSON) refers to, in order of first
    appearance: read without validating it, so one that no longer fits is listed too."""
    return list(dict.fromkeys(REFERENCE.findall(_written(configuration))))


def secret_references_in(configuration: Mapping[str, Any]) -> list[str]:
    """The variables of an environment as stored whose values are secrets, in order of first
    appearance: those written `${secret:NAME}` anywhere, and those referenced where
    credentials go (any `auth`, any `headers`, `secrets`, a TLS key's password)."""
    places: list[Any] = [configuration.get(key) for key in ("auth", "headers", "secrets")]
    places.append(_key_password(configuration))
    for service in (configuration.get("services") or {}).values():
        places += [service.get("auth"), service.get("headers"), _key_password(service)]
    declared = SECRET_REFERENCE.findall(_written(configuration))
    secret = {*REFERENCE.findall(json.dumps(places)), *declared}
    return [name for name in references_in(configuration) if name in secret]


def _written(configuration: Mapping[str, Any]) -> str:
    """The configuration's JSON as its file wrote it: without where it was read from."""
    return json.dumps({key: value for key, value in configuration.items() if key != "applied_from"})


def _key_password(block: Mapping[str, Any]) -> Any:
    return (block.get("tls") or {}).get("client_key_password")


def load_environment(path: str | Path) -> EnvironmentSpec:
    path = Path(path)
    text = read_text_file(path, "environment file")
    return parse_environment(Source(str(path), text), base_dir=path.parent)


def parse_environment(source: Source, base_dir: Path | None = None) -> EnvironmentSpec:
    """The environment a text describes; its TLS files are read from `base_dir` (none: refused)."""
    value, tree = parse(source)
    if not isinstance(value, dict):
        raise refusal(source, [Problem("", locate(tree, (), source), "expected a mapping")])
    if "applied_from" in value:
        where = locate(tree, ["applied_from"], source)
        raise refusal(source, [Problem("applied_from", where, "is Orchestra's, not the file's")])
    problems = embed_certificates(value, tree, source, base_dir)
    if problems:
        raise refusal(source, problems)
    try:
        spec = EnvironmentSpec.model_validate(value)
    except ValidationError as exc:
        raise refusal(source, problems_of(exc, tree, source)) from exc
    if not spec.services:
        where = locate(tree, ["services"], source)
        raise refusal(source, [Problem("services", where, "name at least one service")])
    lines = {
        dotted(loc): line
        for loc, _ in _references_in(spec.model_dump(mode="json", exclude={"applied_from"}))
        if (line := locate(tree, loc, source)) is not None
    }
    return spec.model_copy(update={"applied_from": Origin(file=source.name, lines=lines)})


def _references_in(value: Any, loc: _Path = ()) -> list[tuple[_Path, str]]:
    """(path, text) of every string in `value` that holds a `${VARIABLE}`."""
    if isinstance(value, str):
        return [(loc, value)] if REFERENCE.search(value) else []
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _references_in(item, (*loc, key))]
    if isinstance(value, list):
        return [found for i, item in enumerate(value) for found in _references_in(item, (*loc, i))]
    return []


def resolve_secrets(spec: EnvironmentSpec, environ: Mapping[str, str]) -> dict[str, str]:
    """{variable name: value} for every reference. The `secrets` entries are not among them:
    they are the resolved environment's (`resolved_environment(...).secrets`), so an entry
    named like a variable never stands for that variable."""
    missing = [name for name in spec.references() if name not in environ]
    if missing:
        listed = ", ".join(f"${{{name}}}" for name in missing)
        raise ConfigurationError(
            f"environment {spec.name!r}: {listed} not set in the process environment",
            details={"environment": spec.name, "missing": missing},
        )
    return {name: environ[name] for name in spec.references()}


def substitute(text: str, resolved: Mapping[str, str]) -> str:
    return REFERENCE.sub(lambda match: resolved[match.group(1)], text)


def resolved_environment(spec: EnvironmentSpec, resolved: Mapping[str, str]) -> EnvironmentSpec:
    """The spec with every reference replaced by its value: for the executor's memory only."""

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return substitute(value, resolved)
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    try:
        written = spec.model_dump(exclude={"applied_from"})
        substituted = {**walk(written), "applied_from": spec.applied_from}
        return EnvironmentSpec.model_validate(substituted, context={"resolved": True})
    except KeyError as exc:
        raise ConfigurationError(f"environment {spec.name!r}: ${{{exc.args[0]}}} not set") from exc
    except ValidationError as exc:  # a variable's value that does not fit (never shown: secret)
        raise ConfigurationError(
            f"environment {spec.name!r}, once its variables are substituted: "
            + "; ".join(_as_written(spec, error, resolved) for error in exc.errors()),
            details={"environment": spec.name},
        ) from None


def _as_written(spec: EnvironmentSpec, error: Any, resolved: Mapping[str, str]) -> str:
    """One problem of a substituted environment, told by the text as written (`${VAR}`) and
    where it was written; a variable's value left in the validator's words is masked too."""
    path = dotted(error["loc"])
    as_written = spec.model_dump(mode="json", exclude={"applied_from"})
    written = dict(_references_in(as_written)).get(tuple(error["loc"]))
    message = str(error["msg"]).removeprefix("Value error, ")
    for name in REFERENCE.findall(written or ""):
        if len(resolved[name]) >= 3:  # shorter ones would mask words of the message
            message = message.replace(resolved[name], f"${{{name}}}")
    where = f"{spec.applied_from.where(path)}: " if spec.applied_from is not None else ""
    text = f" {written!r}" if written is not None else ""
    return f"{where}{path}{text}: {message}"


def stored_environment(name: str, configuration: Mapping[str, Any]) -> EnvironmentSpec:
    """An environment read back from the database, validated again on this machine: one that
    no longer fits it (a plug-in protocol its URLs name is not installed here) is a
    configuration error naming the environment, not a crash."""
    try:
        return EnvironmentSpec.model_validate(configuration)
    except ValidationError as exc:
        raise ConfigurationError(
            f"environment {name!r} as stored does not fit this machine: {_problems(exc)}",
            details={"environment": name},
        ) from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{dotted(error['loc'])}: {str(error['msg']).removeprefix('Value error, ')}"
        for error in exc.errors(include_input=False)
    )
