"""Which protocols there are: the built-in `http`, plus the plug-ins installed in this Python.

A plug-in is an entry point of the group `orchestra.protocols` whose name is the protocol's
name and whose object is a `ProtocolPlugin`:

    [project.entry-points."orchestra.protocols"]
    tcp-echo = "orchestra_tcp_echo:plugin"

Discovery never raises: a plug-in that cannot be imported, or whose object is not a protocol
plug-in, is kept as a broken entry naming its entry point and the reason. Using a broken
protocol (a binding naming it, a step running it) is a ConfigurationError with that reason;
`orchestra protocols` lists every entry, broken ones included.

The registry is read once per process, at its first use (not at import time);
`reload_protocols()` reads it again (after installing a plug-in into a running process).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orchestra.errors import ConfigurationError
from orchestra.protocols.base import ActionSpec, ProtocolPlugin
from orchestra.protocols.http import HttpPlugin

GROUP = "orchestra.protocols"
BUILT_IN = "built-in"


class UnknownProtocol(LookupError):
    def __init__(self, name: str, available: list[str]) -> None:
        message = f"unknown protocol {name!r} (available: {', '.join(available) or 'none'})"
        super().__init__(message)
        self.message = message
        self.name = name
        self.available = available

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name, self.available))  # `Exception` would give the message


@dataclass(frozen=True, slots=True)
class ProtocolEntry:
    """One protocol as discovered: its plug-in, or why it cannot be used."""

    name: str
    origin: str  # "built-in", or the entry point and the distribution providing it
    plugin: ProtocolPlugin | None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"name": self.name, "origin": self.origin}
        found["status"] = "ok" if self.error is None else "broken"
        if self.plugin is not None:
            model = self.plugin.action_model
            found["action"] = f"{model.__module__}.{model.__qualname__}"
            found["fields"] = [
                field.alias or name
                for name, field in model.model_fields.items()
                if name not in ActionSpec.COMMON
            ]
        if self.error is not None:
            found["error"] = self.error
        return found


class ProtocolRegistry:
    """The protocols of this process, by name; the first entry of a name wins."""

    def __init__(self, entries: Iterable[ProtocolEntry]) -> None:
        self.entries = tuple(entries)
        self._by_name: dict[str, ProtocolEntry] = {}
        for entry in self.entries:
            self._by_name.setdefault(entry.name, entry)

    @property
    def available(self) -> list[str]:
        return sorted(name for name, entry in self._by_name.items() if entry.plugin is not None)

    @property
    def broken(self) -> list[ProtocolEntry]:
        return [entry for entry in self.entries if entry.error is not None]

    def plugin(self, name: str) -> ProtocolPlugin:
        """The plug-in of `name`; UnknownProtocol or ConfigurationError (broken) otherwise."""
        entry = self._by_name.get(name)
        if entry is None:
            raise UnknownProtocol(name, self.available)
        if entry.plugin is None:
            raise ConfigurationError(
                f"protocol {name!r} is unavailable: {entry.error}",
                details={"protocol": name, "origin": entry.origin},
            )
        return entry.plugin


def discover_protocols(group: str = GROUP) -> ProtocolRegistry:
    """Read the entry points now: `http` first, then each plug-in, loaded or broken."""
    entries = [ProtocolEntry("http", BUILT_IN, HttpPlugin())]
    taken = {"http": BUILT_IN}
    for point in sorted(importlib.metadata.entry_points(group=group), key=_sort_key):
        entry = _load(point)
        if entry.name in taken:
            why = f"{entry.origin}: {entry.name!r} is already provided by {taken[entry.name]}"
            entry = ProtocolEntry(entry.name, entry.origin, None, why)
        else:
            taken[entry.name] = entry.origin
        entries.append(entry)
    return ProtocolRegistry(entries)


def _sort_key(point: importlib.metadata.EntryPoint) -> tuple[str, str]:
    return point.name, point.value


def _origin(point: importlib.metadata.EntryPoint) -> str:
    where = f"entry point {point.name!r} = {point.value!r}"
    dist = point.dist
    if dist is not None:
        where += f" of {dist.metadata['Name'] or dist.name} {dist.version}"
    return where


def _load(point: importlib.metadata.EntryPoint) -> ProtocolEntry:
    origin = _origin(point)
    try:
        found = point.load()
    except Exception as exc:  # a plug-in's import may fail in any way: say which one failed
        return ProtocolEntry(point.name, origin, None, f"{origin}: cannot be loaded: {_why(exc)}")
    problem = _not_a_plugin(found, point.name)
    if problem is not None:
        return ProtocolEntry(point.name, origin, None, f"{origin}: {problem}")
    plugin: ProtocolPlugin = found
    return ProtocolEntry(point.name, origin, plugin)


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _not_a_plugin(found: Any, name: str) -> str | None:
    """What makes `found` unusable as the plug-in of protocol `name`, or None."""
    declared = getattr(found, "name", None)
    if declared != name:
        return f"its object's `name` is {declared!r}, not the entry point's name {name!r}"
    model = getattr(found, "action_model", None)
    if not (isinstance(model, type) and issubclass(model, ActionSpec)):
        return "its `action_model` is not a subclass of orchestra.protocols.base.ActionSpec"
    missing = [m for m in ("request", "connect") if not callable(getattr(found, m, None))]
    if missing:
        return f"it has no {' and no '.join(missing)} method"
    return None


_current: list[ProtocolRegistry] = []


def protocol_registry() -> ProtocolRegistry:
    """The registry of this process, discovered at the first call."""
    if not _current:
        _current.append(discover_protocols())
    return _current[0]


def reload_protocols() -> ProtocolRegistry:
    """Discover again: a plug-in installed since the first call becomes available."""
    importlib.invalidate_caches()
    _current[:] = [discover_protocols()]
    return _current[0]
