"""The diagrams the pages show, drawn by the reports' own code (`reports.diagram`): a process
as imported (every element plain), and a suite's coverage (`reports.coverage`)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from orchestra.domain.process import Bounds, ProcessGraph
from orchestra.reports.coverage import CoverageMarking, coverage_counts, element_coverage
from orchestra.reports.diagram import diagram_of, draw_svg
from orchestra.reports.model import SuiteReport


@dataclass(frozen=True)
class PlainMarking:
    """Every element drawn alike: a process before any suite or run."""

    states: tuple[str, ...] = ("plain",)

    def state(self, element_id: str) -> str:
        return "plain"

    def data(self, element_id: str) -> str:
        return ""

    def extra_classes(self, element_id: str) -> str:
        return ""

    def counts(self, element_id: str) -> str:
        return "as imported"

    def badge(self, element_id: str, bounds: Bounds) -> str:
        return ""


@dataclass(frozen=True)
class Drawing:
    svg: Markup
    from_model: bool
    """False: the model has no diagram, so it was laid out automatically."""


def process_drawing(graph: ProcessGraph) -> Drawing:
    return Drawing(draw_svg(graph, PlainMarking()), diagram_of(graph)[1])


def coverage_drawing(report: SuiteReport) -> tuple[Drawing, dict[str, dict[str, int]]]:
    """The suite's process coloured by the scenarios through each element, and the counts of
    covered, not covered and unbound nodes and flows."""
    elements = element_coverage(report)
    graph = report.process.graph
    drawing = Drawing(draw_svg(graph, CoverageMarking(elements)), diagram_of(graph)[1])
    return drawing, coverage_counts(elements)
