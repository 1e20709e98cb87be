"""The BPMN diagram as inline SVG, each node and flow coloured by its outcome or coverage.

Drawn from the model's BPMNDI (or `layout.auto_layout` when it has none): pools and lanes as
labelled bands, tasks as rounded rectangles, events as circles (end events thick, intermediate
and boundary ones double, non-interrupting ones dashed) with the marker of their definition
(`events.event_marker`), gateways as diamonds with their marker, flows as polylines with
arrowheads. Every element is a `<g data-element=ID data-outcome=passed|failed|not-covered
id=el-ID>` with a `<title>` giving its counts and, for an event, its timer or refs. Every text
from the model is escaped. What marks an element is a `Marking`: `OutcomeMarking` for a suite
run's report (`render_svg`), `coverage.CoverageMarking` for a suite's coverage page
(`draw_svg`); `calls.CallLinks` wraps either to link inlined call activities to their drawing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from markupsafe import Markup, escape

from orchestra.domain.process import Bounds, Diagram, Node, NodeCategory, Point, ProcessGraph
from orchestra.reports.events import details_text, event_marker
from orchestra.reports.layout import auto_layout
from orchestra.reports.outcomes import ElementOutcome, Outcome

PADDING = 20.0
LABEL_OVERHANG = 40.0


def diagram_of(graph: ProcessGraph) -> tuple[Diagram, bool]:
    """The diagram to draw and whether it came from the model (False: laid out here)."""
    node_ids = {node.id for node in graph.nodes}
    drawn = graph.diagram
    if drawn is not None and any(shape.element_id in node_ids for shape in drawn.shapes):
        return drawn, True
    return auto_layout(graph), False


class Marking(Protocol):
    """How the elements are marked: by their runs' outcomes (a suite run's report) or by the
    scenarios through them (a suite's coverage, `coverage.CoverageMarking`)."""

    @property
    def states(self) -> tuple[str, ...]:
        """Every state an element can be in: one arrowhead marker each."""
        ...

    def state(self, element_id: str) -> str: ...

    def data(self, element_id: str) -> str:
        """The group's data attributes saying its state (and counts)."""
        ...

    def extra_classes(self, element_id: str) -> str:
        """Classes the group gets after its state, each after a space ("" for none)."""
        ...

    def counts(self, element_id: str) -> str:
        """What the title says after the element's name: `2 passed, 0 failed`."""
        ...

    def badge(self, element_id: str, bounds: Bounds) -> str: ...


@dataclass(frozen=True)
class OutcomeMarking:
    """A suite run's elements: passed, failed or not covered, with their runs counted."""

    outcomes: Mapping[str, ElementOutcome]
    states: tuple[str, ...] = tuple(o.value for o in Outcome)

    def state(self, element_id: str) -> str:
        outcome = self.outcomes.get(element_id)
        return outcome.outcome.value if outcome else Outcome.NOT_COVERED.value

    def data(self, element_id: str) -> str:
        return f'data-outcome="{self.state(element_id)}"'

    def extra_classes(self, element_id: str) -> str:
        return ""

    def counts(self, element_id: str) -> str:
        outcome = self.outcomes.get(element_id)
        return f"{outcome.passed} passed, {outcome.failed} failed" if outcome else "not covered"

    def badge(self, element_id: str, bounds: Bounds) -> str:
        """Small run counts at the top right corner: passed ✓ and failed ✗."""
        outcome = self.outcomes.get(element_id)
        if outcome is None or (outcome.passed == 0 and outcome.failed == 0):
            return ""
        parts = []
        if outcome.passed:
            parts.append(f'<tspan class="count-passed">{outcome.passed}✓</tspan>')
        if outcome.failed:
            parts.append(f'<tspan class="count-failed"> {outcome.failed}✗</tspan>')
        return badge_text("".join(parts), bounds)


def badge_text(spans: str, b: Bounds) -> str:
    """A badge of `spans` at the top right corner of `b`."""
    return f'<text class="badge" x="{b.x + b.width:g}" y="{b.y - 3:g}">{spans}</text>'


def render_svg(graph: ProcessGraph, outcomes: dict[str, ElementOutcome]) -> Markup:
    """The diagram coloured by the runs' outcomes."""
    return draw_svg(graph, OutcomeMarking(outcomes))


def draw_svg(graph: ProcessGraph, marking: Marking, *, scope: str = "") -> Markup:
    """The diagram, each node and flow a group marked by `marking`. `scope` keeps the ids of
    its arrowheads apart from those of the page's other drawings (`arrow-<scope>-passed`)."""
    diagram, _ = diagram_of(graph)
    shapes = {shape.element_id: shape for shape in diagram.shapes}
    arrow = f"arrow-{scope}-" if scope else "arrow-"
    parts: list[str] = [_defs(marking.states, arrow)]
    containers = [graph.participant, *graph.other_participants]
    for pool in containers:
        if pool is not None and pool.id in shapes:
            parts.append(_band(shapes[pool.id].bounds, pool.name, "pool"))
    for lane in graph.lanes:
        if lane.id in shapes:
            parts.append(_band(shapes[lane.id].bounds, lane.name, "lane"))
    for edge in diagram.edges:
        flow = graph.flow_by_id.get(edge.element_id)
        if flow is not None and len(edge.waypoints) >= 2:
            parts.append(_flow(edge.element_id, flow.name, edge.waypoints, marking, arrow))
    for node in _drawing_order(graph):
        if node.id in shapes:
            parts.append(_node(node, shapes[node.id].bounds, marking))
    messages = {flow.id for flow in graph.message_flows}
    for edge in diagram.edges:
        if edge.element_id in messages and len(edge.waypoints) >= 2:
            parts.append(_message_flow(edge.element_id, edge.waypoints, arrow))
    left, top, width, height = _viewbox(diagram)
    box = f"{left:g} {top:g} {width:g} {height:g}"
    return Markup(  # drawn at its natural size: a wide process scrolls rather than shrinks
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bpmn" role="img" viewBox="{box}"'
        f' width="{width:g}" height="{height:g}"'
        f' aria-label="{escape(graph.name or graph.id)}">' + "".join(parts) + "</svg>"
    )


def _drawing_order(graph: ProcessGraph) -> list[Node]:
    """Containers first (subprocesses), boundary events last so they sit on their activity."""

    def rank(node: Node) -> int:
        if node.category is NodeCategory.SUB_PROCESS:
            return 0
        return 2 if node.category is NodeCategory.BOUNDARY_EVENT else 1

    return sorted(graph.nodes, key=rank)


def _viewbox(diagram: Diagram) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []
    for shape in diagram.shapes:
        b = shape.bounds
        xs += [b.x, b.x + b.width]
        ys += [b.y, b.y + b.height + 16]  # room for labels under events and gateways
    for edge in diagram.edges:
        xs += [p.x for p in edge.waypoints]
        ys += [p.y for p in edge.waypoints]
    if not xs:
        return 0.0, 0.0, 100.0, 100.0
    # labels under events and gateways may be wider than their shape
    left, top = min(xs) - LABEL_OVERHANG, min(ys) - PADDING
    return left, top, max(xs) + LABEL_OVERHANG - left, max(ys) + PADDING - top


def _defs(states: Iterable[str], arrow: str) -> str:
    markers = "".join(
        f'<marker id="{arrow}{state}" class="arrow {state}" viewBox="0 0 10 10" refX="10"'
        ' refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z"/></marker>'
        for state in states
    )
    message = (
        f'<marker id="{arrow}message" class="arrow message" viewBox="0 0 10 10" refX="10"'
        ' refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z"/></marker>'
    )
    return f"<defs>{markers}{message}</defs>"


def element_anchor(element_id: str) -> str:
    """The id of an element's group: a link to `#el-<id>` shows the element."""
    return f"el-{element_id}"


def _attributes(element_id: str, kind: str, marking: Marking) -> str:
    state = marking.state(element_id) + marking.extra_classes(element_id)
    return (
        f'class="el {kind} {state}" data-element="{escape(element_id)}" {marking.data(element_id)}'
        f' tabindex="0" id="{escape(element_anchor(element_id))}"'
    )


def _title(element_id: str, name: str | None, marking: Marking, details: str = "") -> str:
    """`Name (id) — 2 passed, 0 failed`, then an event's details, one per line."""
    counts = marking.counts(element_id)
    label = f"{name} ({element_id})" if name else element_id
    more = f"\n{details}" if details else ""
    return f"<title>{escape(label)} — {escape(counts)}{escape(more)}</title>"


def _band(bounds: Bounds, name: str | None, kind: str) -> str:
    x, y, w, h = bounds.x, bounds.y, bounds.width, bounds.height
    label_x, label_y = x + 15, y + h / 2
    text = (
        f'<text class="band-label" x="{label_x:g}" y="{label_y:g}"'
        f' transform="rotate(-90 {label_x:g} {label_y:g})">{escape(name or "")}</text>'
    )
    line = f'<line x1="{x + 30:g}" y1="{y:g}" x2="{x + 30:g}" y2="{y + h:g}"/>'
    rect = f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}"/>'
    return f'<g class="{kind}">{rect}{line}{text}</g>'


