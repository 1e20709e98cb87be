"""Bindings embedded in BPMN: `<orc:binding>` inside an element's `<extensionElements>`.

    <bpmn:serviceTask id="Task_Create" name="Create order">
      <bpmn:extensionElements>
        <orc:binding xmlns:orc="https://orchestra.dev/bpmn"><![CDATA[
          action: {method: POST, path: /orders}
          checks: [{status: 201}]
        ]]></orc:binding>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="Flow_big" sourceRef="Gw" targetRef="Task_Review">
      <bpmn:extensionElements>
        <orc:binding xmlns:orc="https://orchestra.dev/bpmn">data: {amount: 5000}</orc:binding>
      </bpmn:extensionElements>
    </bpmn:sequenceFlow>

The element's text is YAML (or JSON): on a task or an event, exactly what a binding file has
under `tasks.<id>` or `events.<id>`; on a sequence flow, what it has under `flows.<id>`. End
events go to `events`, every other node to `tasks`. A binding file wins element by element.
"""

from __future__ import annotations

import textwrap
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from orchestra.binding.document import Bindings, FlowBinding, StepBinding
from orchestra.binding.yamlsource import Problem, Source, parse, problems_of, refusal
from orchestra.domain.process import NodeCategory, ProcessGraph
from orchestra.errors import BindingRefused

NAMESPACE = "https://orchestra.dev/bpmn"
_TAG = f"{{{NAMESPACE}}}binding"


def bindings_from_extension_elements(graph: ProcessGraph) -> Bindings:
    tasks: dict[str, StepBinding] = {}
    events: dict[str, StepBinding] = {}
    flows: dict[str, FlowBinding] = {}
    for node in graph.nodes:
        text = _binding_text(node.id, node.extension_xml, node.line)
        if text is None:
            continue
        binding = _parse(StepBinding, node.id, text, node.line)
        if node.category is NodeCategory.END_EVENT:
            events[node.id] = binding
        else:
            if node.category.is_activity and binding.action is None:
                raise BindingRefused(f"<orc:binding of {node.id}>: missing `action`")
            tasks[node.id] = binding
    for flow in graph.flows:
        text = _binding_text(flow.id, flow.extension_xml, flow.line)
        if text is not None:
            flows[flow.id] = _parse(FlowBinding, flow.id, text, flow.line)
    return Bindings(tasks=tasks, events=events, flows=flows)


def _binding_text(element_id: str, xml: str | None, line: int | None) -> str | None:
    if not xml or NAMESPACE not in xml:
        return None
    # lxml is imported for a model that embeds a binding only: most embed none
    from lxml import etree

    from orchestra.bpmn.safe_xml import hardened_parser

    try:
        root = etree.fromstring(xml.encode("utf-8"), hardened_parser())
    except etree.XMLSyntaxError as exc:
        where = f"line {line}" if line else "the BPMN file"
        raise BindingRefused(
            f"{element_id} ({where}): unreadable extensionElements: {exc}"
        ) from exc
    found = [root] if root.tag == _TAG else list(root.iter(_TAG))
    if len(found) > 1:
        raise BindingRefused(f"{element_id}: more than one <orc:binding> in its extensionElements")
    return (found[0].text or "") if found else None


M = TypeVar("M", bound=BaseModel)


def _parse(kind: type[M], element_id: str, text: str, line: int | None) -> M:
    source = Source(
        f"<orc:binding of {element_id}>", textwrap.dedent(text.strip("\n")), (line or 1) - 1
    )
    value, tree = parse(source)
    if not isinstance(value, dict):
        raise refusal(source, [Problem("", line, "expected a mapping")])
    try:
        return kind.model_validate(value)
    except ValidationError as exc:
        raise refusal(source, problems_of(exc, tree, source)) from exc
