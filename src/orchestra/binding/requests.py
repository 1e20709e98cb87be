"""Rendering a step's action into the request its protocol sends.

What is the same for every protocol is done here: the action's service is found in the
environment, its fields are rendered (templates, once compiled), and headers are layered: the
environment's, the service's, its credentials, then the action's own (when its protocol has
`headers`); `Idempotency-Key` and `traceparent` are added unless the action sets them. The
protocol's plug-in turns that `RenderedAction` into a `ProtocolRequest`.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from orchestra.binding.auth import Authenticator, AuthFailure
from orchestra.binding.compiled import CompiledAction, StepError, render_action
from orchestra.binding.environment import EnvironmentSpec, Service
from orchestra.binding.redaction import Redactor
from orchestra.binding.templates import Namespaces
from orchestra.binding.tls import Connection, TlsContexts, merged
from orchestra.domain.execution import RunIdentity
from orchestra.domain.scenario import ScenarioStep
from orchestra.errors import ConfigurationError
from orchestra.protocols.base import (
    ActionProtocol,
    ActionSpec,
    ProtocolPlugin,
    ProtocolRequest,
    RenderedAction,
    as_text,
    layered,
)
from orchestra.protocols.registry import ProtocolRegistry, UnknownProtocol


def idempotency_key(run: RunIdentity, step: ScenarioStep) -> str:
    """A UUID-shaped digest of the step's place in its run (no attempt: stable across crashes)."""
    name = (
        f"orchestra/{run.suite_run_id}/{run.test_run_id}/{run.data_row_index}/"
        f"{step.branch}/{step.position}/{step.element_id}"
    )
    if step.meta.get("phase") == "cleanup":  # numbered apart from the main steps
        name += "/cleanup"
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

    plugin: ProtocolPlugin
    base_url: str  # without its trailing slash
    headers: dict[str, str]  # the environment's, the service's and static credentials
    authenticator: Authenticator | None  # credentials fetched at run time (OAuth2)
    action_headers: bool  # the protocol has `headers`: the action's are layered on top
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
        registry: ProtocolRegistry,
        client: Callable[[str], ActionProtocol],
        redactor: Redactor,
        clock: Callable[[], float],
    ) -> None:
        self._environment = environment
        self._registry = registry
        self._client = client  # OAuth2 tokens are fetched over HTTP
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
        compiled: CompiledAction,
        ns: Namespaces,
        where: str,
        *,
        idempotent: bool = True,
    ) -> ProtocolRequest:
        """The request of one of the step's actions; `idempotent=False` (an `eventually.poll`,
        which reads and must see what changed) sends no `Idempotency-Key` unless it sets one."""
        target = self._target_of(compiled, where)
        fields = render_action(compiled, ns, where)
        headers = dict(target.headers)
        if target.authenticator is not None:
            try:
                headers.update(await target.authenticator.headers(self._client("http")))
            except AuthFailure as exc:
                raise StepError(f"{where}: {exc.message}") from exc
        return self._request(step, run, compiled, target, fields, headers, where, idempotent)

    def build_at_once(
        self,
        step: ScenarioStep,
        run: RunIdentity,
        compiled: CompiledAction,
        ns: Namespaces,
        where: str,
    ) -> ProtocolRequest | None:
        """`build`'s request when making it waits for nothing (no OAuth2 token to fetch), so
        with no coroutine; None when it has to wait: then `build` makes it."""
        target = self._target_of(compiled, where)
        if target.authenticator is not None:
            return None
        fields = render_action(compiled, ns, where)
        return self._request(step, run, compiled, target, fields, dict(target.headers), where)

    def _target_of(self, compiled: CompiledAction, where: str) -> _Target:
        target = compiled.target
        if target is None:
            target = compiled.target = self._target(compiled.spec, where)
        assert isinstance(target, _Target)
        return target

    def _request(
        self,
        step: ScenarioStep,
        run: RunIdentity,
        compiled: CompiledAction,
        target: _Target,
        fields: dict[str, Any],
        headers: dict[str, str],
        where: str,
        idempotent: bool = True,
    ) -> ProtocolRequest:
        """The request from the action's rendered fields and its headers so far."""
        action = compiled.spec
        if target.action_headers:
            for name, value in fields["headers"].items():
                if value is not None:  # left out, as a query's None is (not sent as "None")
                    headers[name] = as_text(value)
        key = idempotency_key(run, step)
        if target.idempotency_key and idempotent:
            headers["Idempotency-Key"] = key
        if target.traceparent:
            headers["traceparent"] = f"00-{trace_id(run)}-{_span_id()}-01"
        rendered = RenderedAction(
            action,
            fields,
            target.base_url,
            headers,
            target.timeout_s,
            target.verify_tls,
            key,
            ssl_context=target.tls.ssl_context,
            server_hostname=target.tls.server_hostname,
            credential_headers=self._redactor.credentials(headers),
        )
        try:
            return target.plugin.request(rendered)
        except (ValueError, TypeError, LookupError) as exc:  # a rendered value it cannot use
            raise StepError(f"{where}: {compiled.label} ({action.protocol}): {exc}") from exc

    def _target(self, action: ActionSpec, where: str) -> _Target:
        """What a compiled action's requests share, worked out at its first request."""
        plugin = self._plugin(action.protocol, where)
        service_name, service = self._service(action.service, where)
        headers = layered(self._environment.headers, service.headers)
        authenticator = None
        if (service.auth or self._environment.auth) is not None:
            key = service_name if service.auth is not None else ""
            authenticator = self._authenticator(key, service)
            if authenticator.static_headers is not None:
                headers = layered(headers, authenticator.static_headers)
                authenticator = None
        # Header names are fixed per step (only values are templates); OAuth2 adds Authorization.
        own: dict[str, str] = getattr(action, "headers", {})
        later = {name.lower() for name in [*own, *(["Authorization"] if authenticator else [])]}
        lower = {name.lower() for name in headers} | later
        return _Target(
            plugin=plugin,
            base_url=service.base_url.rstrip("/"),
            # what each request sets again is left out, whatever the case of its name
            headers={name: v for name, v in headers.items() if name.lower() not in later},
            authenticator=authenticator,
            action_headers="headers" in type(action).model_fields,
            idempotency_key="idempotency-key" not in lower,
            traceparent="traceparent" not in lower,
            timeout_s=action.timeout or service.timeout or self._environment.timeout,
            verify_tls=self._verify(service),
            tls=self._connections[service_name],
        )

    def _plugin(self, name: str, where: str) -> ProtocolPlugin:
        try:
            return self._registry.plugin(name)
        except (UnknownProtocol, ConfigurationError) as exc:
            raise StepError(f"{where}: {exc}") from exc

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
