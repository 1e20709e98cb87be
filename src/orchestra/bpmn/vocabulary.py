"""The BPMN 2.0 vocabulary Orchestra reads: namespaces, element names and how they map."""

from __future__ import annotations

from typing import Final

from lxml import etree

from orchestra.domain.process import NodeCategory

MODEL: Final = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI: Final = "http://www.omg.org/spec/BPMN/20100524/DI"
DC: Final = "http://www.omg.org/spec/DD/20100524/DC"
DI: Final = "http://www.omg.org/spec/DD/20100524/DI"


def model(local: str) -> str:
    """The Clark name `{ns}local` of a BPMN model element."""
    return f"{{{MODEL}}}{local}"


_TASKS = (
    "task",
    "userTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "manualTask",
    "businessRuleTask",
    "scriptTask",
)
_SUB_PROCESSES = ("subProcess", "transaction", "adHocSubProcess")

FLOW_NODE_CATEGORIES: Final[dict[str, NodeCategory]] = {
    **dict.fromkeys(_TASKS, NodeCategory.TASK),
    **dict.fromkeys(_SUB_PROCESSES, NodeCategory.SUB_PROCESS),
    "callActivity": NodeCategory.CALL_ACTIVITY,
    "startEvent": NodeCategory.START_EVENT,
    "endEvent": NodeCategory.END_EVENT,
    "intermediateCatchEvent": NodeCategory.INTERMEDIATE_CATCH_EVENT,
    "intermediateThrowEvent": NodeCategory.INTERMEDIATE_THROW_EVENT,
    "boundaryEvent": NodeCategory.BOUNDARY_EVENT,
    "exclusiveGateway": NodeCategory.EXCLUSIVE_GATEWAY,
    "parallelGateway": NodeCategory.PARALLEL_GATEWAY,
    "inclusiveGateway": NodeCategory.INCLUSIVE_GATEWAY,
    "eventBasedGateway": NodeCategory.EVENT_BASED_GATEWAY,
    "complexGateway": NodeCategory.COMPLEX_GATEWAY,
}
"""BPMN flow node element name -> what it does in a token game."""

EVENT_DEFINITIONS: Final[dict[str, str]] = {
    "messageEventDefinition": "message",
    "timerEventDefinition": "timer",
    "errorEventDefinition": "error",
    "signalEventDefinition": "signal",
    "escalationEventDefinition": "escalation",
    "conditionalEventDefinition": "conditional",
    "linkEventDefinition": "link",
    "terminateEventDefinition": "terminate",
    "compensateEventDefinition": "compensate",
    "cancelEventDefinition": "cancel",
}
"""Event definition element name -> the short name kept in `Node.event_definitions`."""


def line_of(element: etree._Element) -> int | None:
    """The element's source line (lxml-stubs type it loosely)."""
    line: object = element.sourceline
    return line if isinstance(line, int) else None


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def reference(value: str | None) -> str | None:
    """An element id from a reference attribute or text.

    References are QNames (`tns:Task_1`); ids are NCNames and never hold a colon, so whatever
    precedes the last colon is a namespace prefix.
    """
    if value is None:
        return None
    value = value.strip()
    return value.rsplit(":", 1)[-1] or None


def boolean(value: str | None, default: bool) -> bool:
    """An xsd:boolean attribute; anything unreadable keeps the BPMN default."""
    if value is None:
        return default
    value = value.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    return default
