"""An automatic left-to-right layout for processes drawn without BPMNDI.

Longest-path layering: back edges (those closing a loop, found by a depth-first search from the
start nodes) are set aside, every other node goes one column right of its furthest predecessor,
nodes in a column are ordered by the mean row of their predecessors (one barycentre sweep), and
flows are routed orthogonally; loops go back below the drawing. Boundary events sit on the
bottom edge of their activity. The result is a `Diagram`, drawn like one read from the file.
"""

from __future__ import annotations

from orchestra.domain.process import (
    Bounds,
    Diagram,
    Edge,
    Flow,
    Node,
    NodeCategory,
    Point,
    ProcessGraph,
    Shape,
)

COLUMN_WIDTH = 170.0
ROW_HEIGHT = 130.0
MARGIN = 60.0
BOUNDARY_GAP = 42.0  # between the centres of boundary events on one activity: 36 wide, apart


def node_size(node: Node) -> tuple[float, float]:
    if node.category.is_event:
        return 36.0, 36.0
    if node.category.is_gateway:
        return 50.0, 50.0
    return 100.0, 80.0


def auto_layout(graph: ProcessGraph) -> Diagram:
    """Shapes and edges for every node (boundary events included) and every flow."""
    placed = [n for n in graph.nodes if n.category is not NodeCategory.BOUNDARY_EVENT]
    host_of = {n.id: n.attached_to for n in graph.nodes if n.attached_to is not None}
    back = _back_edges(graph, placed, host_of)
    columns = _columns(graph, placed, host_of, back)
    rows = _rows(graph, placed, columns, host_of, back)
    shapes: dict[str, Shape] = {}
    for node in placed:
        width, height = node_size(node)
        cx = MARGIN + columns[node.id] * COLUMN_WIDTH + 50.0
        cy = MARGIN + rows[node.id] * ROW_HEIGHT + 40.0
        shapes[node.id] = _shape(node.id, cx, cy, width, height)
    for node in graph.nodes:
        host = shapes.get(node.attached_to or "")
        if host is not None:
            siblings = [b.id for b in graph.boundary_events.get(node.attached_to or "", ())]
            offset = _boundary_offset(siblings.index(node.id), len(siblings), host.bounds.width)
            shapes[node.id] = _shape(
                node.id, host.bounds.x + offset, host.bounds.y + host.bounds.height, 36.0, 36.0
            )
    bottom = max((s.bounds.y + s.bounds.height for s in shapes.values()), default=0.0) + 30.0
    edges = tuple(
        _route(flow, shapes, _kind(flow, back, host_of), bottom)
        for flow in graph.flows
        if flow.source in shapes and flow.target in shapes
    )
    return Diagram(shapes=tuple(shapes.values()), edges=edges)


def _boundary_offset(index: int, count: int, width: float) -> float:
    """Centre of the `index`-th of `count` boundary events along an activity's bottom edge:
    spread evenly, but never closer than BOUNDARY_GAP (they may then overhang the corners)."""
    step = max(width / (count + 1), BOUNDARY_GAP)
    return width / 2 + (index - (count - 1) / 2) * step


def _shape(element_id: str, cx: float, cy: float, width: float, height: float) -> Shape:
    bounds = Bounds(x=cx - width / 2, y=cy - height / 2, width=width, height=height)
    return Shape(element_id=element_id, bounds=bounds)


def _kind(flow: Flow, back: set[str], host_of: dict[str, str]) -> str:
    if flow.id in back:
        return "back"
    return "boundary" if flow.source in host_of else "forward"


def _source(flow: Flow, host_of: dict[str, str]) -> str:
    """A flow leaving a boundary event is laid out as if it left the event's activity."""
    return host_of.get(flow.source) or flow.source


