"""Collaborations: pools (participants) and the message flows between them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from orchestra.bpmn.findings import Findings
from orchestra.bpmn.process_reader import model_children, rebuilt
from orchestra.bpmn.vocabulary import line_of, reference
from orchestra.domain.process import MessageFlow, Participant, ProcessGraph


@dataclass(frozen=True)
class Collaboration:
    """Every participant and message flow of the file, whatever collaboration holds them."""

    participants: tuple[Participant, ...] = ()
    message_flows: tuple[MessageFlow, ...] = ()
    by_process: dict[str, Participant] = field(default_factory=dict)


def read_collaborations(definitions: etree._Element, findings: Findings) -> Collaboration:
    participants: list[Participant] = []
    message_flows: list[MessageFlow] = []
    for local, collaboration in model_children(definitions):
        if local != "collaboration":
            continue
        for kind, child in model_children(collaboration):
            if kind == "participant":
                participants.append(
                    Participant(
                        id=child.get("id") or "",
                        name=child.get("name") or None,
                        process_ref=reference(child.get("processRef")),
                    )
                )
            elif kind == "messageFlow":
                flow = _message_flow(child, findings)
                if flow is not None:
                    message_flows.append(flow)
    by_process: dict[str, Participant] = {}
    for participant in participants:
        if participant.process_ref is not None:
            by_process.setdefault(participant.process_ref, participant)
    return Collaboration(tuple(participants), tuple(message_flows), by_process)


def _message_flow(element: etree._Element, findings: Findings) -> MessageFlow | None:
    flow_id = element.get("id")
    source = reference(element.get("sourceRef"))
    target = reference(element.get("targetRef"))
    if not flow_id or source is None or target is None:
        findings.warning(
            "unreadable-message-flow",
            f"a message flow at line {line_of(element)} lacks its id, sourceRef or targetRef; "
            "it is left out",
            element_id=flow_id,
            line=line_of(element),
        )
        return None
    return MessageFlow(id=flow_id, source=source, target=target, name=element.get("name") or None)


def with_pools(
    graph: ProcessGraph, collaboration: Collaboration, participant_of_node: Mapping[str, str]
) -> ProcessGraph:
    """`graph` with its pool, the message flows touching it and the pools at their other ends.

    `participant_of_node` maps every flow node of the file to the pool drawing its process.
    """
    participant = collaboration.by_process.get(graph.id)
    own = set(graph.node_by_id)
    if participant is not None:
        own.add(participant.id)
    touching = tuple(
        flow for flow in collaboration.message_flows if flow.source in own or flow.target in own
    )
    ends = {end for flow in touching for end in (flow.source, flow.target)} - own
    other_ids = {participant_of_node.get(end, end) for end in ends}
    others = tuple(
        p for p in collaboration.participants if p is not participant and p.id in other_ids
    )
    return rebuilt(
        graph, participant=participant, message_flows=touching, other_participants=others
    )


def check_message_flows(
    collaboration: Collaboration, graphs: list[ProcessGraph], findings: Findings
) -> None:
    """Warn about message flows whose ends are neither a flow node nor a pool of the file."""
    known = {participant.id for participant in collaboration.participants}
    known.update(node_id for graph in graphs for node_id in graph.node_by_id)
    for flow in collaboration.message_flows:
        missing = [end for end in (flow.source, flow.target) if end not in known]
        if missing:
            findings.warning(
                "dangling-message-flow",
                f"message flow {flow.id!r} points at {', '.join(map(repr, missing))}, which is "
                "neither a flow node nor a pool of this file; no process shows it",
                element_id=flow.id,
            )
