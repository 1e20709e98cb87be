"""BPMNDI -> the shapes and edges a report needs to draw each process."""

from __future__ import annotations

import math
from collections.abc import Iterable

from lxml import etree

from orchestra.bpmn.findings import Findings
from orchestra.bpmn.vocabulary import BPMNDI, DC, DI, boolean, line_of, reference
from orchestra.domain.process import Bounds, Diagram, Edge, Point, Shape

_PLANE = f"{{{BPMNDI}}}BPMNPlane"
_SHAPE = f"{{{BPMNDI}}}BPMNShape"
_EDGE = f"{{{BPMNDI}}}BPMNEdge"
_BOUNDS = f"{{{DC}}}Bounds"
_WAYPOINT = f"{{{DI}}}waypoint"


def read_diagram(definitions: etree._Element, findings: Findings) -> Diagram:
    """Every shape and edge of every diagram of the file, each tagged with its plane."""
    shapes: list[Shape] = []
    edges: list[Edge] = []
    for plane in definitions.iter(_PLANE):
        plane_of = reference(plane.get("bpmnElement"))
        for element in plane.iter(_SHAPE, _EDGE):
            if element.tag == _SHAPE:
                shape = _shape(element, plane_of, findings)
                if shape is not None:
                    shapes.append(shape)
            else:
                edge = _edge(element, plane_of, findings)
                if edge is not None:
                    edges.append(edge)
    return Diagram(shapes=tuple(shapes), edges=tuple(edges))


def diagram_of(diagram: Diagram, element_ids: Iterable[str]) -> Diagram | None:
    """The part of `diagram` drawing `element_ids`; None when none of them is drawn."""
    wanted = set(element_ids)
    shapes = tuple(shape for shape in diagram.shapes if shape.element_id in wanted)
    edges = tuple(edge for edge in diagram.edges if edge.element_id in wanted)
    if not shapes and not edges:
        return None
    return Diagram(shapes=shapes, edges=edges)


def _shape(element: etree._Element, plane: str | None, findings: Findings) -> Shape | None:
    element_id = reference(element.get("bpmnElement"))
    bounds = element.find(_BOUNDS)
    coordinates = None if bounds is None else _numbers(bounds, "x", "y", "width", "height")
    if element_id is None or coordinates is None:
        _unreadable(element, "BPMNShape", findings)
        return None
    x, y, width, height = coordinates
    return Shape(
        element_id=element_id,
        bounds=Bounds(x=x, y=y, width=width, height=height),
        is_expanded=_optional_boolean(element.get("isExpanded")),
        is_horizontal=_optional_boolean(element.get("isHorizontal")),
        plane=plane,
    )


def _edge(element: etree._Element, plane: str | None, findings: Findings) -> Edge | None:
    element_id = reference(element.get("bpmnElement"))
    points: list[Point] = []
    for waypoint in element.iterchildren(_WAYPOINT):
        coordinates = _numbers(waypoint, "x", "y")
        if coordinates is None:
            element_id = None
            break
        points.append(Point(x=coordinates[0], y=coordinates[1]))
    if element_id is None:
        _unreadable(element, "BPMNEdge", findings)
        return None
    return Edge(element_id=element_id, waypoints=tuple(points), plane=plane)


def _numbers(element: etree._Element, *names: str) -> tuple[float, ...] | None:
    values: list[float] = []
    for name in names:
        try:
            value = float(element.get(name) or "")
        except ValueError:
            return None
        if not math.isfinite(value):
            return None
        values.append(value)
    return tuple(values)


def _optional_boolean(value: str | None) -> bool | None:
    return None if value is None else boolean(value, default=False)


def _unreadable(element: etree._Element, kind: str, findings: Findings) -> None:
    findings.warning(
        "unreadable-diagram-element",
        f"a {kind} at line {line_of(element)} lacks its element reference or coordinates; "
        "it is left out of the diagram",
        element_id=element.get("id"),
        line=line_of(element),
    )
