"""`orchestra bindings init`: a binding file's skeleton for a process, filled from an OpenAPI
description when there is one. Pure: the caller reads the process and the description.

Every element a run reaches gets an entry: under `tasks`, each element generation makes an
ACTION step of (tasks, call activities, events that wait for or send something); under
`events`, the end events; under `flows`, the flows leaving a gateway that chooses. What is not
known is marked TODO, and the file loads as it is: a task's request left TODO has the path
`{{ TODO }}`, so a run reaching it ends in ERROR "TODO is undefined" at that step, and checks,
branch data and end checks left TODO are empty (they hold).

With a description, each task is matched to an operation (`orchestra.binding.matching`), its
method and path are written, a path parameter (or a required query parameter, or a body
property ending in `Id`) is read from `vars`, saved by the nearest earlier task that every path
to this one goes through and whose documented response has that property (or `id`, for
`<resource>Id` when that task's path is the resource's), the body is the operation's example or
a small valid instance of its schema, and the checks are the documented success status and the
response body against its schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestra.binding.instances import example_instance
from orchestra.binding.matching import Match, match, stem
from orchestra.binding.openapi import Description, Operation, Parameter
from orchestra.domain.process import Node, NodeCategory, ProcessGraph

SCHEMA_LINE = "# yaml-language-server: $schema=bindings.schema.json"
TODO_PATH = "{{ TODO }}"
# as generation decides (orchestra.domain.generation.render): these events become ACTION steps
_ACTIVE_EVENTS = frozenset({"message", "signal", "timer", "conditional", "escalation"})
_CHOOSING = (
    NodeCategory.EXCLUSIVE_GATEWAY,
    NodeCategory.INCLUSIVE_GATEWAY,
    NodeCategory.EVENT_BASED_GATEWAY,
    NodeCategory.COMPLEX_GATEWAY,
)
_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class TaskScaffold:
    """What the scaffold says of one task: the operation matched, or why none."""

    element_id: str
    name: str | None
    operation: str | None
    score: float | None
    runner_up: str | None
    why_unmatched: str | None
    todo: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "element": self.element_id,
            "name": self.name,
            "operation": self.operation,
            "score": self.score,
            "runner_up": self.runner_up,
            "unmatched": self.why_unmatched,
            "todo": list(self.todo),
        }


@dataclass(frozen=True)
class Scaffold:
    text: str
    tasks: tuple[TaskScaffold, ...]
    events: tuple[str, ...]
    flows: tuple[str, ...]


@dataclass
class _Task:
    node: Node
    match: Match | None = None
    method: str = "POST"
    path: str = TODO_PATH
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False
    checks: list[dict[str, Any]] = field(default_factory=list)
    saves: dict[str, str] = field(default_factory=dict)
    save_notes: dict[str, list[str]] = field(default_factory=dict)
    todo: list[str] = field(default_factory=list)

    @property
    def operation(self) -> Operation | None:
        best = self.match.best if self.match is not None else None
        return best.operation if best is not None else None


def scaffold(
    graph: ProcessGraph,
    *,
    label: str,
    documentation: Mapping[str, str] | None = None,
    description: Description | None = None,
    description_name: str | None = None,
) -> Scaffold:
    documentation = documentation or {}
    order = _order(graph)
    actions = sorted((n for n in graph.nodes if _acts(graph, n)), key=lambda n: order[n.id])
    tasks = {node.id: _Task(node) for node in actions}
    if description is not None:
        for task in tasks.values():
            name = task.node.name or task.node.id
            task.match = match(name, documentation.get(task.node.id), description.operations)
        before = _must_precede(graph)
        for task in tasks.values():
            _fill(task, tasks, before[task.node.id], order)
    else:
        for task in tasks.values():
            task.todo.append("the request")
    ends = [n for n in graph.nodes if n.category is NodeCategory.END_EVENT]
    ends.sort(key=lambda n: order[n.id])
    flows = [
        flow
        for node in sorted(graph.nodes, key=lambda n: order[n.id])
        if node.category in _CHOOSING and len(graph.outgoing.get(node.id, ())) > 1
        for flow in graph.outgoing[node.id]
    ]
    text = _Writer(graph, documentation).write(
        label, list(tasks.values()), ends, flows, description, description_name
    )
    return Scaffold(
        text=text,
        tasks=tuple(_report(task) for task in tasks.values()),
        events=tuple(node.id for node in ends),
        flows=tuple(flow.id for flow in flows),
    )


def _report(task: _Task) -> TaskScaffold:
    found = task.match
    best = found.best if found is not None else None
    runner = found.runner_up if found is not None else None
    return TaskScaffold(
        element_id=task.node.id,
        name=task.node.name,
        operation=best.operation.label if best is not None else None,
        score=round(best.score, 2) if best is not None else None,
        runner_up=runner.operation.label if runner is not None else None,
        why_unmatched=found.why_not if found is not None else None,
        todo=tuple(task.todo),
    )


def _acts(graph: ProcessGraph, node: Node) -> bool:
    if node.category in (NodeCategory.TASK, NodeCategory.CALL_ACTIVITY):
        return True
    if not node.category.is_event or node.category is NodeCategory.END_EVENT:
        return False
    messaged = any(node.id in (m.source, m.target) for m in graph.message_flows)
    return messaged or bool(_ACTIVE_EVENTS.intersection(node.event_definitions))


def _order(graph: ProcessGraph) -> dict[str, int]:
    """Nodes in the order a process runs them (a reverse postorder of a depth-first walk from
    the starts: a node before those it leads to, a subprocess's inside before what follows
    it, a gateway's first flow first); the nodes no walk reaches after, as drawn."""
    entries = _entries(graph, None)
    entries.sort(key=lambda i: graph.node_by_id[i].category is not NodeCategory.START_EVENT)
    done: set[str] = set()
    finished: list[str] = []
    for root in reversed(entries):
        _walk(graph, root, done, finished)
    order = {node_id: i for i, node_id in enumerate(reversed(finished))}
    for node in graph.nodes:
        order.setdefault(node.id, len(order))
    return order


def _entries(graph: ProcessGraph, parent: str | None) -> list[str]:
    return [
        n.id
        for n in graph.nodes
        if n.parent == parent and not graph.incoming.get(n.id) and n.attached_to is None
    ]


def _walk(graph: ProcessGraph, root: str, done: set[str], finished: list[str]) -> None:
    """Depth first without recursion; successors pushed last-first so the first comes first."""
    if root in done:
        return
    done.add(root)
    stack = [(root, iter(reversed(_successors(graph, root))))]
    while stack:
        node, successors = stack[-1]
        following = next((s for s in successors if s not in done), None)
        if following is None:
            stack.pop()
            finished.append(node)
        else:
            done.add(following)
            stack.append((following, iter(reversed(_successors(graph, following)))))


def _successors(graph: ProcessGraph, node_id: str) -> list[str]:
    inside = _entries(graph, node_id)
    flows = [f.target for f in graph.outgoing.get(node_id, ())]
    return inside + flows + [b.id for b in graph.boundary_events.get(node_id, ())]


def _must_precede(graph: ProcessGraph) -> dict[str, frozenset[str]]:
    """For each node, the nodes every path from a start to it has gone through (after a
    parallel join: those of every branch). Inner starts inherit their subprocess's; a boundary
    event its activity's (the activity may not have completed)."""
    everything = frozenset(graph.node_by_id)
    before: dict[str, frozenset[str]] = {n.id: everything for n in graph.nodes}
    for _ in range(len(graph.nodes) + 2):
        changed = False
        for node in graph.nodes:
            found = _before(graph, node, before)
            if found != before[node.id]:
                before[node.id], changed = found, True
        if not changed:
            break
    return before


def _before(graph: ProcessGraph, node: Node, before: dict[str, frozenset[str]]) -> frozenset[str]:
    if node.attached_to is not None:
        return before.get(node.attached_to, frozenset())
    sources = [f.source for f in graph.incoming.get(node.id, ())]
    if not sources:
        return before.get(node.parent or "", frozenset())
    sets = [before[s] | {s} for s in sources if s in before]
    if not sets:
        return frozenset()
    if node.category is NodeCategory.PARALLEL_GATEWAY:
        return frozenset().union(*sets)
    return frozenset.intersection(*sets)


def _fill(
    task: _Task, tasks: dict[str, _Task], before: frozenset[str], order: dict[str, int]
) -> None:
    operation = task.operation
    if operation is None:
        task.todo.append("the request: no operation of the description was matched")
        return
    savers = sorted(
        (tasks[i] for i in before if i in tasks and tasks[i].operation is not None),
        key=lambda t: -order[t.node.id],
    )
    task.method = operation.method
    task.path = _path(task, operation, savers)
    for parameter in operation.parameters:
        if parameter.where == "query" and parameter.required:
            task.query[parameter.name] = _parameter_value(task, parameter, savers, None)
    if operation.body_schema is not None:
        body = operation.body_example
        if not operation.has_body_example:
            body = example_instance(operation.body_schema)
        task.body, task.has_body = _linked_body(task, body, savers), True
    task.checks.append({"status": _status(operation.success_status)})
    if operation.response_schema:
        task.checks.append({"schema": operation.response_schema})


def _status(status: str) -> int | str:
    return int(status) if status.isdigit() else status


def _path(task: _Task, operation: Operation, savers: list[_Task]) -> str:
    parts = []
    segments = operation.path.split("/")
    for i, segment in enumerate(segments):
        found = re.fullmatch(r"\{([^}]+)\}", segment)
        if found is None:
            parts.append(segment)
            continue
        resource = segments[i - 1] if i > 0 else ""
        parameter = next(
            (p for p in operation.parameters if p.where == "path" and p.name == found.group(1)),
            Parameter(found.group(1), "path", True, {}),
        )
        value = _parameter_value(task, parameter, savers, resource)
        parts.append(value if isinstance(value, str) and "{{" in value else _urlsafe(value))
    return "/".join(parts)


def _urlsafe(value: Any) -> str:
    from urllib.parse import quote

    return quote(str(value), safe="")


def _parameter_value(
    task: _Task, parameter: Parameter, savers: list[_Task], resource: str | None
) -> Any:
    linked = _linked(task, parameter.name, savers, resource)
    if linked is not None:
        return linked
    if parameter.where == "path":
        name = _variable(parameter.name, resource)
        task.todo.append(f"{parameter.name}: no earlier task saves it; vars.{name} is undefined")
        return "{{ vars." + name + " }}"
    if parameter.has_example:
        return parameter.example
    return example_instance(parameter.schema)


def _linked(task: _Task, name: str, savers: list[_Task], resource: str | None) -> str | None:
    """`{{ vars.NAME }}` when an earlier task's response has it; that task saves it."""
    for saver in savers:
        operation = saver.operation
        assert operation is not None
        extractor = _extractor(operation, name, resource)
        if extractor is not None:
            variable = _variable(name, resource)
            saver.saves[variable] = extractor
            users = saver.save_notes.setdefault(variable, [])
            if task.node.id not in users:
                users.append(task.node.id)
            return "{{ vars." + variable + " }}"
    return None


def _extractor(saver: Operation, name: str, resource: str | None) -> str | None:
    properties = saver.response_properties
    if name in properties and name != "id":
        return f"$.{name}" if re.fullmatch(r"[A-Za-z_][\w-]*", name) else f"$['{name}']"
    if "id" not in properties:
        return None
    wanted = _resource_of(name, resource)
    literal = [s for s in saver.path.split("/") if s and not s.startswith("{")]
    if wanted and literal and stem(literal[-1]) == stem(wanted):
        return "$.id"
    return None


def _resource_of(name: str, resource: str | None) -> str | None:
    """`loanId`, `loan_id` -> loan; `id` under `/loans/{id}` -> loans."""
    found = re.fullmatch(r"(.+?)[-_]?(Id|ID|id)", name)
    if found is not None:
        return found.group(1)
    return resource if name == "id" else None


def _variable(name: str, resource: str | None) -> str:
    if name == "id" and resource:
        name = f"{stem(resource)}Id"
    name = _IDENTIFIER.sub("_", name)
    return name if not name[:1].isdigit() else f"_{name}"


def _linked_body(task: _Task, body: Any, savers: list[_Task]) -> Any:
    if not isinstance(body, dict):
        return body
    linked = dict(body)
    for key in body:
        if isinstance(key, str) and re.search(r"(Id|_id|ID)$", key):
            value = _linked(task, key, savers, None)
            if value is not None:
                linked[key] = value
    return linked


class _Writer:
    """The file as text: comments say what each entry is and what is left to do."""

    def __init__(self, graph: ProcessGraph, documentation: Mapping[str, str]) -> None:
        self.graph = graph
        self.documentation = documentation
        self.lines: list[str] = []

    def write(
        self,
        label: str,
        tasks: list[_Task],
        ends: list[Node],
        flows: list[Any],
        description: Description | None,
        description_name: str | None,
    ) -> str:
        self._head(label, description, description_name)
        self._section("tasks", "what each step sends and checks", bool(tasks))
        for task in tasks:
            self._task(task, description is not None)
        self._section("events", "end events: the final checks", bool(ends))
        for node in ends:
            self._end(node)
        self._section("flows", "the data that makes the SUT take a gateway's flow", bool(flows))
        for flow in flows:
            self._flow(flow)
        return "\n".join(self.lines) + "\n"

    def _head(self, label: str, description: Description | None, name: str | None) -> None:
        self.lines += [
            SCHEMA_LINE,
            "# (the schema: `orchestra schema bindings > bindings.schema.json` beside this file)",
            f"# Bindings of {label}, written by `orchestra bindings init`"
            + (f" from {name}." if name else "."),
            "# Format: docs/bindings.md. Look for TODO: a request still TODO ends its run in",
            '# ERROR at that step ("TODO is undefined"); empty checks and data hold as they are.',
            "version: 1",
            "defaults:",
            "  timeout: 10",
            "  # service: NAME  # TODO when the environment has more than one service",
        ]
        if description is not None and description.servers:
            servers = ", ".join(description.servers)
            self.lines.append(
                f"  # the description's servers (an environment's base_url): {servers}"
            )

    def _section(self, name: str, what: str, filled: bool) -> None:
        self.lines += ["", f"{name}:{'' if filled else ' {}'}  # {what}"]

    def _about(self, node: Node) -> None:
        title = " ".join((node.name or node.id).split())
        self.lines.append(f"  # {title} ({node.type})")
        doc = self.documentation.get(node.id)
        if doc:
            self.lines.append(f"  #   {' '.join(doc.split())[:200]}")

    def _task(self, task: _Task, described: bool) -> None:
        self.lines.append("")
        self._about(task.node)
        if task.match is not None:
            self.lines.append(f"  # {task.match.comment()}")
        self.lines.append(f"  {_key(task.node.id)}:")
        if task.operation is None:
            self.lines += [
                "    action:  # TODO: the request this step sends",
                f"      method: {task.method}  # TODO",
                f"      path: {json.dumps(task.path)}  # TODO: e.g. /orders",
                "    checks:",
                "      - status: 2xx  # TODO: the status it answers, and what its body holds",
            ]
        else:
            self._action(task)
        for todo in task.todo if task.operation is not None else ():
            self.lines.append(f"    # TODO: {todo}")
        if task.saves:
            self.lines.append("    save:")
            for variable, extractor in task.saves.items():
                users = ", ".join(task.save_notes.get(variable, []))
                self.lines.append(f"      {variable}: {_flow(extractor)}  # for {users}")
        elif task.operation is None:
            self.lines.append("    # save: {order_id: $.id}  # TODO: values later steps need")

    def _action(self, task: _Task) -> None:
        self.lines += ["    action:", f"      method: {task.method}"]
        self.lines.append(f"      path: {_flow(task.path)}")
        if task.query:
            self.lines.append(f"      query: {_flow(task.query)}")
        if task.has_body:
            self._value("json", task.body, 6)
        self.lines.append("    checks:")
        for check in task.checks:
            ((kind, value),) = check.items()
            if kind == "schema":
                self._value("- schema", value, 6)
            else:
                self.lines.append(f"      - {kind}: {_flow(value)}")

    def _value(self, key: str, value: Any, indent: int) -> None:
        pad = " " * indent
        flow = _flow(value)
        if len(flow) + indent + len(key) <= 96:
            self.lines.append(f"{pad}{key}: {flow}")
            return
        self.lines.append(f"{pad}{key}:")
        self.lines += [f"{pad}    {line}" for line in _block(value)]

    def _end(self, node: Node) -> None:
        self.lines.append("")
        self._about(node)
        self.lines += [
            f"  {_key(node.id)}:",
            "    checks: []  # TODO: what holds when the process ends here, e.g.",
            '    # action: {path: "/orders/{{ vars.order_id }}"}',
            "    # checks: [{jsonpath: $.state, eq: DONE}]",
        ]

    def _flow(self, flow: Any) -> None:
        source = self.graph.node_by_id.get(flow.source)
        target = self.graph.node_by_id.get(flow.target)
        where = " ".join(((source.name if source else None) or flow.source).split())
        to = " ".join(((target.name if target else None) or flow.target).split())
        named = f" {flow.name!r}" if flow.name else ""
        condition = f", when {flow.condition.text.strip()}" if flow.condition else ""
        self.lines += [
            "",
            f"  # {where} ->{named} {to}{condition}",
            f"  {_key(flow.id)}:",
            "    data: {}  # TODO: the data rows' values that make the SUT take it, if any",
        ]


def _key(element_id: str) -> str:
    return element_id if re.fullmatch(r"[A-Za-z_][\w.-]*", element_id) else json.dumps(element_id)


def _flow(value: Any) -> str:
    """One line of YAML: JSON (which YAML reads), with plain keys, paths and JSONPaths."""
    if isinstance(value, str):
        return value if _plain(value) else json.dumps(value)
    if isinstance(value, dict):
        items = ", ".join(f"{_flow_key(k)}: {_flow(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    return json.dumps(value)


_RESERVED = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})