def _flow(
    element_id: str,
    name: str | None,
    points: Iterable[Point],
    marking: Marking,
    arrow: str,
) -> str:
    waypoints = list(points)
    state = marking.state(element_id)
    coordinates = " ".join(f"{p.x:g},{p.y:g}" for p in waypoints)
    label = ""
    if name:
        x, y = _label_position(waypoints)
        label = f'<text class="flow-label" x="{x:g}" y="{y:g}">{escape(name)}</text>'
    return (
        f"<g {_attributes(element_id, 'flow', marking)}>{_title(element_id, name, marking)}"
        f'<polyline points="{coordinates}" marker-end="url(#{arrow}{state})"/>{label}</g>'
    )


def _message_flow(element_id: str, points: Iterable[Point], arrow: str) -> str:
    """Message flows are drawn (dashed) but not coloured: scenarios do not cover them."""
    coordinates = " ".join(f"{p.x:g},{p.y:g}" for p in points)
    return (
        f'<g class="message-flow" data-message-flow="{escape(element_id)}">'
        f'<polyline points="{coordinates}" marker-end="url(#{arrow}message)"/></g>'
    )


def _label_position(points: list[Point]) -> tuple[float, float]:
    """Beside the first segment: above it near its left end, or right of its middle."""
    a, b = points[0], points[1]
    if abs(a.y - b.y) < abs(a.x - b.x):  # horizontal
        return min(a.x, b.x) + 5, a.y - 5
    return a.x + 6, (a.y + b.y) / 2


