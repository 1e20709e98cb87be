"""The step executor: one ScenarioStep and its StepContext in, one StepOutcome out.

FAILED means the SUT answered and a check did not hold; ERROR means Orchestra could not judge:
an unbound task, a template naming a missing variable, a transport error or timeout, a body
that is not JSON where a check needs JSON; with `eventually`, an answer missing or not judged
is polled again, ERROR only once the time is up (but at once for an undefined variable that
no answer can bring, such as `vars.x`). Every request carries a stable
`Idempotency-Key` (suite run, test run, data row, branch, position and element: not the
attempt, so re-running a step after a crash sends the same key) and a W3C `traceparent` whose
trace is the test run.
Everything returned is redacted: no secret value leaves the executor in clear.

Per-step work is kept small: a spec is compiled once (templates, JSONPaths, schemas) and found
again by the step's identity or its content; what all its requests share (service, static headers
and credentials, the protocol's plug-in, TLS) is worked out at its first request, and only the
action's templated fields are rendered per request; one client per protocol, with a keep-alive
pool, serves every step.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

from orchestra.binding.checks import (
    CheckError,
    InvalidJson,
    ResponseView,
    default_status_result,
    not_judged,
)
from orchestra.binding.compiled import CompiledStep, StepError, render
from orchestra.binding.environment import EnvironmentSpec, resolved_environment
from orchestra.binding.model import Eventually, StepSpec
from orchestra.binding.records import Execution
from orchestra.binding.redaction import Redactor
from orchestra.binding.requests import RequestBuilder
from orchestra.binding.templates import Namespaces, TemplateFailure, Templates
from orchestra.domain.execution import CheckResult, StepContext, StepOutcome
from orchestra.domain.merging import deep_merge
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind, StepStatus
from orchestra.errors import ConfigurationError
from orchestra.protocols.base import (
    ActionProtocol,
    ProtocolRequest,
    ProtocolResponse,
    TransportError,
)
from orchestra.protocols.registry import ProtocolRegistry, protocol_registry
from orchestra.protocols.replay import ReplayPolicy
from orchestra.protocols.retry import RetryPolicy, retry_after

BODY_LIMIT = 64 * 1024
_CACHE_SIZE = 4096


def describe(step: ScenarioStep) -> str:
    name = f" {step.name!r}" if step.name else ""
    if step.meta.get("phase") == "cleanup":
        return f"cleanup {step.position} ({step.element_id or 'scenario'}{name})"
    return f"step {step.position} ({step.element_id or step.kind.value}{name})"


def step_view(outcome: StepOutcome) -> dict[str, Any]:
    """What `steps.<element id>` shows to later templates."""
    return {
        "status": outcome.status.value,
        "response": outcome.response,
        "saved": outcome.saved,
        "exports": outcome.exports,
    }


def _as_replay(
    result: CheckResult, view: ResponseView, replaying: ReplayPolicy | None
) -> CheckResult:
    """A failed status check of a re-send passes when the status is one of `replay.status`."""
    if result.passed or replaying is None or not replaying.accepts(view.status):
        return result
    statuses = ", ".join(map(str, replaying.status))
    why = f"accepted as the answer to a re-send (replay.status: [{statuses}])"
    return result.model_copy(update={"passed": True, "message": why})


def _command_check(status: int) -> CheckResult:
    """A command followed by `eventually.poll` is taken when it answers 2xx."""
    taken = 200 <= status < 300
    return CheckResult(name="command status", passed=taken, expected="2xx", actual=status)


def _polls(polls: int, eventually: Eventually) -> str:
    return f"{polls} polls in {eventually.timeout:g} s"


class StepExecutor:
    """Runs steps against one environment. Share one per worker: its client pools connections."""

    def __init__(
        self,
        environment: EnvironmentSpec,
        variables: Mapping[str, str],
        *,
        protocols: Mapping[str, ActionProtocol] | None = None,
        registry: ProtocolRegistry | None = None,
        body_limit: int = BODY_LIMIT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._environment = resolved_environment(environment, variables)
        # `{{ secrets.NAME }}`: the `secrets` entries, never a variable the file names elsewhere
        self._secrets = dict(self._environment.secrets)
        self._env_view = self._environment.template_view()  # its variables substituted
        headers_to_mask = [a.header for a in self._auths() if a.type == "api_key"]
        public = environment.public_references()
        masked = [value for name, value in variables.items() if name not in public]
        self._redactor = Redactor([*masked, *self._secrets.values()], headers_to_mask)
        # Clients by protocol name, each connected at its first use; `protocols` supplies some.
        self._registry = registry or protocol_registry()
        self._clients: dict[str, ActionProtocol] = dict(protocols or {})
        self._body_limit = body_limit
        self._sleep = sleep
        self._clock = clock
        self._templates = Templates()
        self._by_identity: dict[int, tuple[ScenarioStep, CompiledStep, str]] = {}
        self._by_content: dict[str, CompiledStep] = {}
        self._requests = RequestBuilder(
            self._environment, self._registry, self._client, self._redactor, clock
        )

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
        for client in self._clients.values():
            await client.aclose()

    def _client(self, name: str) -> ActionProtocol:
        client = self._clients.get(name)
        if client is None:
            client = self._clients[name] = self._registry.plugin(name).connect()
        return client

    async def execute(self, step: ScenarioStep, ctx: StepContext) -> StepOutcome:
        started_at = time.time()
        started = time.perf_counter()
        run = Execution()
        try:
            await self._run(step, ctx, run)
        except StepError as exc:
            run.status, run.error = StepStatus.ERROR, exc.message
        duration_ms = (time.perf_counter() - started) * 1000.0
        if ctx.is_resend and step.kind is not StepKind.BARRIER:
            return run.outcome(
                started_at, duration_ms, self._redactor, self._body_limit,
                resent_after=ctx.resending, stalled_ms=ctx.stalled_ms,
            )  # fmt: skip
        return run.outcome(started_at, duration_ms, self._redactor, self._body_limit)

    async def _run(self, step: ScenarioStep, ctx: StepContext, run: Execution) -> None:
        if step.kind is StepKind.BARRIER:
            return
        cached = self._by_identity.get(id(step))
        if cached is not None and cached[0] is step:
            compiled, where = cached[1], cached[2]
        else:
            compiled, where = self._compile(step)
        ns = self._namespaces(ctx, compiled)
        expected = compiled.expected
        if expected is None:
            expected = [
                render(check.expected, ns, where, check.name) if check.needs_response else None
                for check in compiled.checks
            ]
        if compiled.spec.action is None:
            self._judge(compiled, None, ns, expected, run, where)
        else:
            await self._act(step, ctx, compiled, ns, expected, run, where)
        if run.status is StepStatus.PASSED:
            self._extract(compiled, ns, run, where)

    def _compile(self, step: ScenarioStep) -> tuple[CompiledStep, str]:
        """The step compiled, and how errors name it; kept by the step's identity."""
        where = describe(step)
        bare = not step.spec.get("action") and not step.spec.get("checks")
        if step.meta.get("unbound") or (step.kind is StepKind.ACTION and bare):
            raise StepError(
                f"{where}: {step.element_id} has no binding (add it under `tasks:` in the "
                "binding file)"
            )
        exports = step.meta.get("exportAs") or {}
        key = json.dumps([step.spec, exports], sort_keys=True, default=str)
        compiled = self._by_content.get(key)
        if compiled is None:
            try:
                known = {k: v for k, v in step.spec.items() if k in StepSpec.model_fields}
                compiled = CompiledStep(StepSpec.model_validate(known), exports, self._templates)
            except TemplateFailure as exc:
                raise StepError(f"{where}: {exc.message}") from exc
            except ValueError as exc:
                raise StepError(f"{where}: invalid step spec: {exc}") from exc
            except ConfigurationError as exc:  # a broken protocol plug-in
                raise StepError(f"{where}: {exc.message}") from exc
            if len(self._by_content) >= _CACHE_SIZE:
                self._by_content.clear()
            self._by_content[key] = compiled
        if len(self._by_identity) >= _CACHE_SIZE:
            self._by_identity.clear()
        self._by_identity[id(step)] = (step, compiled, where)
        return compiled, where

    def _namespaces(self, ctx: StepContext, compiled: CompiledStep) -> dict[str, Any]:
        return {
            "data": _data(ctx.data, compiled),
            "vars": ctx.vars,
            "steps": ctx.steps,
            "suite": ctx.suite,
            "env": {**self._env_view, **ctx.env} if ctx.env else self._env_view,
            "secrets": self._secrets,
            "run": dict(ctx.run.__dict__),  # model_dump() of its scalar fields, 7x cheaper
        }

    async def _act(
        self,
        step: ScenarioStep,
        ctx: StepContext,
        compiled: CompiledStep,
        ns: dict[str, Any],
        expected: list[Any],
        run: Execution,
        where: str,
    ) -> None:
        action = compiled.action
        assert action is not None
        request = self._requests.build_at_once(step, ctx.run, action, ns, where)
        if request is None:
            request = await self._requests.build(step, ctx.run, action, ns, where)
        run.request = request
        protocol = self._client(action.spec.protocol)
        eventually = compiled.spec.eventually
        deadline = self._clock() + eventually.timeout if eventually else None
        replaying = action.spec.replay if ctx.is_resend else None
        if compiled.poll is not None:
            assert eventually is not None
            assert deadline is not None
            command = await self._send(protocol, request, action.retry, run, where, deadline)
            if not self._command_accepted(command, replaying, run, where):
                return
            run.keep_command()
            # the poll's templates read the command's answer (a `Location` to watch)
            ns = {**ns, "response": command.namespace()}
            action, replaying = compiled.poll, None
            request = await self._requests.build(step, ctx.run, action, ns, where, idempotent=False)
            run.request = request
            protocol = self._client(action.spec.protocol)
        await self._until_checks_hold(
            protocol, request, compiled, action.retry, ns, expected, run, where, deadline, replaying
        )

    def _command_accepted(
        self,
        view: ResponseView,
        replaying: ReplayPolicy | None,
        run: Execution,
        where: str,
    ) -> bool:
        """Whether a command followed by `eventually.poll` was taken: a 2xx, or on a re-send
        one of its `replay` statuses; otherwise the step FAILS naming its answer."""
        run.command_check = _as_replay(_command_check(view.status), view, replaying)
        if run.command_check.passed:
            return True
        run.checks = [run.command_check]
        run.status = StepStatus.FAILED
        request = run.request
        sent = f" {request.method} {request.url}" if request is not None else ""
        wanted = "2xx" if replaying is None else f"2xx or, on a re-send, {list(replaying.status)}"
        run.error = f"{where}: command{sent} answered {view.status}, expected {wanted}; not polled"
        return False

    async def _until_checks_hold(
        self,
        protocol: ActionProtocol,
        request: ProtocolRequest,
        compiled: CompiledStep,
        retry: RetryPolicy | None,
        ns: dict[str, Any],
        expected: list[Any],
        run: Execution,
        where: str,
        deadline: float | None,
        replaying: ReplayPolicy | None,
    ) -> None:
        """Send `request` and judge its answer; with `eventually`, again every `interval`
        until the checks hold or the time is up."""
        eventually = compiled.spec.eventually
        polls = 0
        while True:
            polls += 1
            try:
                view = await self._send(protocol, request, retry, run, where, deadline)
                self._judge(compiled, view, ns, expected, run, where, replaying)
            except StepError as exc:
                # No answer yet, or one that cannot be judged yet (a gateway's HTML page, a
                # field not there yet): polling waits for the SUT to come up too. A variable
                # no answer brings (`vars.x`) is an error at once.
                if eventually is None or deadline is None or exc.final:
                    raise
                if self._no_time_for_another_poll(eventually, deadline):
                    run.timeout_ran_out = deadline
                    raise StepError(f"{exc.message} ({_polls(polls, eventually)})") from exc
                await self._sleep(eventually.interval)
                continue
            if run.status is StepStatus.PASSED or eventually is None or deadline is None:
                break
            if self._no_time_for_another_poll(eventually, deadline):
                run.error = f"{run.error} (still failing: {_polls(polls, eventually)})"
                run.timeout_ran_out = deadline
                break
            await self._sleep(eventually.interval)

    def _no_time_for_another_poll(self, eventually: Eventually, deadline: float) -> bool:
        """Asked once a poll has ended, as a slow answer may have used up the time left."""
        return self._clock() + eventually.interval > deadline

    async def _send(
        self,
        protocol: ActionProtocol,
        request: ProtocolRequest,
        policy: RetryPolicy | None,
        run: Execution,
        where: str,
        deadline: float | None = None,
    ) -> ResponseView:
        """One request, sent again on a transient failure as the action's retry policy says
        (each counted in `run.attempts`); the last answer is the step's. A wait must end
        before `deadline` (`eventually`'s) or, without one, be no longer than the request's
        timeout: a `Retry-After: 3600` on a 10 s step is not waited for."""
        attempt = 0
        while True:
            attempt += 1
            run.attempts += 1
            run.timeout_ran_out = None
            sent = self._clock()
            try:
                response = await protocol.send(request)
            except TransportError as exc:
                wait = self._retry_wait(policy, attempt, deadline, request, exc)
                if wait is None:
                    if exc.timeout:  # when, for the runtime to tell a stalled worker's doing
                        run.timeout_ran_out = sent + request.timeout_s
                    tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                    raise StepError(f"{where}: {exc.message}{tries}") from exc
            else:
                wait = self._retry_wait(policy, attempt, deadline, request, response)
                if wait is None:
                    break
            await self._sleep(wait)
        run.response = response
        run.view = ResponseView(
            response.status, response.headers, response.body, response.elapsed_ms
        )
        return run.view

    def _retry_wait(
        self,
        policy: RetryPolicy | None,
        attempt: int,
        deadline: float | None,
        request: ProtocolRequest,
        outcome: ProtocolResponse | TransportError,
    ) -> float | None:
        """How long to wait before sending again; None: do not (not transient, no attempts
        left, or a wait, a `Retry-After` included, that the step has no time for)."""
        if policy is None or attempt >= policy.attempts:
            return None
        asked = None
        if isinstance(outcome, TransportError):
            if not policy.retries_failure(
                timeout=outcome.timeout, transient=outcome.transient, tls=outcome.tls
            ):
                return None
        elif policy.retries_status(outcome.status):
            asked = retry_after(outcome.headers)
        else:
            return None
        wait = policy.wait(attempt) if asked is None else asked
        fits = (
            self._clock() + wait <= deadline if deadline is not None else wait <= request.timeout_s
        )
        return wait if fits else None

    def _judge(
        self,
        compiled: CompiledStep,
        view: ResponseView | None,
        ns: Namespaces,
        expected: list[Any],
        run: Execution,
        where: str,
        replaying: ReplayPolicy | None = None,
    ) -> None:
        """Every check judged, each on its own: a status that does not hold FAILS the step
        even when the body cannot be read as JSON (an HTML 404 page); a check that cannot be
        judged ends it in ERROR only when every check that could be judged held. A re-send
        (`replaying`: its action's `replay`) also passes its status checks with a replay status."""
        # a command followed by `eventually.poll`: whether it was taken, then the poll's checks
        results: list[CheckResult] = [run.command_check] if run.command_check else []
        if view is not None and not compiled.status_checked:
            results.append(_as_replay(default_status_result(view), view, replaying))
        with_response: Namespaces | None = None
        unjudged: list[str] = []  # why each check that could not be judged was not
        for check, value in zip(compiled.checks, expected, strict=True):
            if check.needs_response and view is None:
                raise StepError(f"{where}: check {check.name} needs an action to check")
            scope = ns
            if not check.needs_response:
                if with_response is None:
                    with_response = {**ns, "response": view.namespace()} if view else ns
                scope = with_response
                value = render(check.expected, scope, where, f"check {check.name}")
            try:
                result = check.evaluate(view, scope, value)
                if check.check.kind == "status" and view is not None:
                    result = _as_replay(result, view, replaying)
                results.append(result)
            except CheckError as exc:
                unjudged.append(f"check {check.name}: {exc.message}")
                results.append(not_judged(check.name, value, exc.message))
        run.checks = results
        failed = [r.message or r.name for r in results if not r.passed]
        if unjudged and len(failed) == len(unjudged):  # nothing judged failed: cannot say
            raise StepError(f"{where}: {'; '.join(unjudged)}")
        run.status = StepStatus.FAILED if failed else StepStatus.PASSED
        run.error = f"{where}: {'; '.join(failed)}" if failed else None

    def _extract(self, compiled: CompiledStep, ns: Namespaces, run: Execution, where: str) -> None:
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


def _data(row: dict[str, Any], compiled: CompiledStep) -> dict[str, Any]:
    """The `data.*` namespace: the scenario's data from its conditions, the data row over it,
    the branch data of the bindings' flows over both, nested objects merged at every depth."""
    if compiled.given:
        row = deep_merge(compiled.given, row)
    return deep_merge(row, compiled.data) if compiled.data else row
