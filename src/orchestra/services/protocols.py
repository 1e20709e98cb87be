"""Use case: which action protocols this installation has (built in and plugged in)."""

from __future__ import annotations

from typing import Any

from orchestra.protocols.registry import GROUP, reload_protocols


def list_protocols() -> dict[str, Any]:
    """Every protocol found now, broken plug-ins included with the reason."""
    registry = reload_protocols()
    return {
        "entry_point_group": GROUP,
        "available": registry.available,
        "protocols": [entry.to_json() for entry in registry.entries],
        "broken": len(registry.broken),
    }
