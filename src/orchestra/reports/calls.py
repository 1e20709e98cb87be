"""Called processes on the report: which calls were inlined, and each one as a graph to draw.

Generation inlines a call activity `C` whose called process is imported: the called process's
elements get ids `C/<id>` (nested, `C/INNER/<id>`) on the scenarios' paths and steps. The
report draws each such called process below the process, with the one renderer: `call_view`
gives the called graph with every id prefixed by its call (`C/<id>`), so the markings read the
outcomes and coverage the scenarios give those ids, and the ids on the page stay unique.
`CallLinks` wraps a marking to give each inlined call activity's box a link to its drawing.
Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from markupsafe import escape

from orchestra.domain.generation.calls import DEFAULT_CALL_DEPTH, SEPARATOR, inline_calls
from orchestra.domain.process import (
    Bounds,
    Diagram,
    Flow,
    Lane,
    MessageFlow,
    Node,
    NodeCategory,
    Participant,
    ProcessGraph,
)
from orchestra.reports.diagram import Marking
from orchestra.reports.model import CalledProcess

EdgeT = TypeVar("EdgeT", Flow, MessageFlow)


@dataclass(frozen=True)
class Imported:
    """A called process as stored: what `called_processes` needs of it."""

    key: str
    version: int
    name: str | None
    graph: ProcessGraph


def called_processes(
    graph: ProcessGraph, called: Mapping[str, Imported], depth: int = DEFAULT_CALL_DEPTH
) -> tuple[CalledProcess, ...]:
    """Every call activity of `graph` that generation inlines with `called` (at any depth, by
    the same rule: `inline_calls`), in the inlined graph's order: a call right before those
    nested in its process."""
    working, _ = inline_calls(graph, {key: item.graph for key, item in called.items()}, depth)
    found: list[CalledProcess] = []
    for node in working.nodes:
        # an inlined call becomes a subprocess that keeps its calledElement
        key = node.called_element
        if node.category is not NodeCategory.SUB_PROCESS or key is None or key not in called:
            continue
        item = called[key]
        found.append(
            CalledProcess(
                call=node.id,
                call_name=node.name,
                key=item.key,
                version=item.version,
                name=item.name,
                graph=item.graph,
            )
        )
    return tuple(found)


def call_anchor(call: str) -> str:
    """The id of the page section drawing the process `call` inlined."""
    return f"call-{call}"


def call_view(called: CalledProcess) -> ProcessGraph:
    """The called process's graph with every id prefixed by its call (`CALL/<id>`): the ids its
    elements have in the scenarios, the outcomes and the coverage."""
    return _prefixed_graph(called.graph, called.call + SEPARATOR)


def _prefixed_graph(graph: ProcessGraph, prefix: str) -> ProcessGraph:
    def moved(element: str | None) -> str | None:
        return None if element is None else prefix + element

    def node(item: Node) -> Node:
        return item.model_copy(
            update={
                "id": prefix + item.id,
                "parent": moved(item.parent),
                "lane": moved(item.lane),
                "attached_to": moved(item.attached_to),
                "default_flow": moved(item.default_flow),
            }
        )

    def edge(item: EdgeT) -> EdgeT:
        """A sequence or message flow, with its ends."""
        return item.model_copy(
            update={
                "id": prefix + item.id,
                "source": prefix + item.source,
                "target": prefix + item.target,
            }
        )

    def lane(item: Lane) -> Lane:
        return item.model_copy(
            update={
                "id": prefix + item.id,
                "node_ids": tuple(prefix + n for n in item.node_ids),
                "parent": moved(item.parent),
            }
        )

    def pool(item: Participant) -> Participant:
        return item.model_copy(update={"id": prefix + item.id})

    return graph.model_copy(
        update={
            "nodes": tuple(node(n) for n in graph.nodes),
            "flows": tuple(edge(f) for f in graph.flows),
            "lanes": tuple(lane(item) for item in graph.lanes),
            "participant": None if graph.participant is None else pool(graph.participant),
            "other_participants": tuple(pool(p) for p in graph.other_participants),
            "message_flows": tuple(edge(m) for m in graph.message_flows),
            "diagram": None if graph.diagram is None else _prefixed_diagram(graph.diagram, prefix),
        }
    )


def _prefixed_diagram(diagram: Diagram, prefix: str) -> Diagram:
    return Diagram(
        shapes=tuple(
            s.model_copy(update={"element_id": prefix + s.element_id}) for s in diagram.shapes
        ),
        edges=tuple(
            e.model_copy(update={"element_id": prefix + e.element_id}) for e in diagram.edges
        ),
    )


@dataclass(frozen=True)
class CallLinks:
    """A marking whose inlined call activities also link to the drawing of what they called
    (below the process): a `↓` mark on the box, and `data-call` naming the section."""

    marking: Marking
    calls: frozenset[str]

    @property
    def states(self) -> tuple[str, ...]:
        return self.marking.states

    def state(self, element_id: str) -> str:
        return self.marking.state(element_id)

    def data(self, element_id: str) -> str:
        data = self.marking.data(element_id)
        if element_id in self.calls:
            data += f' data-call="{escape(call_anchor(element_id))}"'
        return data

    def extra_classes(self, element_id: str) -> str:
        extra = self.marking.extra_classes(element_id)
        return extra + " inlined-call" if element_id in self.calls else extra

    def counts(self, element_id: str) -> str:
        said = self.marking.counts(element_id)
        return said + "; its process is drawn below" if element_id in self.calls else said

    def badge(self, element_id: str, bounds: Bounds) -> str:
        badge = self.marking.badge(element_id, bounds)
        if element_id not in self.calls:
            return badge
        x, y = bounds.x + bounds.width - 6, bounds.y + bounds.height - 6
        return (
            f'{badge}<a class="call-link" href="#{escape(call_anchor(element_id))}">'
            f'<text class="call-link" x="{x:g}" y="{y:g}">↓ called process</text></a>'
        )