def _plain(text: str) -> bool:
    """Written without quotes, YAML reads it back as this string: a path, a JSONPath, a word."""
    if re.fullmatch(r"[/$][\w./$\[\]'-]*", text):
        return True
    word = re.fullmatch(r"[A-Za-z_][\w.@-]*", text) is not None
    return word and text.lower() not in _RESERVED


def _flow_key(key: Any) -> str:
    text = str(key)
    return text if re.fullmatch(r"[A-Za-z_$][\w$-]*", text) else json.dumps(text)


def _block(value: Any, width: int = 88) -> list[str]:
    """Block YAML whose short parts stay on one line: `type: string`, `enum: [OPEN, SHUT]`."""
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            flow = _flow(item)
            if len(flow) + len(str(key)) + 2 <= width or not isinstance(item, dict | list):
                lines.append(f"{_flow_key(key)}: {flow}")
            else:
                lines.append(f"{_flow_key(key)}:")
                lines += [f"  {line}" for line in _block(item, width - 2)]
    elif isinstance(value, list):
        for item in value:
            flow = _flow(item)
            if len(flow) + 2 <= width or not isinstance(item, dict | list):
                lines.append(f"- {flow}")
            else:
                inner = _block(item, width - 2)
                lines += [f"- {inner[0]}", *(f"  {line}" for line in inner[1:])]
    else:
        lines.append(_flow(value))
    return lines
