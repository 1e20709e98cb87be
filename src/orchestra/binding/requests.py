"""Rendering a step's action into the request a protocol sends.

Headers are layered: the environment's, the service's, its credentials, then the action's own;
`Idempotency-Key` and `traceparent` are added unless the action sets them.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from orchestra.binding.auth import Authenticator, AuthFailure
from orchestra.binding.compiled import CompiledStep, StepError, render
from orchestra.binding.environment import EnvironmentSpec, Service
from orchestra.binding.model import HttpAction
from orchestra.binding.redaction import Redactor
from orchestra.binding.templates import Namespaces, is_constant
from orchestra.binding.tls import Connection, TlsContexts, merged
from orchestra.domain.execution import RunIdentity
from orchestra.domain.scenario import ScenarioStep
from orchestra.protocols.base import ActionProtocol, ProtocolRequest


def idempotency_key(run: RunIdentity, step: ScenarioStep) -> str:
    """A UUID-shaped digest of the step's place in its run (no attempt: stable across crashes)."""
    name = (
        f"orchestra/{run.suite_run_id}/{run.test_run_id}/{run.data_row_index}/"
        f"{step.branch}/{step.position}/{step.element_id}"
    )
    digest = hashlib.blake2b(name.encode(), digest_size=16).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


def trace_id(run: RunIdentity) -> str:
    """One W3C trace per test run: every step's request is a span of it."""
    return _trace_id(run.suite_run_id, run.test_run_id)


@lru_cache(maxsize=1024)
def _trace_id(suite_run_id: int, test_run_id: int) -> str:
    return hashlib.sha256(f"{suite_run_id}/{test_run_id}".encode()).hexdigest()[:32]


def _span_id() -> str:
    return f"{random.getrandbits(64) or 1:016x}"  # W3C: 16 hex digits, not all zero


@dataclass(frozen=True, slots=True)
class _Target:
    """What every request of one compiled step shares: built at its first request."""

    base_url: str  # without its trailing slash
    url: str | None  # when the path is no template
    query: list[tuple[str, str]] | None  # when the query holds no template
    headers: dict[str, str]  # the environment's, the service's and static credentials
    authenticator: Authenticator | None  # credentials fetched at run time (OAuth2)
    content_type: str | None  # added unless the action sets it
    idempotency_key: bool  # added: the action does not set it
    traceparent: bool
    timeout_s: float
    verify_tls: bool
    tls: Connection


