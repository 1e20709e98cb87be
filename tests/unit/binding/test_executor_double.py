"""The executor over a hand-written protocol double: retries and token expiry, without I/O."""

from __future__ import annotations

import json
from collections.abc import Callable

from orchestra.binding.document import Defaults, StepBinding, spec_from_binding
from orchestra.binding.environment import EnvironmentSpec
from orchestra.binding.executor import StepExecutor
from orchestra.domain.execution import RunIdentity, StepContext
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind, StepStatus
from orchestra.protocols.base import ProtocolRequest, ProtocolResponse, TransportError

Answer = ProtocolResponse | TransportError


class ScriptedProtocol:
    """Answers each request with the next scripted answer; remembers what it was sent."""

    name = "http"

    def __init__(self, answer: Callable[[ProtocolRequest], Answer]) -> None:
        self.answer = answer
        self.sent: list[ProtocolRequest] = []

    async def send(self, request: ProtocolRequest) -> ProtocolResponse:
        self.sent.append(request)
        answer = self.answer(request)
        if isinstance(answer, TransportError):
            raise answer
        return answer

    async def aclose(self) -> None:
        return None


def ok(payload: object, status: int = 200) -> ProtocolResponse:
    body = json.dumps(payload).encode()
    return ProtocolResponse(status, {"Content-Type": "application/json"}, body, 1.0, "http://x/")


def step(binding: dict[str, object]) -> ScenarioStep:
    spec = spec_from_binding(StepBinding.model_validate(binding), Defaults(), {}).to_json()
    return ScenarioStep(position=1, kind=StepKind.ACTION, element_id="T", spec=spec)


CTX = StepContext(run=RunIdentity(suite_run_id=1, test_run_id=2, scenario="s", attempt=1))


async def _instant(seconds: float) -> None:
    return None


async def test_a_transport_error_is_retried_with_the_same_request() -> None:
    answers: list[Answer] = [TransportError("GET http://x/: cannot connect"), ok({"a": 1})]
    protocol = ScriptedProtocol(lambda request: answers.pop(0))
    env = EnvironmentSpec.model_validate({"name": "e", "services": {"s": {"base_url": "http://x"}}})
    executor = StepExecutor(env, {}, protocols={"http": protocol}, sleep=_instant)

    outcome = await executor.execute(step({"action": {"path": "/", "retries": 1}}), CTX)

    assert outcome.status is StepStatus.PASSED
    assert outcome.attempts == 2
    first, second = protocol.sent
    assert first is second


async def test_an_expired_oauth2_token_is_fetched_again() -> None:
    now = [0.0]
    tokens = iter(["t1", "t2"])

    def answer(request: ProtocolRequest) -> Answer:
        if request.url.endswith("/token"):
            return ok({"access_token": next(tokens), "expires_in": 120})
        return ok({"auth": request.headers["Authorization"]})

    protocol = ScriptedProtocol(answer)
    env = EnvironmentSpec.model_validate({
        "name": "e",
        "services": {"s": {"base_url": "http://x"}},
        "auth": {"type": "oauth2_client_credentials", "token_url": "http://idp/token",
                 "client_id": "c", "client_secret": "${SECRET}"},
    })  # fmt: skip
    executor = StepExecutor(
        env, {"SECRET": "k"}, protocols={"http": protocol}, clock=lambda: now[0]
    )
    who = step({"action": {"path": "/me"}, "save": {"auth": "$.auth"}})

    first = await executor.execute(who, CTX)
    cached = await executor.execute(who, CTX)
    now[0] = 100.0  # past expires_in minus the safety margin
    renewed = await executor.execute(who, CTX)

    sent_auth = [r.headers["Authorization"] for r in protocol.sent if r.url == "http://x/me"]
    assert sent_auth == ["Bearer t1", "Bearer t1", "Bearer t2"]
    assert [o.saved for o in (first, cached, renewed)] == [{"auth": "Bearer ***"}] * 3


async def test_templates_see_run_as_the_plain_fields_of_the_run_identity() -> None:
    env = EnvironmentSpec.model_validate({"name": "e", "services": {"s": {"base_url": "http://x"}}})
    executor = StepExecutor(env, {}, protocols={"http": ScriptedProtocol(lambda r: ok({}))})
    run = RunIdentity(suite_run_id=1, test_run_id=2, scenario="s", attempt=3, data_row_index=4)
    saving = step({"action": {"path": "/"}, "save": {"who": "{{ run }}"}})

    outcome = await executor.execute(saving, StepContext(run=run))

    assert outcome.saved["who"] == run.model_dump()
    assert outcome.saved["who"] is not run.__dict__