def _node(node: Node, bounds: Bounds, marking: Marking) -> str:
    if node.category.is_event:
        body = _event(node, bounds)
    elif node.category.is_gateway:
        body = _gateway(node, bounds)
    else:
        body = _activity(node, bounds)
    kind = "event" if node.category.is_event else "gateway" if node.category.is_gateway else "task"
    badge = marking.badge(node.id, bounds)
    title = _title(node.id, node.name, marking, details_text(node, separator="\n"))
    return f"<g {_attributes(node.id, kind, marking)}>{title}{body}{badge}</g>"


def _activity(node: Node, b: Bounds) -> str:
    rect = (
        f'<rect class="shape" x="{b.x:g}" y="{b.y:g}" width="{b.width:g}" height="{b.height:g}"'
        ' rx="10" ry="10"/>'
    )
    if node.category is NodeCategory.SUB_PROCESS and b.height > 120:
        text = (
            f'<text class="label" x="{b.x + 8:g}" y="{b.y + 16:g}">{escape(node.name or "")}</text>'
        )
        return rect + text
    if node.category is NodeCategory.CALL_ACTIVITY:
        rect = rect.replace('class="shape"', 'class="shape call"')
    return rect + _wrapped(node.name or node.id, b.x + b.width / 2, b.y + b.height / 2, b.width)