class RequestBuilder:
    """Builds requests for one (resolved) environment; caches one Authenticator per auth."""

    def __init__(
        self,
        environment: EnvironmentSpec,
        protocols: Mapping[str, ActionProtocol],
        redactor: Redactor,
        clock: Callable[[], float],
    ) -> None:
        self._environment = environment
        self._protocols = protocols
        self._redactor = redactor
        self._clock = clock
        self._authenticators: dict[str, Authenticator] = {}
        self._tls = TlsContexts(environment.name)
        self._connections = {name: self._connection(name) for name in environment.services}
        # the environment's own auth fetches its tokens with the environment's TLS options
        self._environment_connection = self._tls.connection(
            environment.tls, verify=environment.verify_tls, service="(environment auth)"
        )

    def _connection(self, service_name: str) -> Connection:
        """A service's TLS: its SSLContext, built now so a bad key file is found at once."""
        service = self._environment.services[service_name]
        tls = merged(self._environment.tls, service.tls)
        return self._tls.connection(tls, verify=self._verify(service), service=service_name)

    def _verify(self, service: Service) -> bool:
        return self._environment.verify_tls if service.verify_tls is None else service.verify_tls

    async def build(
        self,
        step: ScenarioStep,
        run: RunIdentity,
        compiled: CompiledStep,
        ns: Namespaces,
        where: str,
    ) -> ProtocolRequest:
        action = compiled.spec.action
        assert action is not None
        target = compiled.target
        if target is None:
            target = compiled.target = self._target(compiled, where)
        assert isinstance(target, _Target)
        rendered = compiled.request
        url = target.url
        if url is None:
            url = _url(target.base_url, render(rendered["path"], ns, where, "action.path"))
        headers = dict(target.headers)
        if target.authenticator is not None:
            try:
                headers.update(await target.authenticator.headers(self._protocols[action.protocol]))
            except AuthFailure as exc:
                raise StepError(f"{where}: {exc.message}") from exc
        for name, value in render(rendered["headers"], ns, where, "action.headers").items():
            headers[name] = _text(value)
        body = self._body(compiled, ns, where)
        if target.content_type is not None:
            headers["Content-Type"] = target.content_type
        if target.idempotency_key:
            headers["Idempotency-Key"] = idempotency_key(run, step)
        if target.traceparent:
            headers["traceparent"] = f"00-{trace_id(run)}-{_span_id()}-01"
        if target.query is not None:
            query = list(target.query)
        else:
            query = _pairs(render(rendered["query"], ns, where, "action.query"))
        return ProtocolRequest(
            method=action.method,
            url=url,
            headers=headers,
            query=query,
            body=body,
            timeout_s=target.timeout_s,
            verify_tls=target.verify_tls,
            ssl_context=target.tls.ssl_context,
            server_hostname=target.tls.server_hostname,
            follow_redirects=action.follow_redirects,
        )

    def _target(self, compiled: CompiledStep, where: str) -> _Target:
        """What a compiled step's requests share, worked out at its first request."""
        action = compiled.spec.action
        assert action is not None
        service_name, service = self._service(action.service, where)
        headers = {**self._environment.headers, **service.headers}
        authenticator = None
        if (service.auth or self._environment.auth) is not None:
            key = service_name if service.auth is not None else ""
            authenticator = self._authenticator(key, service)
            if authenticator.static_headers is not None:
                headers.update(authenticator.static_headers)
                authenticator = None
        # Header names are fixed per step (only values are templates); OAuth2 adds Authorization.
        names = [*headers, *action.headers, *(["Authorization"] if authenticator else [])]
        lower = {name.lower() for name in names}
        base_url = service.base_url.rstrip("/")
        path, query = compiled.request["path"], compiled.request["query"]
        return _Target(
            base_url=base_url,
            url=_url(base_url, path({})) if is_constant(path) else None,
            query=_pairs(query({})) if is_constant(query) else None,
            headers=headers,
            authenticator=authenticator,
            content_type=None if "content-type" in lower else _content_type(action),
            idempotency_key="idempotency-key" not in lower,
            traceparent="traceparent" not in lower,
            timeout_s=action.timeout or service.timeout or self._environment.timeout,
            verify_tls=self._verify(service),
            tls=self._connections[service_name],
        )

    def _service(self, name: str | None, where: str) -> tuple[str, Service]:
        services = self._environment.services
        if name is None:
            if len(services) == 1:
                return next(iter(services.items()))
            raise StepError(
                f"{where}: the action names no service and environment "
                f"{self._environment.name!r} has several ({', '.join(services)})"
            )
        if name not in services:
            raise StepError(
                f"{where}: environment {self._environment.name!r} has no service {name!r} "
                f"(it has {', '.join(services)})"
            )
        return name, services[name]

    def _authenticator(self, key: str, service: Service) -> Authenticator:
        """One per auth: a service's own (key: its name) or the environment's (key "")."""
        found = self._authenticators.get(key)
        if found is None:
            auth = service.auth if key else self._environment.auth
            assert auth is not None
            found = self._authenticators[key] = Authenticator(
                auth,
                self._redactor,
                verify_tls=self._verify(service) if key else self._environment.verify_tls,
                # trust, client certificate and version floor; not server_hostname: the token
                # endpoint is another host
                ssl_context=(
                    self._connections[key] if key else self._environment_connection
                ).ssl_context,
                timeout_s=service.timeout or self._environment.timeout,
                clock=self._clock,
            )
        return found

    def _body(self, compiled: CompiledStep, ns: Namespaces, where: str) -> bytes | None:
        action = compiled.spec.action
        assert action is not None
        rendered = compiled.request
        if action.json_body is not None:
            value = render(rendered["json"], ns, where, "action.json")
            return json.dumps(value, default=str).encode()
        if action.form is not None:
            form = render(rendered["form"], ns, where, "action.form")
            return urlencode(_pairs(form)).encode()
        if action.body is not None:
            text = render(rendered["body"], ns, where, "action.body")
            return _text(text).encode()
        return None


def _content_type(action: HttpAction) -> str | None:
    if action.json_body is not None:
        return "application/json"
    if action.form is not None:
        return "application/x-www-form-urlencoded"
    if action.body is not None:
        return "text/plain; charset=utf-8"
    return None


def _url(base_url: str, rendered_path: Any) -> str:
    path = str(rendered_path)
    if path.startswith(("http://", "https://")):
        return path
    return f"{base_url}/{path.lstrip('/')}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return (
        value
        if isinstance(value, str)
        else json.dumps(value)
        if isinstance(value, dict | list)
        else str(value)
    )


def _pairs(mapping: Any) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in (mapping or {}).items():
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((str(key), _text(item)))
    return pairs