async def test_the_data_row_goes_over_the_scenarios_condition_data_and_flow_data_over_both() -> (
    None
):
    env = EnvironmentSpec.model_validate({"name": "e", "services": {"s": {"base_url": "http://x"}}})
    executor = StepExecutor(env, {}, protocols={"http": ScriptedProtocol(lambda r: ok({}))})
    binding = StepBinding.model_validate({"action": {"path": "/"}, "save": {"seen": "{{ data }}"}})
    spec = spec_from_binding(binding, Defaults(), {"branch": "flow"}).to_json()
    spec["given"] = {"amount": 1001, "country": "DE", "branch": "given"}
    solved = ScenarioStep(position=1, kind=StepKind.ACTION, element_id="T", spec=spec)
    run = RunIdentity(suite_run_id=1, test_run_id=2, scenario="s", attempt=1)

    outcome = await executor.execute(solved, StepContext(run=run, data={"amount": 5}))

    assert outcome.saved["seen"] == {"amount": 5, "country": "DE", "branch": "flow"}


async def test_nested_objects_of_the_data_row_merge_into_the_condition_data_at_every_depth() -> (
    None
):
    env = EnvironmentSpec.model_validate({"name": "e", "services": {"s": {"base_url": "http://x"}}})
    executor = StepExecutor(env, {}, protocols={"http": ScriptedProtocol(lambda r: ok({}))})
    binding = StepBinding.model_validate({"action": {"path": "/"}, "save": {"seen": "{{ data }}"}})
    spec = spec_from_binding(binding, Defaults(), {"order": {"channel": "web"}}).to_json()
    spec["given"] = {"order": {"total": 11, "customer": {"tier": "gold", "age": 18}}}
    solved = ScenarioStep(position=1, kind=StepKind.ACTION, element_id="T", spec=spec)
    run = RunIdentity(suite_run_id=1, test_run_id=2, scenario="s", attempt=1)
    row = {"order": {"customer": {"age": 40}}}

    outcome = await executor.execute(solved, StepContext(run=run, data=row))

    assert outcome.saved["seen"] == {
        "order": {"total": 11, "customer": {"tier": "gold", "age": 40}, "channel": "web"}
    }


def _timeout(request: ProtocolRequest) -> Answer:
    return TransportError(f"GET {request.url}: no response within 2 s", timeout=True)


async def test_a_step_that_timed_out_says_when_its_timeout_ran_out() -> None:
    now = [50.0]
    protocol = ScriptedProtocol(_timeout)
    env = EnvironmentSpec.model_validate({"name": "e", "services": {"s": {"base_url": "http://x"}}})
    executor = StepExecutor(env, {}, protocols={"http": protocol}, clock=lambda: now[0])

    outcome = await executor.execute(step({"action": {"path": "/", "timeout": 2}}), CTX)

    assert outcome.status is StepStatus.ERROR
    assert outcome.timeout_ran_out == 52.0  # sent at 50 with 2 s: the runtime asks its stalls
    assert "timeout_ran_out" not in outcome.model_dump()  # never stored


async def test_a_step_that_failed_otherwise_has_no_timeout_moment() -> None:
    protocol = ScriptedProtocol(lambda request: TransportError("GET /: cannot connect"))
    env = EnvironmentSpec.model_validate({"name": "e", "services": {"s": {"base_url": "http://x"}}})
    executor = StepExecutor(env, {}, protocols={"http": protocol})

    outcome = await executor.execute(step({"action": {"path": "/"}}), CTX)

    assert (outcome.status, outcome.timeout_ran_out) == (StepStatus.ERROR, None)


async def test_a_re_send_after_a_stall_records_it_and_accepts_the_replay_statuses() -> None:
    protocol = ScriptedProtocol(lambda request: ok({"id": 1}, status=200))
    env = EnvironmentSpec.model_validate({"name": "e", "services": {"s": {"base_url": "http://x"}}})
    executor = StepExecutor(env, {}, protocols={"http": protocol})
    create = step({
        "action": {"method": "POST", "path": "/", "replay": {"status": [200]}},
        "checks": [{"status": 201}],
    })  # fmt: skip

    first = await executor.execute(create, CTX)
    again = await executor.execute(create, CTX.model_copy(update={"stalled_ms": 9057.0}))

    assert (first.status, first.stalled_ms) == (StepStatus.FAILED, None)
    assert (again.status, again.stalled_ms, again.resent_after) == (
        StepStatus.PASSED,
        9057.0,
        None,
    )
    assert (
        protocol.sent[0].headers["Idempotency-Key"] == protocol.sent[1].headers["Idempotency-Key"]
    )


async def test_a_step_still_failing_when_its_eventually_ends_says_when_that_was() -> None:
    now = [10.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    protocol = ScriptedProtocol(lambda request: ok({"state": "NEW"}))
    env = EnvironmentSpec.model_validate({"name": "e", "services": {"s": {"base_url": "http://x"}}})
    executor = StepExecutor(
        env, {}, protocols={"http": protocol}, sleep=sleep, clock=lambda: now[0]
    )
    polled = step({
        "action": {"path": "/"},
        "checks": [{"jsonpath": "$.state", "eq": "DONE"}],
        "eventually": {"timeout": 1, "interval": 0.25},
    })  # fmt: skip

    outcome = await executor.execute(polled, CTX)

    assert outcome.status is StepStatus.FAILED
    assert outcome.timeout_ran_out == 11.0  # its polls' deadline: a stall may have eaten them
