"""The normalized process graph: what Orchestra keeps of a BPMN model.

Pure data, no I/O. The BPMN importer (`orchestra.bpmn`) builds it from XML; generation,
binding and reports read it. It serializes to JSON (stored as `process.graph` JSONB) through
pydantic, so `ProcessGraph.model_validate(row["graph"])` gives the same object back.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class NodeCategory(StrEnum):
    """What a flow node does in a token game; `Node.type` keeps the exact BPMN tag."""

    START_EVENT = "startEvent"
    END_EVENT = "endEvent"
    INTERMEDIATE_CATCH_EVENT = "intermediateCatchEvent"
    INTERMEDIATE_THROW_EVENT = "intermediateThrowEvent"
    BOUNDARY_EVENT = "boundaryEvent"
    TASK = "task"  # every task type: userTask, serviceTask, sendTask, ...
    SUB_PROCESS = "subProcess"  # embedded, event subprocess, transaction, ad-hoc
    CALL_ACTIVITY = "callActivity"
    EXCLUSIVE_GATEWAY = "exclusiveGateway"
    PARALLEL_GATEWAY = "parallelGateway"
    INCLUSIVE_GATEWAY = "inclusiveGateway"
    EVENT_BASED_GATEWAY = "eventBasedGateway"
    COMPLEX_GATEWAY = "complexGateway"

    @property
    def is_gateway(self) -> bool:
        return self.value.endswith("Gateway")

    @property
    def is_event(self) -> bool:
        return self.value.endswith("Event")

    @property
    def is_activity(self) -> bool:
        return self in (NodeCategory.TASK, NodeCategory.SUB_PROCESS, NodeCategory.CALL_ACTIVITY)


class LoopKind(StrEnum):
    STANDARD = "standard"
    PARALLEL_MULTI_INSTANCE = "parallelMultiInstance"
    SEQUENTIAL_MULTI_INSTANCE = "sequentialMultiInstance"


class Condition(Frozen):
    """A condition expression on a sequence flow, kept verbatim."""

    text: str
    language: str | None = None


class TimerKind(StrEnum):
    """Which of a timer event definition's three expressions it holds."""

    DURATION = "timeDuration"
    DATE = "timeDate"
    CYCLE = "timeCycle"


class EventDetail(Frozen):
    """What one event definition says beyond its kind: the definition it refers to, its timer.

    `ref` is the id in errorRef/escalationRef/messageRef/signalRef (namespace prefix dropped);
    `code` and `name` come from the root-level <error>/<escalation>/<message>/<signal> it names.
    """

    kind: str  # as in Node.event_definitions: "error", "timer", ...
    ref: str | None = None
    code: str | None = None  # errorCode / escalationCode of the referenced definition
    name: str | None = None  # name of the referenced definition
    timer: TimerKind | None = None
    expression: str | None = None  # the timer's expression, verbatim: "PT5M", "R3/PT1H", ...

    def describe(self) -> str:
        """In words, as `processes show` and the report give it: `timer timeDuration PT5M`,
        `error Error_Pay code PAY-402 'PaymentFailed'`."""
        if self.timer is not None:
            return f"timer {self.timer.value} {self.expression or '(no expression)'}"
        text = self.kind if self.ref is None else f"{self.kind} {self.ref}"
        if self.code is not None:
            text += f" code {self.code}"
        if self.name is not None:
            text += f" {self.name!r}"
        return text


