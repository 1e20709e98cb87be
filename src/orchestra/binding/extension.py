"""Bindings embedded in BPMN: `<orc:binding>` inside a node's `<extensionElements>`.

    <bpmn:serviceTask id="Task_Create" name="Create order">
      <bpmn:extensionElements>
        <orc:binding xmlns:orc="https://orchestra.dev/bpmn"><![CDATA[
          action: {method: POST, path: /orders}
          checks: [{status: 201}]
        ]]></orc:binding>
      </bpmn:extensionElements>
    </bpmn:serviceTask>

The element's text is one task (or event) binding in YAML or JSON, exactly what the file form
has under `tasks.<id>`. Gateway flow data cannot be embedded (the graph keeps no extension XML
for flows): put it in a binding file. A binding file given with it wins element by element.
"""

from __future__ import annotations

import textwrap

from lxml import etree
from pydantic import ValidationError

from orchestra.binding.model import Bindings, StepBinding
from orchestra.binding.yamlsource import Problem, Source, parse, problems_of, refusal
from orchestra.domain.process import Node, ProcessGraph
from orchestra.errors import BindingRefused

NAMESPACE = "https://orchestra.dev/bpmn"
_TAG = f"{{{NAMESPACE}}}binding"
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


def bindings_from_extension_elements(graph: ProcessGraph) -> Bindings:
    tasks: dict[str, StepBinding] = {}
    events: dict[str, StepBinding] = {}
    for node in graph.nodes:
        text = _binding_text(node)
        if text is None:
            continue
        binding = _parse_binding(node, text)
        if node.category.is_event:
            events[node.id] = binding
        else:
            tasks[node.id] = binding
    return Bindings(tasks=tasks, events=events)


def _binding_text(node: Node) -> str | None:
    if not node.extension_xml or NAMESPACE not in node.extension_xml:
        return None
    try:
        root = etree.fromstring(node.extension_xml.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as exc:
        where = f"line {node.line}" if node.line else "the BPMN file"
        raise BindingRefused(f"{node.id} ({where}): unreadable extensionElements: {exc}") from exc
    found = [root] if root.tag == _TAG else list(root.iter(_TAG))
    if len(found) > 1:
        raise BindingRefused(f"{node.id}: more than one <orc:binding> in its extensionElements")
    return (found[0].text or "") if found else None


def _parse_binding(node: Node, text: str) -> StepBinding:
    source = Source(f"<orc:binding of {node.id}>", _dedent(text), line_offset=(node.line or 1) - 1)
    value, tree = parse(source)
    if not isinstance(value, dict):
        raise refusal(source, [Problem("", node.line, "expected a mapping")])
    try:
        binding = StepBinding.model_validate(value)
    except ValidationError as exc:
        raise refusal(source, problems_of(exc, tree, source)) from exc
    if node.category.is_activity and binding.action is None:
        raise refusal(source, [Problem("", node.line, "missing `action`")])
    return binding


def _dedent(text: str) -> str:
    return textwrap.dedent(text.strip("\n"))
