"""Small hand-built process graphs for generation tests.

`model("s>A", "A>x1", ...)` builds a ProcessGraph from flows written `source>target`; a node's
kind comes from its first letter: s start event, e end event, x exclusive, p parallel,
o inclusive, g event-based gateway, anything else a task. Flow ids are `source-target`.
"""

from __future__ import annotations

from orchestra.domain.process import Condition, Flow, Node, NodeCategory, ProcessGraph

_KINDS = {
    "s": (NodeCategory.START_EVENT, "startEvent"),
    "e": (NodeCategory.END_EVENT, "endEvent"),
    "x": (NodeCategory.EXCLUSIVE_GATEWAY, "exclusiveGateway"),
    "p": (NodeCategory.PARALLEL_GATEWAY, "parallelGateway"),
    "o": (NodeCategory.INCLUSIVE_GATEWAY, "inclusiveGateway"),
    "g": (NodeCategory.EVENT_BASED_GATEWAY, "eventBasedGateway"),
}


def node(node_id: str, **fields: object) -> Node:
    category, tag = _KINDS.get(node_id[0], (NodeCategory.TASK, "task"))
    values: dict[str, object] = {"id": node_id, "category": category, "type": tag}
    values.update(fields)
    return Node.model_validate(values)


def model(
    *arrows: str, extra: tuple[Node, ...] = (), conditions: dict[str, str] | None = None
) -> ProcessGraph:
    conditions = conditions or {}
    order: list[str] = []
    flows: list[Flow] = []
    for arrow in arrows:
        source, target = arrow.split(">")
        order += [n for n in (source, target) if n not in order]
        flow_id = f"{source}-{target}"
        condition = Condition(text=conditions[flow_id]) if flow_id in conditions else None
        flows.append(Flow(id=flow_id, source=source, target=target, condition=condition))
    given = {n.id for n in extra}
    nodes = [node(n) for n in order if n not in given] + list(extra)
    return ProcessGraph(id="p", nodes=tuple(nodes), flows=tuple(flows))
