"""One BPMN <process> element -> its flow nodes, sequence flows and lanes.

Subprocess contents are flattened into the same graph: each nested node keeps the id of its
enclosing subProcess in `Node.parent`. Boundary events are ordinary nodes with `attached_to`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from lxml import etree

from orchestra.bpmn.event_details import Owner, RootDefinitions, read_detail
from orchestra.bpmn.findings import Findings
from orchestra.bpmn.vocabulary import (
    EVENT_DEFINITIONS,
    FLOW_NODE_CATEGORIES,
    MODEL,
    boolean,
    line_of,
    local_name,
    model,
    namespace,
    reference,
)
from orchestra.domain.process import (
    Condition,
    EventDetail,
    Flow,
    Lane,
    LoopKind,
    Node,
    NodeCategory,
    ProcessGraph,
)


def model_children(element: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    """The BPMN-model child elements of `element`, with their local names."""
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and namespace(tag) == MODEL:
            yield local_name(tag), child


def text_of(element: etree._Element) -> str:
    return "".join(str(text) for text in element.itertext()).strip()


def extension_xml(element: etree._Element) -> str | None:
    """The raw <extensionElements> of `element`, serialized verbatim (bindings may live there)."""
    found = element.find(model("extensionElements"))
    if found is None:
        return None
    detached = copy.deepcopy(found)
    etree.cleanup_namespaces(detached)  # keep only the namespaces it uses
    return etree.tostring(detached, encoding="unicode", with_tail=False)


def rebuilt(graph: ProcessGraph, **changes: Any) -> ProcessGraph:
    """A new graph with `changes`; unlike `model_copy` it carries no stale cached properties."""
    fields = {name: getattr(graph, name) for name in ProcessGraph.model_fields}
    return ProcessGraph(**(fields | changes))


class ProcessReader:
    """Reads one process. `seen_ids` is shared by every process of the file."""

    def __init__(
        self,
        process: etree._Element,
        *,
        root: RootDefinitions,
        findings: Findings,
        seen_ids: dict[str, int | None],
    ) -> None:
        self._process = process
        self._process_id = process.get("id") or ""
        self._root = root
        self._findings = findings
        self._seen_ids = seen_ids
        self._nodes: list[Node] = []
        self._flows: list[Flow] = []
        self._lanes: list[Lane] = []
        self._lane_of: dict[str, str] = {}
        self._associations: list[tuple[str, str]] = []  # (sourceRef, targetRef)

    def read(self) -> ProcessGraph:
        self._read_container(self._process, parent=None, parent_lane=None)
        nodes = _with_handlers(_with_host_lanes(self._nodes), self._associations)
        return ProcessGraph(
            id=self._process_id,
            name=self._process.get("name") or None,
            is_executable=_optional_boolean(self._process.get("isExecutable")),
            nodes=nodes,
            flows=tuple(self._flows),
            lanes=tuple(self._lanes),
        )

    def _read_container(
        self, container: etree._Element, *, parent: str | None, parent_lane: str | None
    ) -> None:
        children = list(model_children(container))
        for local, child in children:
            if local == "laneSet":
                self._read_lane_set(child, parent_lane=None)
        for local, child in children:
            if local in FLOW_NODE_CATEGORIES:
                self._read_node(child, local, parent=parent, parent_lane=parent_lane)
            elif local == "sequenceFlow":
                self._read_flow(child)
            elif local == "association":
                source, target = (
                    reference(child.get("sourceRef")),
                    reference(child.get("targetRef")),
                )
                if source is not None and target is not None:
                    self._associations.append((source, target))

    def _read_lane_set(self, lane_set: etree._Element, *, parent_lane: str | None) -> None:
        for local, lane in model_children(lane_set):
            if local != "lane":
                continue
            lane_id = lane.get("id") or ""
            refs = [reference(text_of(ref)) for ref in lane.iterchildren(model("flowNodeRef"))]
            node_ids = tuple(ref for ref in refs if ref)
            self._lanes.append(
                Lane(
                    id=lane_id, name=lane.get("name") or None, node_ids=node_ids, parent=parent_lane
                )
            )
            for node_id in node_ids:
                self._lane_of[node_id] = lane_id  # nested lanes come later and win
            for child_set in lane.iterchildren(model("childLaneSet")):
                self._read_lane_set(child_set, parent_lane=lane_id)

    def _identify(self, element: etree._Element, local: str) -> str | None:
        """The element's id, or None (with an error) when it has none or repeats another."""
        element_id = (element.get("id") or "").strip()
        line = line_of(element)
        if not element_id:
            self._findings.error(
                "missing-id",
                f"a <{local}> at line {line} has no id",
                process_id=self._process_id,
                line=line,
            )
            return None
        if element_id in self._seen_ids:
            self._findings.error(
                "duplicate-id",
                f"<{local} id={element_id!r}> at line {line} repeats the id of line "
                f"{self._seen_ids[element_id]}",
                element_id=element_id,
                process_id=self._process_id,
                line=line,
            )
            return None
        self._seen_ids[element_id] = line
        return element_id

    def _read_node(
        self,
        element: etree._Element,
        local: str,
        *,
        parent: str | None,
        parent_lane: str | None,
    ) -> None:
        node_id = self._identify(element, local)
        if node_id is None:
            return
        category = FLOW_NODE_CATEGORIES[local]
        lane = self._lane_of.get(node_id, parent_lane)
        kinds, details = self._read_event_definitions(
            element, Owner(node_id, local, self._process_id)
        )
        self._nodes.append(
            Node(
                id=node_id,
                category=category,
                type=local,
                name=element.get("name") or None,
                parent=parent,
                lane=lane,
                event_definitions=kinds,
                event_details=details,
                link_name=_link_name(element),
                attached_to=reference(element.get("attachedToRef")),
                cancel_activity=boolean(element.get("cancelActivity"), default=True),
                is_interrupting=boolean(element.get("isInterrupting"), default=True),
                triggered_by_event=boolean(element.get("triggeredByEvent"), default=False),
                default_flow=reference(element.get("default")),
                loop=_loop_kind(element),
                called_element=reference(element.get("calledElement")),
                is_for_compensation=boolean(element.get("isForCompensation"), default=False),
                extension_xml=extension_xml(element),
                line=line_of(element),
            )
        )
        if category is NodeCategory.SUB_PROCESS:
            self._read_container(element, parent=node_id, parent_lane=lane)

    def _read_event_definitions(
        self, element: etree._Element, owner: Owner
    ) -> tuple[tuple[str, ...], tuple[EventDetail, ...]]:
        """The kinds of the event's definitions, and the details of those that have some."""
        kinds: list[str] = []
        details: list[EventDetail] = []
        for local, child in model_children(element):
            definition: etree._Element | None = child if local in EVENT_DEFINITIONS else None
            if local == "eventDefinitionRef":
                definition = self._root.event_definitions.get(reference(text_of(child)) or "")
            if definition is None:
                continue
            kinds.append(EVENT_DEFINITIONS[local_name(str(definition.tag))])
            detail = read_detail(definition, self._root, self._findings, owner=owner)
            if detail is not None:
                details.append(detail)
        return tuple(kinds), tuple(details)

    def _read_flow(self, element: etree._Element) -> None:
        flow_id = self._identify(element, "sequenceFlow")
        if flow_id is None:
            return
        source = reference(element.get("sourceRef"))
        target = reference(element.get("targetRef"))
        if source is None or target is None:
            self._report_unconnected(flow_id, line_of(element), source, target)
            return
        self._flows.append(
            Flow(
                id=flow_id,
                source=source,
                target=target,
                name=element.get("name") or None,
                condition=_condition(element, self._root.expression_language),
                extension_xml=extension_xml(element),
                line=line_of(element),
            )
        )

    def _report_unconnected(
        self, flow_id: str, line: int | None, source: str | None, target: str | None
    ) -> None:
        if source is None and target is None:
            self._findings.warning(
                "stray-flow",
                f"sequence flow {flow_id!r} (line {line}) has neither sourceRef nor targetRef; "
                "it connects nothing and is left out",
                element_id=flow_id,
                process_id=self._process_id,
                line=line,
            )
            return
        missing = "sourceRef" if source is None else "targetRef"
        self._findings.error(
            "dangling-flow",
            f"sequence flow {flow_id!r} (line {line}) has no {missing}",
            element_id=flow_id,
            process_id=self._process_id,
            line=line,
        )


