"""Plug-ins installed for real for the length of a test: a dist-info folder on sys.path."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestra.protocols.registry import ProtocolRegistry, reload_protocols
from tests.support.plugins import TCP_ECHO, entry_point_distribution

Install = Callable[[str, dict[str, str]], ProtocolRegistry]


@pytest.fixture
def install(tmp_path: Path) -> Iterator[Install]:
    """Installs distributions declaring protocol entry points; all gone after the test."""
    added: list[str] = []

    def install_one(name: str, points: dict[str, str]) -> ProtocolRegistry:
        root = entry_point_distribution(tmp_path / name, name, points)
        sys.path.insert(0, str(root))
        added.append(str(root))
        return reload_protocols()

    try:
        yield install_one
    finally:
        for root in added:
            sys.path.remove(root)
        reload_protocols()


@pytest.fixture
def tcp_echo(install: Install) -> ProtocolRegistry:
    return install("orchestra-tcp-echo", {"tcp-echo": TCP_ECHO})