def _back_edges(graph: ProcessGraph, placed: list[Node], host_of: dict[str, str]) -> set[str]:
    successors: dict[str, list[Flow]] = {n.id: [] for n in placed}
    for flow in graph.flows:
        source = _source(flow, host_of)
        if source in successors and flow.target in successors:
            successors[source].append(flow)
    has_incoming = {f.target for flows in successors.values() for f in flows}
    roots = [n.id for n in placed if n.category is NodeCategory.START_EVENT]
    roots += [n.id for n in placed if n.id not in has_incoming]
    roots += [n.id for n in placed]  # whatever is left on cycles unreachable from a start
    back: set[str] = set()
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node, index = stack.pop()
            if index < len(successors[node]):
                stack.append((node, index + 1))
                flow = successors[node][index]
                if state.get(flow.target) == 1:
                    back.add(flow.id)
                elif flow.target not in state:
                    state[flow.target] = 1
                    stack.append((flow.target, 0))
            else:
                state[node] = 2
    return back


def _columns(
    graph: ProcessGraph, placed: list[Node], host_of: dict[str, str], back: set[str]
) -> dict[str, int]:
    forward: dict[str, list[str]] = {n.id: [] for n in placed}
    indegree = dict.fromkeys(forward, 0)
    for flow in graph.flows:
        source = _source(flow, host_of)
        if flow.id not in back and source in forward and flow.target in forward:
            forward[source].append(flow.target)
            indegree[flow.target] += 1
    column = dict.fromkeys(forward, 0)
    ready = [n for n in forward if indegree[n] == 0]
    while ready:  # Kahn's order: every predecessor is final before its successors
        node = ready.pop(0)
        for target in forward[node]:
            column[target] = max(column[target], column[node] + 1)
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return column


def _rows(
    graph: ProcessGraph,
    placed: list[Node],
    columns: dict[str, int],
    host_of: dict[str, str],
    back: set[str],
) -> dict[str, int]:
    predecessors: dict[str, list[str]] = {n.id: [] for n in placed}
    for flow in graph.flows:
        source = _source(flow, host_of)
        if flow.id not in back and source in predecessors and flow.target in predecessors:
            predecessors[flow.target].append(source)
    row: dict[str, int] = {}
    for column in range(max(columns.values(), default=-1) + 1):
        members = [n.id for n in placed if columns[n.id] == column]

        def barycentre(node: str) -> float:
            above = [row[p] for p in predecessors[node] if p in row]
            return sum(above) / len(above) if above else 0.0

        # A stable sort keeps document order among equals: deterministic output.
        for index, node in enumerate(sorted(members, key=barycentre)):
            row[node] = index
    return row


def _route(flow: Flow, shapes: dict[str, Shape], kind: str, bottom: float) -> Edge:
    source, target = shapes[flow.source].bounds, shapes[flow.target].bounds
    sx, sy = source.x + source.width, source.y + source.height / 2
    tx, ty = target.x, target.y + target.height / 2
    if kind == "back":  # loops return below the drawing, bottom to bottom
        start = Point(x=source.x + source.width / 2, y=source.y + source.height)
        end = Point(x=target.x + target.width / 2, y=target.y + target.height)
        points: tuple[Point, ...] = (
            start,
            Point(x=start.x, y=bottom),
            Point(x=end.x, y=bottom),
            end,
        )
    elif kind == "boundary":  # leave the event downwards, then turn toward the target
        start = Point(x=source.x + source.width / 2, y=source.y + source.height)
        if ty > start.y:
            points = (start, Point(x=start.x, y=ty), Point(x=tx, y=ty))
        else:
            below, middle = start.y + 20, (start.x + tx) / 2
            points = (
                start,
                Point(x=start.x, y=below),
                Point(x=middle, y=below),
                Point(x=middle, y=ty),
                Point(x=tx, y=ty),
            )
    elif abs(sy - ty) < 1:
        points = (Point(x=sx, y=sy), Point(x=tx, y=ty))
    else:
        middle = (sx + tx) / 2
        points = (
            Point(x=sx, y=sy),
            Point(x=middle, y=sy),
            Point(x=middle, y=ty),
            Point(x=tx, y=ty),
        )
    return Edge(element_id=flow.id, waypoints=points)