class Node(Frozen):
    """One flow node of a process (or of a subprocess nested in it)."""

    id: str
    category: NodeCategory
    type: str  # the BPMN element's local name: "userTask", "startEvent", "transaction", ...
    name: str | None = None
    parent: str | None = None  # id of the enclosing subProcess, None at process level
    lane: str | None = None
    # events: "message", "timer", "error", "signal", "escalation", "conditional", "link",
    # "terminate", "compensate", "cancel" — in document order
    event_definitions: tuple[str, ...] = ()
    # the event definitions that say more than their kind (a ref, a timer), in document order;
    # empty for all others, so graphs stored before it existed load and keep their checksum
    event_details: tuple[EventDetail, ...] = ()
    link_name: str | None = None  # link events: a throw continues at the catch of this name
    attached_to: str | None = None  # boundary events: the activity they sit on
    cancel_activity: bool = True  # boundary events: interrupting or not
    is_interrupting: bool = True  # start events of event subprocesses
    triggered_by_event: bool = False  # event subprocesses
    default_flow: str | None = None  # gateways and activities
    loop: LoopKind | None = None
    called_element: str | None = None  # call activities
    is_for_compensation: bool = False  # activities only started by a compensation event
    # compensation boundary events: the activity their association names, which compensates
    # the one they sit on (stored only when there is one, like `event_details`)
    compensation_handler: str | None = None
    extension_xml: str | None = None  # raw <extensionElements>, bindings may live there
    line: int | None = None  # source line in the XML, for messages

    @property
    def is_started_by_event(self) -> bool:
        """Reached without an incoming sequence flow by BPMN's own semantics: a boundary event,
        an event subprocess, a compensation handler, a link catch event."""
        return (
            self.category is NodeCategory.BOUNDARY_EVENT
            or self.triggered_by_event
            or self.is_for_compensation
            or (
                self.category is NodeCategory.INTERMEDIATE_CATCH_EVENT
                and "link" in self.event_definitions
            )
        )

    def event_detail(self, kind: str) -> EventDetail | None:
        """The details of this node's first event definition of `kind`, if it has any."""
        return next((detail for detail in self.event_details if detail.kind == kind), None)


class Flow(Frozen):
    """A sequence flow. Its id is kept: coverage and reports are keyed by it."""

    id: str
    source: str
    target: str
    name: str | None = None
    condition: Condition | None = None
    extension_xml: str | None = None  # raw <extensionElements>: a branch's data may live there
    line: int | None = None


class MessageFlow(Frozen):
    id: str
    source: str  # a node id or a participant id
    target: str
    name: str | None = None


class Participant(Frozen):
    """A pool of a collaboration."""

    id: str
    name: str | None = None
    process_ref: str | None = None


class Lane(Frozen):
    id: str
    name: str | None = None
    node_ids: tuple[str, ...] = ()
    parent: str | None = None  # the enclosing lane of a nested lane (childLaneSet)


class Bounds(Frozen):
    x: float
    y: float
    width: float
    height: float


class Point(Frozen):
    x: float
    y: float


class Shape(Frozen):
    element_id: str
    bounds: Bounds
    is_expanded: bool | None = None
    is_horizontal: bool | None = None
    plane: str | None = None  # the element its BPMNPlane draws: a diagram page of its own


class Edge(Frozen):
    element_id: str
    waypoints: tuple[Point, ...]
    plane: str | None = None


class Diagram(Frozen):
    """BPMNDI of the elements of one process (and its pool and message flows)."""

    shapes: tuple[Shape, ...] = ()
    edges: tuple[Edge, ...] = ()


