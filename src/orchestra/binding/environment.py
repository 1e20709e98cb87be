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
one. Certificates named by `tls` are read when the file is loaded and kept as PEM text (they
are public); a private key never is (see `orchestra.binding.tls`). `resolve_secrets` reads the
variables at run time; `resolved_environment` substitutes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from yarl import URL

from orchestra.binding.references import REFERENCE, is_resolved, reference_only
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
    def _absolute(cls, value: str) -> str:
        """http(s)://..., or a plug-in protocol's name as the scheme (`tcp-echo://host:port`)."""
        if re.match(r"^https?://", value):
            return value if REFERENCE.search(value) else _http_url(value)
        if REFERENCE.match(value):  # `${ORDERS_URL}...`: checked again once substituted
            return value
        scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", value)
        available = protocol_registry().available
        if scheme is None or scheme.group(1) not in available:
            plugged = "".join(f", {name}://" for name in available if name != "http")
            raise ValueError(
                f"base_url {value!r} must start with http://, https://{plugged}"
                " (a plug-in protocol's name, once installed: `orchestra protocols` lists them)"
            )
        return value


def _http_url(value: str) -> str:
    """An http(s) base URL aiohttp can reach: a host without spaces, a port in range."""
    try:
        host = URL(value).host
    except ValueError as exc:  # a port out of range or not a number
        raise ValueError(f"base_url {value!r} is not a valid URL: {exc}") from exc
    if not host or any(char.isspace() for char in host):
        raise ValueError(f"base_url {value!r} names no valid host")
    return value


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
        found = REFERENCE.findall(self.model_dump_json())
        return list(dict.fromkeys(found))

    def template_view(self) -> dict[str, Any]:
        """The `env` template namespace: variables, name and services' base URLs, no secrets."""
        services = {name: {"base_url": svc.base_url} for name, svc in self.services.items()}
        return {**self.variables, "name": self.name, "services": services}


def load_environment(path: str | Path) -> EnvironmentSpec:
    path = Path(path)
    text = read_text_file(path, "environment file")
    return parse_environment(Source(str(path), text), base_dir=path.parent)


def parse_environment(source: Source, base_dir: Path | None = None) -> EnvironmentSpec:
    """The environment a text describes; its TLS files are read from `base_dir` (none: refused)."""
    value, tree = parse(source)
    if not isinstance(value, dict):
        raise refusal(source, [Problem("", locate(tree, (), source), "expected a mapping")])
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
    return spec


def resolve_secrets(spec: EnvironmentSpec, environ: Mapping[str, str]) -> dict[str, str]:
    """{variable name: value} for every reference, plus {secret name: value} for `secrets`."""
    missing = [name for name in spec.references() if name not in environ]
    if missing:
        listed = ", ".join(f"${{{name}}}" for name in missing)
        raise ConfigurationError(
            f"environment {spec.name!r}: {listed} not set in the process environment",
            details={"environment": spec.name, "missing": missing},
        )
    resolved = {name: environ[name] for name in spec.references()}
    for name, text in spec.secrets.items():
        resolved[name] = substitute(text, resolved)
    return resolved


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
        return EnvironmentSpec.model_validate(walk(spec.model_dump()), context={"resolved": True})
    except KeyError as exc:
        raise ConfigurationError(f"environment {spec.name!r}: ${{{exc.args[0]}}} not set") from exc
    except ValidationError as exc:  # a variable's value that does not fit (never shown: secret)
        raise ConfigurationError(
            f"environment {spec.name!r}, once its variables are substituted: {_problems(exc)}",
            details={"environment": spec.name},
        ) from None


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