def _event(node: Node, b: Bounds) -> str:
    cx, cy, r = b.x + b.width / 2, b.y + b.height / 2, b.width / 2
    style = {
        NodeCategory.START_EVENT: "start",
        NodeCategory.END_EVENT: "end",
    }.get(node.category, "intermediate")
    if not (node.cancel_activity and node.is_interrupting):
        style += " non-interrupting"  # a boundary or an event subprocess's start event
    circle = f'<circle class="shape {style}" cx="{cx:g}" cy="{cy:g}" r="{r:g}"/>'
    if style.startswith("intermediate"):
        circle += f'<circle class="inner {style}" cx="{cx:g}" cy="{cy:g}" r="{r - 3:g}"/>'
    label = _label_below(node.name, cx, b.y + b.height)
    return circle + event_marker(node, cx, cy, r) + label


def _gateway(node: Node, b: Bounds) -> str:
    cx, cy, hw, hh = b.x + b.width / 2, b.y + b.height / 2, b.width / 2, b.height / 2
    diamond = (
        f'<path class="shape" d="M{cx:g},{cy - hh:g} L{cx + hw:g},{cy:g} L{cx:g},{cy + hh:g}'
        f' L{cx - hw:g},{cy:g} z"/>'
    )
    m = hw * 0.4
    markers = {
        NodeCategory.EXCLUSIVE_GATEWAY: (
            f'<path class="marker" d="M{cx - m:g},{cy - m:g} L{cx + m:g},{cy + m:g}'
            f' M{cx + m:g},{cy - m:g} L{cx - m:g},{cy + m:g}"/>'
        ),
        NodeCategory.PARALLEL_GATEWAY: (
            f'<path class="marker" d="M{cx:g},{cy - m * 1.2:g} L{cx:g},{cy + m * 1.2:g}'
            f' M{cx - m * 1.2:g},{cy:g} L{cx + m * 1.2:g},{cy:g}"/>'
        ),
        NodeCategory.INCLUSIVE_GATEWAY: (
            f'<circle class="marker" cx="{cx:g}" cy="{cy:g}" r="{m * 1.1:g}"/>'
        ),
        NodeCategory.EVENT_BASED_GATEWAY: (
            f'<circle class="marker thin" cx="{cx:g}" cy="{cy:g}" r="{m * 1.2:g}"/>'
            f'<circle class="marker thin" cx="{cx:g}" cy="{cy:g}" r="{m:g}"/>'
        ),
        NodeCategory.COMPLEX_GATEWAY: (
            f'<path class="marker" d="M{cx:g},{cy - m:g} L{cx:g},{cy + m:g} M{cx - m:g},{cy:g}'
            f" L{cx + m:g},{cy:g} M{cx - m * 0.7:g},{cy - m * 0.7:g}"
            f" L{cx + m * 0.7:g},{cy + m * 0.7:g}"
            f' M{cx + m * 0.7:g},{cy - m * 0.7:g} L{cx - m * 0.7:g},{cy + m * 0.7:g}"/>'
        ),
    }
    return diamond + markers.get(node.category, "") + _label_below(node.name, cx, b.y + b.height)


def _label_below(name: str | None, cx: float, bottom: float) -> str:
    if not name:
        return ""
    return f'<text class="label small" x="{cx:g}" y="{bottom + 14:g}">{escape(name)}</text>'


def _wrapped(text: str, cx: float, cy: float, width: float) -> str:
    """`text` centred on (cx, cy), broken into lines that fit `width` (at most 4 lines)."""
    per_line = max(6, int(width / 7))
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= per_line:
            lines[-1] += " " + word
        else:
            lines.append(word)
    lines = lines[:4] or [""]
    first = cy - (len(lines) - 1) * 7
    spans = "".join(
        f'<tspan x="{cx:g}" y="{first + 14 * i + 4:g}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text class="label">{spans}</text>'