def _link_name(event: etree._Element) -> str | None:
    link = event.find(model("linkEventDefinition"))
    return None if link is None else (link.get("name") or None)


def _with_host_lanes(nodes: list[Node]) -> tuple[Node, ...]:
    """Boundary events are seldom listed in a lane: they sit in the lane of their activity."""
    lane_of = {node.id: node.lane for node in nodes}
    return tuple(
        node.model_copy(update={"lane": lane_of.get(node.attached_to or "")})
        if node.lane is None and node.attached_to is not None
        else node
        for node in nodes
    )


def _with_handlers(
    nodes: tuple[Node, ...], associations: list[tuple[str, str]]
) -> tuple[Node, ...]:
    """A compensation boundary event is tied to its handler by an association, not a flow
    (BPMN 2.0, 10.7.3); either end may be written first."""
    by_id = {node.id: node for node in nodes}
    handler: dict[str, str] = {}
    for source, target in associations:
        for event, other in ((source, target), (target, source)):
            node = by_id.get(event)
            if node is not None and _compensation_boundary(node) and other in by_id:
                handler.setdefault(event, other)
    return tuple(
        node.model_copy(update={"compensation_handler": handler[node.id]})
        if node.id in handler
        else node
        for node in nodes
    )


def _compensation_boundary(node: Node) -> bool:
    return node.attached_to is not None and "compensate" in node.event_definitions


def _condition(flow: etree._Element, default_language: str | None) -> Condition | None:
    """The flow's condition; its language is the expression's own `language`, else the
    definitions' `expressionLanguage` (BPMN's default, XPath, is read from the text)."""
    expression = flow.find(model("conditionExpression"))
    if expression is None:
        return None
    text = text_of(expression)
    if not text:
        return None  # an empty <conditionExpression/> says nothing a tester can use
    return Condition(text=text, language=expression.get("language") or default_language)


def _loop_kind(element: etree._Element) -> LoopKind | None:
    if element.find(model("standardLoopCharacteristics")) is not None:
        return LoopKind.STANDARD
    multi = element.find(model("multiInstanceLoopCharacteristics"))
    if multi is None:
        return None
    if boolean(multi.get("isSequential"), default=False):
        return LoopKind.SEQUENTIAL_MULTI_INSTANCE
    return LoopKind.PARALLEL_MULTI_INSTANCE


def _optional_boolean(value: str | None) -> bool | None:
    if value is None:
        return None
    return boolean(value, default=False)
