"""Hand-built process graphs for the binding tests."""

from __future__ import annotations

from orchestra.domain.process import Flow, Node, NodeCategory, ProcessGraph

EXTENSION = """<bpmn:extensionElements xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">
  <orc:binding xmlns:orc="https://orchestra.dev/bpmn"><![CDATA[
    action: {method: POST, path: /orders}
    checks:
      - status: 201
  ]]></orc:binding>
</bpmn:extensionElements>"""


def _node(node_id: str, category: NodeCategory, name: str | None = None, **extra: object) -> Node:
    return Node.model_validate(
        {"id": node_id, "category": category, "type": category.value, "name": name, **extra}
    )


def order_process(*, extension: str | None = None) -> ProcessGraph:
    """Start -> Create order -> approved? -> (Approve | Reject) -> Notify -> End_Ok/End_Rejected."""
    task = NodeCategory.TASK
    return ProcessGraph(
        id="Order",
        nodes=(
            _node("Start", NodeCategory.START_EVENT),
            _node("Task_Create", task, "Create order", extension_xml=extension, line=12),
            _node("Gw", NodeCategory.EXCLUSIVE_GATEWAY, "approved?"),
            _node("Task_Approve", task, "Approve"),
            _node("Task_Reject", task, "Reject"),
            _node("Task_NotifyOk", task, "Notify"),
            _node("Task_NotifyKo", task, "Notify"),
            _node("End_Ok", NodeCategory.END_EVENT, "Order done"),
            _node("End_Rejected", NodeCategory.END_EVENT),
        ),
        flows=(
            Flow(id="F1", source="Start", target="Task_Create"),
            Flow(id="F2", source="Task_Create", target="Gw"),
            Flow(id="Flow_yes", source="Gw", target="Task_Approve", name="yes"),
            Flow(id="Flow_no", source="Gw", target="Task_Reject", name="no"),
            Flow(id="F5", source="Task_Approve", target="Task_NotifyOk"),
            Flow(id="F6", source="Task_Reject", target="Task_NotifyKo"),
            Flow(id="F7", source="Task_NotifyOk", target="End_Ok"),
            Flow(id="F8", source="Task_NotifyKo", target="End_Rejected"),
        ),
    )
