"""Binding files are validated per protocol: a plug-in's action by its own model, with errors
naming the file, line and field; an unknown protocol is refused at load time."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestra.binding.attach import attach_bindings
from orchestra.binding.environment import EnvironmentSpec
from orchestra.binding.factory import executor_factory
from orchestra.binding.loader import load_bindings
from orchestra.binding.model import StepSpec
from orchestra.domain.records import Environment
from orchestra.errors import BindingRefused, ConfigurationError
from orchestra.protocols.http import HttpAction
from orchestra.protocols.registry import ProtocolRegistry
from tests.integration.protocols.conftest import Install
from tests.support.plugins.tcp_echo import TcpEchoAction
from tests.unit.binding.graphs import order_process
from tests.unit.binding.test_attach import YES, suite

ECHO_BINDING = """\
defaults: {service: orders, timeout: 5, headers: {X-Suite: demo}}
tasks:
  Task_Create:
    action: {protocol: tcp-echo, service: echo, send: {order: "{{ data.order }}"}}
    checks: [{jsonpath: $.order, eq: "{{ data.order }}"}]
  Task_Approve:
    action: {method: POST, path: /approve}
"""


def _refusal(text: str, tmp_path: Path) -> BindingRefused:
    path = tmp_path / "bindings.yaml"
    path.write_text(text)
    with pytest.raises(BindingRefused) as caught:
        load_bindings(path, order_process())
    return caught.value


def test_a_plug_in_action_is_validated_by_its_model_and_an_http_one_by_http(
    tcp_echo: ProtocolRegistry,
) -> None:
    bindings = load_bindings(ECHO_BINDING, order_process())

    echo = bindings.tasks["Task_Create"].action
    assert isinstance(echo, TcpEchoAction)
    assert (echo.service, echo.send) == ("echo", {"order": "{{ data.order }}"})
    assert isinstance(bindings.tasks["Task_Approve"].action, HttpAction)


def test_a_plug_in_action_survives_the_step_spec_round_trip_with_the_defaults_it_has(
    tcp_echo: ProtocolRegistry,
) -> None:
    bindings = load_bindings(ECHO_BINDING, order_process())
    attached, _ = attach_bindings(suite(YES), bindings)

    step = next(s for s in attached.scenarios[0].steps if s.element_id == "Task_Create")
    assert step.spec["action"] == {
        "protocol": "tcp-echo",
        "service": "echo",
        "timeout": 5.0,
        "retries": 0,
        "send": {"order": "{{ data.order }}"},
    }  # no `headers`: tcp-echo has none, so the defaults' are not given to it
    assert isinstance(StepSpec.model_validate(step.spec).action, TcpEchoAction)


def test_an_unknown_protocol_is_refused_naming_it_the_task_the_file_the_line_and_the_choice(
    tcp_echo: ProtocolRegistry, tmp_path: Path
) -> None:
    error = _refusal(
        "tasks:\n  Task_Create:\n    action:\n      protocol: grpc\n      path: /x\n", tmp_path
    )

    assert error.message == (
        f"{tmp_path / 'bindings.yaml'}:4: tasks.Task_Create.action.protocol: "
        "unknown protocol 'grpc' (available: http, tcp-echo)"
    )


def test_a_field_the_protocol_does_not_have_is_refused_naming_its_line(
    tcp_echo: ProtocolRegistry, tmp_path: Path
) -> None:
    error = _refusal(
        "tasks:\n  Task_Create:\n    action:\n      protocol: tcp-echo\n      path: /x\n", tmp_path
    )

    problems = {(p["path"], p["line"], p["message"]) for p in error.details["problems"]}
    assert problems == {
        ("tasks.Task_Create.action.path", 5, "unknown key 'path'"),
        ("tasks.Task_Create.action", 3, "missing key 'send'"),
    }


def test_a_binding_naming_a_broken_plug_in_is_a_configuration_error_naming_its_entry_point(
    install: Install,
) -> None:
    install("orchestra-broken", {"broken": "tests.support.plugins.missing:plugin"})

    with pytest.raises(ConfigurationError) as caught:
        load_bindings("tasks:\n  Task_Create: {action: {protocol: broken}}\n", order_process())

    assert caught.value.message.startswith(
        "protocol 'broken' is unavailable: entry point 'broken' = "
        "'tests.support.plugins.missing:plugin' of orchestra-broken 1.0: cannot be loaded"
    )


def test_a_service_may_be_reached_by_a_plug_in_protocols_scheme(tcp_echo: ProtocolRegistry) -> None:
    spec = EnvironmentSpec.model_validate(
        {"name": "e", "services": {"echo": {"base_url": "tcp-echo://127.0.0.1:9"}}}
    )

    assert spec.services["echo"].base_url == "tcp-echo://127.0.0.1:9"
    with pytest.raises(ValueError, match=r"must start with http://, https://, tcp-echo://"):
        EnvironmentSpec.model_validate(
            {"name": "e", "services": {"echo": {"base_url": "ftp://127.0.0.1:9"}}}
        )


async def test_a_stored_environment_with_a_protocol_not_installed_is_a_configuration_error() -> (
    None
):
    # applied where the plug-in is installed, read by a worker where it is not
    configuration = {"name": "e", "services": {"echo": {"base_url": "tcp-echo://127.0.0.1:9"}}}
    stored = Environment(id=1, name="e", configuration=configuration)

    with pytest.raises(ConfigurationError) as caught:
        await executor_factory({})(stored)

    assert caught.value.message.startswith("environment 'e' as stored does not fit this machine:")
    assert "services.echo.base_url: base_url 'tcp-echo://127.0.0.1:9'" in caught.value.message
    assert "(or the name of a plug-in protocol installed here)" in caught.value.message
