"""Protocols are found through the `orchestra.protocols` entry points of installed
distributions; a plug-in that cannot be used is reported naming its entry point."""

from __future__ import annotations

import pytest

from orchestra.errors import ConfigurationError
from orchestra.protocols.registry import ProtocolRegistry, UnknownProtocol, protocol_registry
from tests.integration.protocols.conftest import Install
from tests.support.plugins.tcp_echo import TcpEchoAction, TcpEchoPlugin


def test_http_is_the_only_protocol_when_no_plug_in_is_installed() -> None:
    registry = protocol_registry()

    assert registry.available == ["http"]
    assert [entry.origin for entry in registry.entries] == ["built-in"]


def test_an_installed_plug_in_is_discovered_with_the_distribution_providing_it(
    tcp_echo: ProtocolRegistry,
) -> None:
    assert tcp_echo.available == ["http", "tcp-echo"]
    assert isinstance(tcp_echo.plugin("tcp-echo"), TcpEchoPlugin)
    assert tcp_echo.plugin("tcp-echo").action_model is TcpEchoAction
    entry = tcp_echo.entries[1].to_json()
    assert entry["origin"] == (
        "entry point 'tcp-echo' = 'tests.support.plugins.tcp_echo:plugin' of orchestra-tcp-echo 1.0"
    )
    assert entry["status"] == "ok"
    assert entry["fields"] == ["send"]


def test_an_unknown_protocol_is_refused_listing_those_available(
    tcp_echo: ProtocolRegistry,
) -> None:
    with pytest.raises(UnknownProtocol) as refused:
        tcp_echo.plugin("grpc")

    assert refused.value.message == "unknown protocol 'grpc' (available: http, tcp-echo)"


def test_a_plug_in_that_fails_to_import_is_a_configuration_error_naming_its_entry_point(
    install: Install,
) -> None:
    registry = install("orchestra-broken", {"broken": "tests.support.plugins.missing:plugin"})

    assert registry.available == ["http"]
    (entry,) = registry.broken
    assert entry.error == (
        "entry point 'broken' = 'tests.support.plugins.missing:plugin' of orchestra-broken 1.0:"
        " cannot be loaded: ModuleNotFoundError: No module named 'tests.support.plugins.missing'"
    )
    with pytest.raises(ConfigurationError) as unavailable:
        registry.plugin("broken")
    assert unavailable.value.message == f"protocol 'broken' is unavailable: {entry.error}"
    assert unavailable.value.exit_code == 2


def test_an_object_that_is_not_a_protocol_plug_in_is_reported_as_broken(
    install: Install,
) -> None:
    registry = install(
        "orchestra-odd",
        {
            "echo": "tests.support.plugins.tcp_echo:plugin",
            "tcp-echo": "tests.support.plugins.tcp_echo:TcpEchoClient",
        },
    )

    assert registry.available == ["http"]
    errors = {entry.name: entry.error or "" for entry in registry.broken}
    assert errors["echo"].endswith(
        "its object's `name` is 'tcp-echo', not the entry point's name 'echo'"
    )
    assert errors["tcp-echo"].endswith(
        "its `action_model` is not a subclass of orchestra.protocols.base.ActionSpec"
    )


def test_a_plug_in_cannot_replace_the_built_in_http(install: Install) -> None:
    registry = install("orchestra-http2", {"http": "tests.support.plugins.tcp_echo:plugin"})

    (entry,) = registry.broken
    assert entry.error is not None
    assert entry.error.endswith("'http' is already provided by built-in")
    assert registry.plugin("http").action_model.__name__ == "HttpAction"
