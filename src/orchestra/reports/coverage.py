"""What a suite covers, element by element, before anything runs: its coverage page.

An element is *covered* when at least one scenario's path goes through it (counted once per
scenario, however often a loop takes it), *not covered* otherwise — the same rule as the suite's
`Coverage`, so the page and `suites show` agree. A task is *unbound* when the suite lists it
without a binding; a call activity is unbound too when a task of the process it inlines is
(at any depth: `A/B/task` makes the calls `A` and `A/B` unbound).
`CoverageMarking` tells the diagram how to draw each state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from orchestra.domain.generation.calls import SEPARATOR
from orchestra.domain.process import Bounds, ProcessGraph
from orchestra.reports.diagram import badge_text
from orchestra.reports.model import Documented, SuiteReport, unbound_steps


class Covered(StrEnum):
    COVERED = "covered"
    NOT_COVERED = "not-covered"


class ElementCoverage(Documented):
    element_id: str
    kind: str
    """"node" or "flow"."""
    scenarios: int = 0
    """Scenarios whose path goes through the element."""
    unbound: bool = False
    """A task (or a call activity inlining one) without a binding yet."""

    @property
    def state(self) -> Covered:
        return Covered.COVERED if self.scenarios else Covered.NOT_COVERED


def element_coverage(
    report: SuiteReport, graph: ProcessGraph | None = None
) -> dict[str, ElementCoverage]:
    """Every node and sequence flow of the suite's process (or of `graph`: a called process as
    `calls.call_view` gives it) with its scenarios, keyed by id."""
    graph = report.process.graph if graph is None else graph
    through: dict[str, int] = {}
    for scenario in report.scenarios:
        for element in set(scenario.path):
            through[element] = through.get(element, 0) + 1
    unbound = {
        SEPARATOR.join(parts[:end])
        for parts in (element.split(SEPARATOR) for element in report.unbound)
        for end in range(1, len(parts) + 1)
    }
    kinds = [(node.id, "node") for node in graph.nodes] + [
        (flow.id, "flow") for flow in graph.flows
    ]
    return {
        element: ElementCoverage(
            element_id=element,
            kind=kind,
            scenarios=through.get(element, 0),
            unbound=element in unbound,
        )
        for element, kind in kinds
    }


def coverage_counts(elements: Mapping[str, ElementCoverage]) -> dict[str, dict[str, int]]:
    """{"node": {"covered": n, "not-covered": n, "unbound": n}, "flow": {...}}."""
    counts = {
        kind: {state.value: 0 for state in Covered} | {"unbound": 0} for kind in ("node", "flow")
    }
    for item in elements.values():
        counts[item.kind][item.state.value] += 1
        counts[item.kind]["unbound"] += item.unbound
    return counts


def coverage_summary(report: SuiteReport) -> dict[str, Any]:
    """What `orchestra report --suite --json` says besides the path: the suite's figures."""
    coverage = report.suite.coverage
    return {
        "suite": report.suite.id,
        "process": {"key": report.process.key, "version": report.process.version},
        "criterion": report.suite.criterion,
        "scenarios": len(report.scenarios),
        "coverage": coverage.model_dump(mode="json"),
        "elements": coverage_counts(element_coverage(report)),
        "unbound": list(report.unbound),
        "scenarios_with_unbound": sum(1 for s in report.scenarios if unbound_steps(s)),
        "races": [{"scenario": s.name, **s.race} for s in report.scenarios if s.race is not None],
    }


@dataclass(frozen=True)
class CoverageMarking:
    """A suite's elements on the diagram: covered (with their scenarios counted) or not, and
    unbound tasks flagged."""

    elements: Mapping[str, ElementCoverage]
    states: tuple[str, ...] = tuple(state.value for state in Covered)

    def state(self, element_id: str) -> str:
        item = self.elements.get(element_id)
        return (item.state if item else Covered.NOT_COVERED).value

    def data(self, element_id: str) -> str:
        item = self.elements.get(element_id)
        scenarios = item.scenarios if item else 0
        unbound = ' data-unbound="true"' if item and item.unbound else ""
        return f'data-coverage="{self.state(element_id)}" data-scenarios="{scenarios}"{unbound}'

    def extra_classes(self, element_id: str) -> str:
        item = self.elements.get(element_id)
        return " unbound" if item and item.unbound else ""

    def counts(self, element_id: str) -> str:
        item = self.elements.get(element_id)
        if item is None or not item.scenarios:
            said = "not covered by any scenario"
        else:
            said = f"{item.scenarios} scenario{'' if item.scenarios == 1 else 's'}"
        return said + ("; no binding yet" if item and item.unbound else "")

    def badge(self, element_id: str, bounds: Bounds) -> str:
        """The scenarios through the element at its top right corner, and `unbound`."""
        item = self.elements.get(element_id)
        if item is None:
            return ""
        spans = []
        if item.scenarios:
            spans.append(f'<tspan class="count-scenarios">{item.scenarios}×</tspan>')
        if item.unbound:
            spans.append('<tspan class="unbound-mark"> unbound</tspan>')
        return badge_text("".join(spans), bounds) if spans else ""
