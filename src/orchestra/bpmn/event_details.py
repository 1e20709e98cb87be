"""Event definitions in detail: timer expressions, and the root-level definitions refs name.

An `<errorEventDefinition errorRef="tns:Error_1"/>` names an `<error id="Error_1"
errorCode="..." name="..."/>` declared directly under `<definitions>`; likewise escalationRef,
messageRef and signalRef. Event definitions themselves may also be declared there and used
through `<eventDefinitionRef>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from lxml import etree

from orchestra.bpmn.findings import Findings
from orchestra.bpmn.vocabulary import (
    EVENT_DEFINITIONS,
    MODEL,
    line_of,
    local_name,
    model,
    namespace,
    reference,
)
from orchestra.domain.process import EventDetail, TimerKind

# kind -> (its ref attribute on an event definition, the code attribute of the root element)
_REFERENCES: Final[dict[str, tuple[str, str | None]]] = {
    "error": ("errorRef", "errorCode"),
    "escalation": ("escalationRef", "escalationCode"),
    "message": ("messageRef", None),
    "signal": ("signalRef", None),
    "compensate": ("activityRef", None),  # names an activity of the process, not a root element
}


@dataclass(frozen=True)
class Referenced:
    """A root-level <error>, <escalation>, <message> or <signal>."""

    name: str | None
    code: str | None


@dataclass(frozen=True)
class RootDefinitions:
    """What <definitions> declares at its top level for events to refer to."""

    event_definitions: dict[str, etree._Element] = field(default_factory=dict)  # by id
    referenced: dict[tuple[str, str], Referenced] = field(default_factory=dict)  # (kind, id)
    expression_language: str | None = None  # <definitions expressionLanguage>, for conditions


def read_root_definitions(definitions: etree._Element) -> RootDefinitions:
    root = RootDefinitions(expression_language=definitions.get("expressionLanguage") or None)
    for child in _model_children(definitions):
        local, element_id = _local(child), (child.get("id") or "").strip()
        if not element_id:
            continue
        if local in EVENT_DEFINITIONS:
            root.event_definitions[element_id] = child
        elif local in _REFERENCES:
            code_attribute = _REFERENCES[local][1]
            code = child.get(code_attribute) if code_attribute else None
            root.referenced[(local, element_id)] = Referenced(
                name=child.get("name") or None, code=(code or "").strip() or None
            )
    return root


@dataclass(frozen=True)
class Owner:
    """The event an event definition belongs to, for messages."""

    id: str
    type: str
    process_id: str


def read_detail(
    definition: etree._Element, root: RootDefinitions, findings: Findings, *, owner: Owner
) -> EventDetail | None:
    """The details of one event definition of `owner`, or None when it says only its kind.

    A ref to no root definition of its kind is kept (it still identifies an error for matching)
    and reported as a warning naming the event and the line.
    """
    kind = EVENT_DEFINITIONS[_local(definition)]
    timer, expression = _timer(definition)
    ref_attribute = _REFERENCES.get(kind, ("", None))[0]
    ref = reference(definition.get(ref_attribute)) if ref_attribute else None
    if ref is None and timer is None:
        return None
    referenced = root.referenced.get((kind, ref)) if ref is not None else None
    if ref is not None and referenced is None and kind != "compensate":
        line = line_of(definition)
        findings.warning(
            "unknown-event-ref",
            f"{owner.type} {owner.id!r} (line {line}) has a {kind} event definition whose "
            f"{ref_attribute} {ref!r} names no <{kind}> of the file; only the bare id is kept",
            element_id=owner.id,
            process_id=owner.process_id,
            line=line,
        )
    return EventDetail(
        kind=kind,
        ref=ref,
        code=referenced.code if referenced else None,
        name=referenced.name if referenced else None,
        timer=timer,
        expression=expression,
    )


def _timer(definition: etree._Element) -> tuple[TimerKind | None, str | None]:
    for timer in TimerKind:
        found = definition.find(model(timer.value))
        if found is not None:
            text = "".join(str(part) for part in found.itertext()).strip()
            return timer, text or None
    return None, None


def _model_children(element: etree._Element) -> Iterator[etree._Element]:
    for child in element:
        if isinstance(child.tag, str) and namespace(child.tag) == MODEL:
            yield child


def _local(element: etree._Element) -> str:
    return local_name(str(element.tag))
