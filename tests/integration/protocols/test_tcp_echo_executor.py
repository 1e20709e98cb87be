"""A bound step of a plug-in protocol runs through the executor against a real TCP server:
templates rendered as for HTTP, checks and `save` on its reply, transport errors as ERROR."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestra.binding.document import Defaults, StepBinding, spec_from_binding
from orchestra.binding.environment import EnvironmentSpec
from orchestra.binding.executor import StepExecutor
from orchestra.domain.execution import RunIdentity, StepContext
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind, StepStatus
from orchestra.protocols.base import ProtocolRequest, RenderedAction
from orchestra.protocols.http import HttpPlugin
from orchestra.protocols.registry import BUILT_IN, ProtocolEntry, ProtocolRegistry
from tests.support.certificates import make_pki
from tests.support.plugins.echo_server import echo_server
from tests.support.plugins.tcp_echo import TcpEchoPlugin

RUN = RunIdentity(suite_run_id=7, test_run_id=8, scenario="s", attempt=1)


def _step(action: dict[str, Any], **binding: Any) -> ScenarioStep:
    bound = StepBinding.model_validate({"action": {"protocol": "tcp-echo", **action}, **binding})
    spec = spec_from_binding(bound, Defaults(), {}).to_json()
    return ScenarioStep(position=1, kind=StepKind.ACTION, element_id="Task_Echo", spec=spec)


def _environment(base_url: str) -> EnvironmentSpec:
    return EnvironmentSpec.model_validate(
        {"name": "local", "services": {"echo": {"base_url": base_url}}}
    )


async def test_a_plug_in_step_sends_its_rendered_action_and_is_judged_on_the_reply(
    tcp_echo: ProtocolRegistry,
) -> None:
    step = _step(
        {"send": {"order": "{{ data.order }}", "who": "{{ env.name }}"}},
        checks=[{"status": 200}, {"jsonpath": "$.order", "eq": "{{ data.order }}"}],
        save={"echoed": "$.order"},
    )
    with echo_server() as (base_url, lines):
        async with StepExecutor(_environment(base_url), {}) as executor:
            outcome = await executor.execute(step, StepContext(run=RUN, data={"order": 41}))

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert [json.loads(line) for line in lines] == [{"order": 41, "who": "local"}]
    assert outcome.saved == {"echoed": 41}
    assert outcome.request is not None
    assert outcome.response is not None
    assert (outcome.request["method"], outcome.request["url"]) == ("SEND", base_url)
    assert outcome.response["json"] == {"order": 41, "who": "local"}


async def test_a_check_that_does_not_hold_on_a_plug_in_reply_fails_the_step(
    tcp_echo: ProtocolRegistry,
) -> None:
    step = _step({"send": {"state": "NEW"}}, checks=[{"jsonpath": "$.state", "eq": "SHIPPED"}])
    with echo_server() as (base_url, _):
        async with StepExecutor(_environment(base_url), {}) as executor:
            outcome = await executor.execute(step, StepContext(run=RUN))

    assert outcome.status is StepStatus.FAILED
    assert outcome.error == (
        "step 1 (Task_Echo): jsonpath $.state eq: expected 'SHIPPED', got 'NEW'"
    )


async def test_a_plug_in_reply_that_is_no_json_where_a_check_needs_json_is_an_error(
    tcp_echo: ProtocolRegistry,
) -> None:
    step = _step({"send": "hello"}, checks=[{"jsonpath": "$", "eq": "bye"}])
    with echo_server() as (base_url, _):
        async with StepExecutor(_environment(base_url), {}) as executor:
            outcome = await executor.execute(step, StepContext(run=RUN))

    assert outcome.status is StepStatus.ERROR
    assert outcome.error == (
        "step 1 (Task_Echo): check jsonpath $ eq: response body is not valid JSON "
        "(text/plain, 5 bytes): Expecting value: line 1 column 1 (char 0)"
    )


async def test_a_missing_variable_in_a_plug_in_action_names_the_field(
    tcp_echo: ProtocolRegistry,
) -> None:
    step = _step({"send": "{{ vars.order_id }}"})
    with echo_server() as (base_url, lines):
        async with StepExecutor(_environment(base_url), {}) as executor:
            outcome = await executor.execute(step, StepContext(run=RUN))

    assert outcome.status is StepStatus.ERROR
    assert outcome.error == (
        "step 1 (Task_Echo): action.send: template '{{ vars.order_id }}': "
        "vars.order_id is undefined"
    )
    assert lines == []


async def test_a_plug_in_server_that_is_down_is_an_error_after_the_retries(
    tcp_echo: ProtocolRegistry,
) -> None:
    with echo_server() as (base_url, _):
        pass  # the port is free again: nothing listens there now
    step = _step({"send": "hello", "retries": 1})
    async with StepExecutor(_environment(base_url), {}) as executor:
        outcome = await executor.execute(step, StepContext(run=RUN))

    assert outcome.status is StepStatus.ERROR
    assert outcome.attempts == 2
    assert outcome.error is not None
    assert outcome.error.startswith(f"step 1 (Task_Echo): SEND {base_url}: cannot connect")
    assert outcome.error.endswith("(after 2 attempts)")


async def test_a_stored_step_of_a_protocol_not_installed_here_is_an_error_naming_it() -> None:
    spec = {"action": {"protocol": "tcp-echo", "send": "hello"}}
    step = ScenarioStep(position=1, kind=StepKind.ACTION, element_id="Task_Echo", spec=spec)
    async with StepExecutor(_environment("http://127.0.0.1:9"), {}) as executor:
        outcome = await executor.execute(step, StepContext(run=RUN))

    assert outcome.status is StepStatus.ERROR
    assert outcome.error is not None
    assert outcome.error.startswith("step 1 (Task_Echo): invalid step spec:")
    assert "unknown protocol 'tcp-echo' (available: http)" in outcome.error


class _Seeing(TcpEchoPlugin):
    """tcp-echo, remembering the rendered actions it was given."""

    def __init__(self) -> None:
        self.seen: list[RenderedAction] = []

    def request(self, action: RenderedAction) -> ProtocolRequest:
        self.seen.append(action)
        return super().request(action)


async def test_a_plug_in_action_gets_its_services_tls_options(
    tcp_echo: ProtocolRegistry, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path)
    seeing = _Seeing()
    registry = ProtocolRegistry(
        [ProtocolEntry("http", BUILT_IN, HttpPlugin()), ProtocolEntry("tcp-echo", "test", seeing)]
    )
    tls = {"ca_pem": pki.ca.read_text(), "server_hostname": "orders.internal"}
    with echo_server() as (base_url, _):
        services = {"echo": {"base_url": base_url, "tls": tls}}
        spec = EnvironmentSpec.model_validate({"name": "local", "services": services})
        async with StepExecutor(spec, {}, registry=registry) as executor:
            outcome = await executor.execute(_step({"send": "hi"}), StepContext(run=RUN))

    assert outcome.status is StepStatus.PASSED, outcome.error
    (action,) = seeing.seen
    assert action.server_hostname == "orders.internal"
    assert action.ssl_context is not None
    trusted = [str(ca["subject"]) for ca in action.ssl_context.get_ca_certs()]
    assert "((('commonName', 'test-ca'),),)" in trusted  # beside the system's
