"""`orchestra bindings init`: a binding file's skeleton for a process, filled from an OpenAPI
description when there is one. Pure: the caller reads the process and the description.

Every element a run reaches gets an entry: under `tasks`, each element generation makes an
ACTION step of (tasks, call activities, events that wait for or send something); under
`events`, the end events; under `flows`, the flows leaving a gateway that chooses. What is not
known is marked TODO, and the file loads as it is: a task's request left TODO has the path
`{{ TODO }}`, so a run reaching it ends in ERROR "TODO is undefined" at that step, and checks,
branch data and end checks left TODO are empty (they hold).

With a description, each task is matched to an operation (`orchestra.binding.matching`), its
method and path are written, a path parameter (or a required query or header parameter, or a body
property ending in `Id`) is read from `vars`, saved by the nearest earlier task that every path
to this one goes through and whose documented response has that property (or `id`, for
`<resource>Id` when that task's path is the resource's), the body is the operation's example or
a small valid instance of its schema, and the checks are the documented success status and the
response body against its schema.

The order of the entries and "every path goes through" come from `orchestra.domain.precedence`;
the text from `orchestra.binding.scaffold_text`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestra.binding.instances import example_instance
from orchestra.binding.matching import Match, match, stem
from orchestra.binding.openapi import Description, Operation, Parameter
from orchestra.binding.scaffold_text import ScaffoldWriter
from orchestra.domain.precedence import must_precede, run_order
from orchestra.domain.process import Node, NodeCategory, ProcessGraph

TODO_PATH = "{{ TODO }}"
# as generation decides (orchestra.domain.generation.render): these events become ACTION steps
_CHOOSING = (
    NodeCategory.EXCLUSIVE_GATEWAY,
    NodeCategory.INCLUSIVE_GATEWAY,
    NodeCategory.EVENT_BASED_GATEWAY,
    NodeCategory.COMPLEX_GATEWAY,
)
_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


@dataclass
class TaskPlan:
    """What the scaffold writes for one step, worked out before the text."""

    node: Node
    match: Match | None = None
    method: str = "POST"
    path: str = TODO_PATH
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
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


def scaffold(
    graph: ProcessGraph,
    *,
    label: str,
    documentation: Mapping[str, str] | None = None,
    description: Description | None = None,
    description_name: str | None = None,
) -> Scaffold:
    documentation = documentation or {}
    order = run_order(graph)
    actions = sorted((n for n in graph.nodes if graph.acts(n)), key=lambda n: order[n.id])
    tasks = {node.id: TaskPlan(node) for node in actions}
    if description is not None:
        for task in tasks.values():
            name = task.node.name or task.node.id
            task.match = match(name, documentation.get(task.node.id), description.operations)
        before = must_precede(graph)
        for task in tasks.values():
            _fill(task, tasks, before[task.node.id], order)
    else:
        for task in tasks.values():
            task.todo.append("the request")
    ends = [n for n in graph.nodes if n.category is NodeCategory.END_EVENT]
    ends.sort(key=lambda n: order[n.id])
    reads: dict[str, str] = {}
    if description is not None:
        before = must_precede(graph)
        for node in ends:
            read = _read_back(node, description, tasks, before[node.id], order)
            if read is not None:
                reads[node.id] = read
    flows = [
        flow
        for node in sorted(graph.nodes, key=lambda n: order[n.id])
        if node.category in _CHOOSING and len(graph.outgoing.get(node.id, ())) > 1
        for flow in graph.outgoing[node.id]
    ]
    text = ScaffoldWriter(graph, documentation).write(
        label, list(tasks.values()), ends, flows, description, description_name, reads
    )
    return Scaffold(
        text=text,
        tasks=tuple(_report(task) for task in tasks.values()),
        events=tuple(node.id for node in ends),
        flows=tuple(flow.id for flow in flows),
    )


def _read_back(
    end: Node,
    description: Description,
    tasks: dict[str, TaskPlan],
    before: frozenset[str],
    order: dict[str, int],
) -> str | None:
    """The path of a GET of one resource (`/invoices/{invoiceId}`) whose parameters earlier
    tasks save, to read the state an end event should find; the nearest such resource wins."""
    savers = sorted(
        (tasks[i] for i in before if i in tasks and tasks[i].operation is not None),
        key=lambda t: -order[t.node.id],
    )
    best: tuple[int, Operation] | None = None
    for operation in description.operations:
        segments = operation.path.split("/")
        if operation.method != "GET" or not re.fullmatch(r"\{[^}]+\}", segments[-1]):
            continue
        nearest = _nearest_saver(operation, segments, savers)
        if nearest is not None and (best is None or nearest < best[0]):
            best = (nearest, operation)
    return None if best is None else _path(TaskPlan(end), best[1], savers)


def _nearest_saver(operation: Operation, segments: list[str], savers: list[TaskPlan]) -> int | None:
    """The position in `savers` of the latest task saving a path parameter of `operation`,
    or None when one of them no task saves."""
    nearest = len(savers)
    for i, segment in enumerate(segments):
        found = re.fullmatch(r"\{([^}]+)\}", segment)
        if found is None:
            continue
        resource = segments[i - 1] if i > 0 else ""
        saved = [
            k
            for k, saver in enumerate(savers)
            if saver.operation is not None
            and _extractor(saver.operation, found.group(1), resource) is not None
        ]
        if not saved:
            return None
        nearest = min(nearest, saved[0])
    return nearest if nearest < len(savers) else None


def _report(task: TaskPlan) -> TaskScaffold:
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


def _fill(
    task: TaskPlan, tasks: dict[str, TaskPlan], before: frozenset[str], order: dict[str, int]
) -> None:
    operation = task.operation
    if operation is None:
        task.todo.append("the request: no operation of the description was matched")
        return
    savers = sorted(
        (
            tasks[i]
            for i in before
            if i in tasks and i != task.node.id and tasks[i].operation is not None
        ),
        key=lambda t: -order[t.node.id],
    )
    task.method = operation.method
    task.path = _path(task, operation, savers)
    for parameter in operation.parameters:
        if parameter.where in ("query", "header") and parameter.required:
            value = _parameter_value(task, parameter, savers, None)
            place = task.query if parameter.where == "query" else task.headers
            place[parameter.name] = value if parameter.where == "query" else str(value)
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


def _path(task: TaskPlan, operation: Operation, savers: list[TaskPlan]) -> str:
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
    task: TaskPlan, parameter: Parameter, savers: list[TaskPlan], resource: str | None
) -> Any:
    linked = _linked(task, parameter.name, savers, resource)
    if linked is not None:
        return linked
    if parameter.has_example:
        return parameter.example
    if parameter.where == "path":
        name = _variable(parameter.name, resource)
        task.todo.append(f"{parameter.name}: no earlier task saves it; vars.{name} is undefined")
        return "{{ vars." + name + " }}"
    return example_instance(parameter.schema)


def _linked(task: TaskPlan, name: str, savers: list[TaskPlan], resource: str | None) -> str | None:
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
    """`loanId`, `loan_id` -> loan; `id` under `/loans/{id}` -> loans; `paid` -> none."""
    found = re.fullmatch(r"(.+?)(Id|ID|[-_]id)", name)
    if found is not None:
        return found.group(1)
    return resource if name == "id" else None


def _variable(name: str, resource: str | None) -> str:
    """The `vars` name a value is saved under: the parameter's, `loanId` for `/loans/{id}`."""
    if name == "id" and resource:
        name = f"{_singular(resource)}Id"
    name = _IDENTIFIER.sub("_", name)
    return name if not name[:1].isdigit() else f"_{name}"


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _linked_body(task: TaskPlan, body: Any, savers: list[TaskPlan]) -> Any:
    if not isinstance(body, dict):
        return body
    linked = dict(body)
    for key in body:
        if isinstance(key, str) and re.search(r".(Id|ID|[-_]id)$", key):
            value = _linked(task, key, savers, None)
            if value is not None:
                linked[key] = value
    return linked
