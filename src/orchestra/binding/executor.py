"""The step executor: one ScenarioStep and its StepContext in, one StepOutcome out.

FAILED means the SUT answered and a check did not hold; ERROR means Orchestra could not judge:
an unbound task, a template naming a missing variable, a transport error or timeout, a body
that is not JSON where a check needs JSON. Every request carries a stable `Idempotency-Key`
(suite run, test run, data row, branch, position and element: not the attempt, so re-running
a step after a crash sends the same key) and a W3C `traceparent` whose trace is the test run.
Everything returned is redacted: no secret value leaves the executor in clear.

Per-step work is kept small: a spec is compiled once (templates, JSONPaths, schemas) and found
again by the step's identity or its content; one protocol client with a keep-alive pool serves
every step.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from orchestra.binding.auth import Authenticator, AuthFailure
from orchestra.binding.checks import (
    CompiledCheck,
    InvalidJson,
    ResponseView,
    compile_check,
    default_status_result,
)
from orchestra.binding.environment import EnvironmentSpec, Service, resolved_environment
from orchestra.binding.model import StepSpec, compiled_jsonpath, jsonpath_values
from orchestra.binding.redaction import Redactor
from orchestra.binding.templates import Namespaces, Renderer, TemplateFailure, Templates
from orchestra.domain.execution import CheckResult, RunIdentity, StepContext, StepOutcome
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind, StepStatus
from orchestra.protocols.base import (
    ActionProtocol,
    ProtocolRequest,
    ProtocolResponse,
    TransportError,
)
from orchestra.protocols.http import HttpProtocol

BODY_LIMIT = 64 * 1024
_CACHE_SIZE = 4096


class StepError(Exception):
    """Ends a step with ERROR; `message` names the step and the culprit."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
    return hashlib.sha256(f"{run.suite_run_id}/{run.test_run_id}".encode()).hexdigest()[:32]


def _span_id() -> str:
    return f"{random.getrandbits(64) or 1:016x}"  # W3C: 16 hex digits, not all zero


def describe(step: ScenarioStep) -> str:
    name = f" {step.name!r}" if step.name else ""
    return f"step {step.position} ({step.element_id or step.kind.value}{name})"


def step_view(outcome: StepOutcome) -> dict[str, Any]:
    """What `steps.<element id>` shows to later templates."""
    return {
        "status": outcome.status.value,
        "response": outcome.response,
        "saved": outcome.saved,
        "exports": outcome.exports,
    }


class _Compiled:
    """A step spec made ready to run: renderers, checks and extractors built once."""

    __slots__ = ("checks", "data", "exports", "request", "save", "spec", "status_checked")

    def __init__(self, spec: StepSpec, exports: dict[str, str], templates: Templates) -> None:
        self.spec = spec
        self.data = spec.data
        action = spec.action
        self.request: dict[str, Renderer] = {}
        if action is not None:
            self.request = {
                "path": templates.compile(action.path),
                "headers": templates.compile(action.headers),
                "query": templates.compile(action.query),
                "json": templates.compile(action.json_body),
                "form": templates.compile(action.form),
                "body": templates.compile(action.body),
            }
        self.checks: list[CompiledCheck] = [compile_check(c, templates) for c in spec.checks]
        self.status_checked = any(c.kind == "status" for c in spec.checks)
        self.save = [(name, _extractor(text, templates)) for name, text in spec.save.items()]
        self.exports = [(name, _extractor(text, templates)) for name, text in exports.items()]


Extractor = Callable[[ResponseView | None, Namespaces], Any]


def _extractor(text: str, templates: Templates) -> Extractor:
    if text.startswith("$"):
        compiled_jsonpath(text)  # refuses an invalid path now, not at the first response

        def by_jsonpath(view: ResponseView | None, ns: Namespaces) -> Any:
            if view is None:
                raise StepError(f"{text} needs a response: the step has no action")
            found = jsonpath_values(text, view.json())
            if not found:
                raise LookupError(f"{text} matched nothing in the response")
            return found[0] if len(found) == 1 else found

        return by_jsonpath
    renderer = templates.compile(text)
    return lambda view, ns: renderer(ns)