class ProcessGraph(Frozen):
    """One BPMN process with everything generation and reports need.

    `participant` is the pool drawing this process, `message_flows` those that touch it, and
    `other_participants` the pools at their other end, so a stored process stands on its own.
    """

    id: str
    name: str | None = None
    is_executable: bool | None = None
    nodes: tuple[Node, ...] = ()
    flows: tuple[Flow, ...] = ()
    lanes: tuple[Lane, ...] = ()
    participant: Participant | None = None
    other_participants: tuple[Participant, ...] = ()
    message_flows: tuple[MessageFlow, ...] = ()
    diagram: Diagram | None = None
    exporter: str | None = None  # the modelling tool that wrote the file

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy whose lookups (`node_by_id`, `outgoing`, ...) are worked out anew from its
        own nodes and flows: pydantic would copy the cached ones of this graph along."""
        copy = super().model_copy(update=update, deep=deep)
        for name in _LOOKUPS:
            copy.__dict__.pop(name, None)
        return copy

    @cached_property
    def node_by_id(self) -> dict[str, Node]:
        return {node.id: node for node in self.nodes}

    @cached_property
    def flow_by_id(self) -> dict[str, Flow]:
        return {flow.id: flow for flow in self.flows}

    @cached_property
    def outgoing(self) -> dict[str, tuple[Flow, ...]]:
        out: dict[str, list[Flow]] = {node.id: [] for node in self.nodes}
        for flow in self.flows:
            out.setdefault(flow.source, []).append(flow)
        return {key: tuple(value) for key, value in out.items()}

    @cached_property
    def incoming(self) -> dict[str, tuple[Flow, ...]]:
        into: dict[str, list[Flow]] = {node.id: [] for node in self.nodes}
        for flow in self.flows:
            into.setdefault(flow.target, []).append(flow)
        return {key: tuple(value) for key, value in into.items()}

    @cached_property
    def boundary_events(self) -> dict[str, tuple[Node, ...]]:
        """Activity id -> the boundary events attached to it."""
        attached: dict[str, list[Node]] = {}
        for node in self.nodes:
            if node.attached_to is not None:
                attached.setdefault(node.attached_to, []).append(node)
        return {key: tuple(value) for key, value in attached.items()}

    @cached_property
    def messaged(self) -> frozenset[str]:
        """The ids of the nodes a message flow starts or ends at."""
        return frozenset(end for m in self.message_flows for end in (m.source, m.target))

    def acts(self, node: Node) -> bool:
        """Whether generation makes an ACTION step of `node`, the step a `tasks:` binding
        acts in: a task or a call activity (one whose process is inlined is a subProcess,
        its own elements the steps), an event that waits or sends (message, signal, timer,
        conditional, escalation), or any node a message flow touches; never an end event
        (its step is the run's final ASSERTION)."""
        if node.category is NodeCategory.END_EVENT:
            return False
        if node.category in (NodeCategory.TASK, NodeCategory.CALL_ACTIVITY):
            return True
        if node.category.is_event and not _ACTIVE_EVENTS.isdisjoint(node.event_definitions):
            return True
        return node.id in self.messaged

    def children(self, parent: str | None) -> tuple[Node, ...]:
        """The nodes directly inside `parent` (a subProcess id), or at process level for None."""
        return tuple(node for node in self.nodes if node.parent == parent)

    def starts(self, scope: str | None) -> tuple[tuple[Node, ...], bool]:
        """Where tokens start in `scope` (a subprocess id, None for the process), and whether
        the start is implicit. Its start events, each an alternative; without any (BPMN 2.0,
        10.5.2 and 10.6.5), every flow node of the scope no sequence flow enters, all at once.
        Nodes started by an event (`Node.is_started_by_event`, compensation handlers) are
        neither."""
        handlers = {n.compensation_handler for n in self.nodes if n.compensation_handler}
        children = [
            n for n in self.children(scope) if not n.is_started_by_event and n.id not in handlers
        ]
        explicit = tuple(n for n in children if n.category is NodeCategory.START_EVENT)
        if explicit:
            return explicit, False
        return tuple(n for n in children if not self.incoming.get(n.id)), True

    def counts_by_category(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.category.value] = counts.get(node.category.value, 0) + 1
        counts["sequenceFlow"] = len(self.flows)
        counts["messageFlow"] = len(self.message_flows)
        return counts


_ACTIVE_EVENTS = frozenset({"message", "signal", "timer", "conditional", "escalation"})
_LOOKUPS = tuple(
    name for name, value in vars(ProcessGraph).items() if isinstance(value, cached_property)
)


class ProblemSeverity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Problem(Frozen):
    """A validation finding, precise enough to fix the model by."""

    severity: ProblemSeverity
    code: str  # stable machine name, e.g. "dangling-flow", "no-start-event"
    message: str
    element_id: str | None = None
    process_id: str | None = None
    line: int | None = None
    column: int | None = None


class ImportedModel(Frozen):
    """A whole BPMN file: its processes and the problems found in it."""

    processes: tuple[ProcessGraph, ...] = Field(default_factory=tuple)
    problems: tuple[Problem, ...] = Field(default_factory=tuple)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is ProblemSeverity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is ProblemSeverity.WARNING)
