"""Events in the report: the BPMN marker of their definition, and their details in words.

A marker is drawn inside the event's circle, as BPMN 2.0 draws it (clock, envelope, lightning,
arrow, triangle, ...): filled when the event throws (end and intermediate throw events),
outlined when it catches (start, intermediate catch and boundary events). An event with more
than one definition gets the pentagon of "multiple". The words are `EventDetail.describe()`,
the same `orchestra processes show` prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from markupsafe import escape

from orchestra.domain.process import Node, NodeCategory, ProcessGraph

THROWING: Final = frozenset({NodeCategory.END_EVENT, NodeCategory.INTERMEDIATE_THROW_EVENT})
# never thrown: outlined whatever the event says
_CATCH_ONLY: Final = frozenset({"timer", "conditional"})

_Glyph = Callable[[float, float, float], str]


def details_text(node: Node, separator: str = "; ") -> str:
    """The node's event details in words (empty when it has none), one per definition."""
    return separator.join(detail.describe() for detail in node.event_details)


def event_texts(graph: ProcessGraph) -> dict[str, str]:
    """Event id -> its details in words, for the events that have any."""
    return {node.id: details_text(node) for node in graph.nodes if node.event_details}


def event_marker(node: Node, cx: float, cy: float, r: float) -> str:
    """The marker of `node`'s event definition centred on (cx, cy) inside radius `r`; "" for a
    none event or a definition without a marker."""
    kinds = node.event_definitions
    if not kinds:
        return ""
    kind = "multiple" if len(kinds) > 1 else kinds[0]
    glyph = _GLYPHS.get(kind)
    if glyph is None:
        return ""
    throws = node.category in THROWING and kind not in _CATCH_ONLY
    direction = "throw" if throws else "catch"
    return (
        f'<g class="event-marker {direction}" data-marker="{escape(kind)}">'
        f"{glyph(cx, cy, r * 0.5)}</g>"
    )


def _timer(cx: float, cy: float, s: float) -> str:
    ticks = " ".join(
        f"M{cx + dx * s * 0.85:g},{cy + dy * s * 0.85:g} L{cx + dx * s:g},{cy + dy * s:g}"
        for dx, dy in ((0, -1), (1, 0), (0, 1), (-1, 0))
    )
    return (
        f'<circle class="glyph" cx="{cx:g}" cy="{cy:g}" r="{s:g}"/>'
        f'<path class="glyph thin" d="{ticks} M{cx:g},{cy - s * 0.7:g} L{cx:g},{cy:g}'
        f' L{cx + s * 0.55:g},{cy:g}"/>'
    )


def _error(cx: float, cy: float, s: float) -> str:
    return (
        f'<path class="glyph" d="M{cx - s:g},{cy + s:g} L{cx - s * 0.4:g},{cy - s:g}'
        f" L{cx + s * 0.2:g},{cy + s * 0.2:g} L{cx + s:g},{cy - s:g}"
        f' L{cx + s * 0.4:g},{cy + s:g} L{cx - s * 0.2:g},{cy - s * 0.2:g} z"/>'
    )


def _escalation(cx: float, cy: float, s: float) -> str:
    return (
        f'<path class="glyph" d="M{cx:g},{cy - s:g} L{cx + s * 0.7:g},{cy + s:g}'
        f' L{cx:g},{cy + s * 0.2:g} L{cx - s * 0.7:g},{cy + s:g} z"/>'
    )


def _message(cx: float, cy: float, s: float) -> str:
    # the flap is a separate path: white on a filled (throwing) envelope
    return (
        f'<rect class="glyph" x="{cx - s:g}" y="{cy - s * 0.7:g}" width="{2 * s:g}"'
        f' height="{1.4 * s:g}"/><path class="glyph flap" d="M{cx - s:g},{cy - s * 0.7:g}'
        f' L{cx:g},{cy:g} L{cx + s:g},{cy - s * 0.7:g}"/>'
    )


def _signal(cx: float, cy: float, s: float) -> str:
    return (
        f'<path class="glyph" d="M{cx:g},{cy - s:g} L{cx + s:g},{cy + s * 0.8:g}'
        f' L{cx - s:g},{cy + s * 0.8:g} z"/>'
    )


def _terminate(cx: float, cy: float, s: float) -> str:
    return f'<circle class="glyph" cx="{cx:g}" cy="{cy:g}" r="{s * 1.2:g}"/>'


def _compensate(cx: float, cy: float, s: float) -> str:
    return (
        f'<path class="glyph" d="M{cx - s:g},{cy:g} L{cx:g},{cy - s * 0.6:g} L{cx:g},'
        f"{cy + s * 0.6:g} z M{cx:g},{cy:g} L{cx + s:g},{cy - s * 0.6:g}"
        f' L{cx + s:g},{cy + s * 0.6:g} z"/>'
    )


def _link(cx: float, cy: float, s: float) -> str:
    return (
        f'<path class="glyph" d="M{cx - s:g},{cy - s * 0.3:g} L{cx + s * 0.1:g},{cy - s * 0.3:g}'
        f" L{cx + s * 0.1:g},{cy - s * 0.7:g} L{cx + s:g},{cy:g} L{cx + s * 0.1:g},"
        f'{cy + s * 0.7:g} L{cx + s * 0.1:g},{cy + s * 0.3:g} L{cx - s:g},{cy + s * 0.3:g} z"/>'
    )


def _conditional(cx: float, cy: float, s: float) -> str:
    lines = " ".join(
        f"M{cx - s * 0.4:g},{cy + s * k:g} L{cx + s * 0.4:g},{cy + s * k:g}"
        for k in (-0.5, -0.15, 0.2, 0.55)
    )
    return (
        f'<rect class="glyph" x="{cx - s * 0.65:g}" y="{cy - s * 0.85:g}" width="{s * 1.3:g}"'
        f' height="{s * 1.7:g}"/><path class="glyph thin" d="{lines}"/>'
    )


def _cancel(cx: float, cy: float, s: float) -> str:
    d = s * 0.7
    return (
        f'<path class="glyph bold" d="M{cx - d:g},{cy - d:g} L{cx + d:g},{cy + d:g}'
        f' M{cx + d:g},{cy - d:g} L{cx - d:g},{cy + d:g}"/>'
    )


def _multiple(cx: float, cy: float, s: float) -> str:
    points = ((0.0, -1.0), (0.95, -0.31), (0.59, 0.81), (-0.59, 0.81), (-0.95, -0.31))
    corners = " L".join(f"{cx + dx * s:g},{cy + dy * s:g}" for dx, dy in points)
    return f'<path class="glyph" d="M{corners} z"/>'


_GLYPHS: Final[dict[str, _Glyph]] = {
    "timer": _timer,
    "error": _error,
    "escalation": _escalation,
    "message": _message,
    "signal": _signal,
    "terminate": _terminate,
    "compensate": _compensate,
    "link": _link,
    "conditional": _conditional,
    "cancel": _cancel,
    "multiple": _multiple,
}