class StepExecutor:
    """Runs steps against one environment. Share one per worker: its client pools connections."""

    def __init__(
        self,
        environment: EnvironmentSpec,
        secrets: Mapping[str, str],
        *,
        protocols: Mapping[str, ActionProtocol] | None = None,
        body_limit: int = BODY_LIMIT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._environment = resolved_environment(environment, secrets)
        self._secrets = dict(secrets)
        self._env_view = environment.template_view()
        headers_to_mask = [a.header for a in self._auths() if a.type == "api_key"]
        self._redactor = Redactor(self._secrets.values(), headers_to_mask)
        self._protocols: dict[str, ActionProtocol] = dict(protocols or {"http": HttpProtocol()})
        self._body_limit = body_limit
        self._sleep = sleep
        self._clock = clock
        self._templates = Templates()
        self._by_identity: dict[int, tuple[ScenarioStep, _Compiled]] = {}
        self._by_content: dict[str, _Compiled] = {}
        self._authenticators: dict[str, Authenticator] = {}
        self._executor_headers = {**self._environment.headers}

    def _auths(self) -> list[Any]:
        env = self._environment
        return [a for a in (env.auth, *(s.auth for s in env.services.values())) if a]

    async def __aenter__(self) -> StepExecutor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for protocol in self._protocols.values():
            await protocol.aclose()

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        started_at = time.time()
        started = time.perf_counter()
        run = _Execution(step, ctx)
        redactor = (
            self._redactor.with_secrets(ctx.secrets.values()) if ctx.secrets else self._redactor
        )
        try:
            await self._run(step, ctx, run)
        except StepError as exc:
            run.status, run.error = StepStatus.ERROR, exc.message
        duration_ms = (time.perf_counter() - started) * 1000.0
        return run.outcome(started_at, duration_ms, redactor, self._body_limit)

    async def _run(self, step: ScenarioStep, ctx: StepContext, run: _Execution) -> None:
        if step.kind is StepKind.BARRIER:
            return
        where = describe(step)
        bare = not step.spec.get("action") and not step.spec.get("checks")
        if step.meta.get("unbound") or (step.kind is StepKind.ACTION and bare):
            raise StepError(
                f"{where}: {step.element_id} has no binding (add it under `tasks:` in the "
                "binding file)"
            )
        compiled = self._compile(step, where)
        ns = self._namespaces(ctx, compiled)
        expected = [
            self._render(check.expected, ns, where, check.check.name)
            if check.needs_response
            else None
            for check in compiled.checks
        ]
        if compiled.spec.action is None:
            self._judge(compiled, None, ns, expected, run, where)
        else:
            await self._act(step, ctx, compiled, ns, expected, run, where)
        if run.status is StepStatus.PASSED:
            self._extract(compiled, ns, run, where)

    def _compile(self, step: ScenarioStep, where: str) -> _Compiled:
        cached = self._by_identity.get(id(step))
        if cached is not None and cached[0] is step:
            return cached[1]
        exports = step.meta.get("exportAs") or {}
        key = json.dumps([step.spec, exports], sort_keys=True, default=str)
        compiled = self._by_content.get(key)
        if compiled is None:
            try:
                known = {k: v for k, v in step.spec.items() if k in StepSpec.model_fields}
                compiled = _Compiled(StepSpec.model_validate(known), exports, self._templates)
            except TemplateFailure as exc:
                raise StepError(f"{where}: {exc.message}") from exc
            except ValueError as exc:
                raise StepError(f"{where}: invalid step spec: {exc}") from exc
            if len(self._by_content) >= _CACHE_SIZE:
                self._by_content.clear()
            self._by_content[key] = compiled
        if len(self._by_identity) >= _CACHE_SIZE:
            self._by_identity.clear()
        self._by_identity[id(step)] = (step, compiled)
        return compiled

    def _namespaces(self, ctx: StepContext, compiled: _Compiled) -> dict[str, Any]:
        return {
            "data": {**ctx.data, **compiled.data} if compiled.data else ctx.data,
            "vars": ctx.vars,
            "steps": ctx.steps,
            "suite": ctx.suite,
            "env": {**self._env_view, **ctx.env} if ctx.env else self._env_view,
            "secrets": {**self._secrets, **ctx.secrets} if ctx.secrets else self._secrets,
            "run": ctx.run.model_dump(),
        }

    @staticmethod
    def _render(renderer: Renderer, ns: Namespaces, where: str, what: str) -> Any:
        try:
            return renderer(ns)
        except TemplateFailure as exc:
            raise StepError(f"{where}: {what}: {exc.message}") from exc

    async def _act(
        self,
        step: ScenarioStep,
        ctx: StepContext,
        compiled: _Compiled,
        ns: dict[str, Any],
        expected: list[Any],
        run: _Execution,
        where: str,
    ) -> None:
        request = await self._request(step, ctx, compiled, ns, where)
        run.request = request
        protocol = self._protocols[compiled.spec.action.protocol]  # type: ignore[union-attr]
        eventually = compiled.spec.eventually
        deadline = self._clock() + eventually.timeout if eventually else 0.0
        polls = 0
        while True:
            polls += 1
            view = await self._send(protocol, request, compiled, run, where)
            self._judge(compiled, view, ns, expected, run, where)
            if run.status is StepStatus.PASSED or eventually is None:
                break
            if self._clock() + eventually.interval > deadline:
                run.error = (
                    f"{run.error} (still failing after {polls} polls in {eventually.timeout:g} s)"
                )
                break
            await self._sleep(eventually.interval)

    async def _request(
        self,
        step: ScenarioStep,
        ctx: StepContext,
        compiled: _Compiled,
        ns: Namespaces,
        where: str,
    ) -> ProtocolRequest:
        action = compiled.spec.action
        assert action is not None
        service_name, service = self._service(action.service, where)
        rendered = compiled.request
        path = str(self._render(rendered["path"], ns, where, "action.path"))
        if path.startswith(("http://", "https://")):
            url = path
        else:
            url = f"{service.base_url.rstrip('/')}/{path.lstrip('/')}"
        headers = {**self._executor_headers, **service.headers}
        auth = service.auth or self._environment.auth
        if auth is not None:
            key = service_name if service.auth is not None else ""
            try:
                headers.update(
                    await self._authenticator(key, service).headers(
                        self._protocols[action.protocol]
                    )
                )
            except AuthFailure as exc:
                raise StepError(f"{where}: {exc.message}") from exc
        for name, value in self._render(rendered["headers"], ns, where, "action.headers").items():
            headers[name] = _text(value)
        body, content_type = self._body(compiled, ns, where)
        lower = {name.lower() for name in headers}
        if content_type and "content-type" not in lower:
            headers["Content-Type"] = content_type
        if "idempotency-key" not in lower:
            headers["Idempotency-Key"] = idempotency_key(ctx.run, step)
        if "traceparent" not in lower:
            headers["traceparent"] = f"00-{trace_id(ctx.run)}-{_span_id()}-01"
        query = self._render(rendered["query"], ns, where, "action.query")
        verify = service.verify_tls
        return ProtocolRequest(
            method=action.method,
            url=url,
            headers=headers,
            query=_pairs(query),
            body=body,
            timeout_s=action.timeout or service.timeout or self._environment.timeout,
            verify_tls=self._environment.verify_tls if verify is None else verify,
            follow_redirects=action.follow_redirects,
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
        found = self._authenticators.get(key)
        if found is None:
            auth = service.auth if key else self._environment.auth
            assert auth is not None
            verify = service.verify_tls
            found = self._authenticators[key] = Authenticator(
                auth,
                self._redactor,
                verify_tls=self._environment.verify_tls if verify is None else verify,
                timeout_s=service.timeout or self._environment.timeout,
                clock=self._clock,
            )
        return found

    def _body(
        self, compiled: _Compiled, ns: Namespaces, where: str
    ) -> tuple[bytes | None, str | None]:
        action = compiled.spec.action
        assert action is not None
        rendered = compiled.request
        if action.json_body is not None:
            value = self._render(rendered["json"], ns, where, "action.json")
            return json.dumps(value, default=str).encode(), "application/json"
        if action.form is not None:
            form = self._render(rendered["form"], ns, where, "action.form")
            return urlencode(_pairs(form)).encode(), "application/x-www-form-urlencoded"
        if action.body is not None:
            text = self._render(rendered["body"], ns, where, "action.body")
            return _text(text).encode(), "text/plain; charset=utf-8"
        return None, None

    async def _send(
        self,
        protocol: ActionProtocol,
        request: ProtocolRequest,
        compiled: _Compiled,
        run: _Execution,
        where: str,
    ) -> ResponseView:
        retries = compiled.spec.action.retries if compiled.spec.action else 0
        for attempt in range(retries + 1):
            run.attempts += 1
            try:
                response = await protocol.send(request)
                break
            except TransportError as exc:
                if attempt == retries:
                    tries = f" (after {retries + 1} attempts)" if retries else ""
                    raise StepError(f"{where}: {exc.message}{tries}") from exc
                await self._sleep(min(0.1 * 2**attempt, 2.0))
        run.response = response
        run.view = ResponseView(
            response.status, response.headers, response.body, response.elapsed_ms
        )
        return run.view

    def _judge(
        self,
        compiled: _Compiled,
        view: ResponseView | None,
        ns: Namespaces,
        expected: list[Any],
        run: _Execution,
        where: str,
    ) -> None:
        results: list[CheckResult] = []
        if view is not None and not compiled.status_checked:
            results.append(default_status_result(view))
        with_response: Namespaces | None = None
        for check, value in zip(compiled.checks, expected, strict=True):
            if check.needs_response and view is None:
                raise StepError(f"{where}: check {check.check.name} needs an action to check")
            if not check.needs_response:
                if with_response is None:
                    with_response = {**ns, "response": view.namespace()} if view else ns
                value = self._render(
                    check.expected, with_response, where, f"check {check.check.name}"
                )
            try:
                results.append(check.evaluate(view, ns, value))
            except InvalidJson as exc:
                raise StepError(f"{where}: check {check.check.name}: {exc.message}") from exc
        run.checks = results
        failed = [result.message or result.name for result in results if not result.passed]
        run.status = StepStatus.FAILED if failed else StepStatus.PASSED
        run.error = f"{where}: {'; '.join(failed)}" if failed else None

    def _extract(self, compiled: _Compiled, ns: Namespaces, run: _Execution, where: str) -> None:
        if not compiled.save and not compiled.exports:
            return
        view = run.view
        scope = {**ns, "response": view.namespace()} if view is not None else ns
        for target, label, extractors in (
            (run.saved, "save", compiled.save),
            (run.exports, "exportAs", compiled.exports),
        ):
            for name, extract in extractors:
                try:
                    target[name] = extract(view, scope)
                except LookupError as exc:
                    run.status, run.error = StepStatus.FAILED, f"{where}: {label} {name}: {exc}"
                    return
                except InvalidJson as exc:
                    raise StepError(f"{where}: {label} {name}: {exc.message}") from exc
                except TemplateFailure as exc:
                    raise StepError(f"{where}: {label} {name}: {exc.message}") from exc


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


class _Execution:
    """What one execution of a step has gathered so far."""

    __slots__ = (
        "attempts", "checks", "error", "exports", "request", "response", "saved", "status", "view"
    )  # fmt: skip

    def __init__(self, step: ScenarioStep, ctx: StepContext) -> None:
        self.status = StepStatus.PASSED
        self.error: str | None = None
        self.request: ProtocolRequest | None = None
        self.response: ProtocolResponse | None = None
        self.view: ResponseView | None = None
        self.checks: list[CheckResult] = []
        self.attempts = 0
        self.saved: dict[str, Any] = {}
        self.exports: dict[str, Any] = {}

    def outcome(
        self, started_at: float, duration_ms: float, redactor: Redactor, limit: int
    ) -> StepOutcome:
        checks = tuple(_redacted_check(check, redactor) for check in self.checks)
        return StepOutcome(
            status=self.status,
            started_at=started_at,
            duration_ms=duration_ms,
            request=_request_record(self.request, redactor, limit),
            response=_response_record(self.response, self.view, redactor, limit),
            checks=checks,
            error=redactor.text(self.error) if self.error else None,
            attempts=max(self.attempts, 1),
            saved=redactor.value(self.saved),
            exports=redactor.value(self.exports),
        )


def _redacted_check(check: CheckResult, redactor: Redactor) -> CheckResult:
    expected = redactor.value(check.expected)
    actual = redactor.value(check.actual)
    message = redactor.value(check.message)
    if expected is check.expected and actual is check.actual and message is check.message:
        return check
    return check.model_copy(update={"expected": expected, "actual": actual, "message": message})


def _request_record(
    request: ProtocolRequest | None, redactor: Redactor, limit: int
) -> dict[str, Any] | None:
    if request is None:
        return None
    url = f"{request.url}?{urlencode(request.query)}" if request.query else request.url
    record: dict[str, Any] = {
        "method": request.method,
        "url": redactor.text(url),
        "headers": redactor.headers(request.headers),
    }
    if request.body is not None:
        record["body"] = redactor.text(request.body[:limit].decode("utf-8", "replace"))
        if len(request.body) > limit:
            record["truncated"] = True
    return record


def _response_record(
    response: ProtocolResponse | None, view: ResponseView | None, redactor: Redactor, limit: int
) -> dict[str, Any] | None:
    if response is None or view is None:
        return None
    record: dict[str, Any] = {
        "status": response.status,
        "headers": redactor.headers(response.headers),
        "elapsed_ms": round(response.elapsed_ms, 3),
        "url": redactor.text(response.url),
    }
    body = response.body
    is_json = "json" in (view.header("content-type") or "")
    if is_json and len(body) <= limit and (parsed := view.json_or_none()) is not None:
        record["json"] = redactor.json_body(parsed, body)
    elif body:
        record["body"] = redactor.text(body[:limit].decode("utf-8", "replace"))
        if len(body) > limit:
            record["truncated"] = True
            record["size"] = len(body)
    return record
