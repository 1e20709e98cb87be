"""A scaffold's text: YAML with the comments that say what each entry is and what is left
to do (see `orchestra.binding.scaffold`). Values go on one line where they are short (JSON,
which YAML reads, with plain keys, paths, JSONPaths and words), in block style otherwise."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from orchestra.domain.process import Flow, Node, ProcessGraph

if TYPE_CHECKING:
    from orchestra.binding.openapi import Description
    from orchestra.binding.scaffold import TaskPlan

SCHEMA_LINE = "# yaml-language-server: $schema=bindings.schema.json"


class ScaffoldWriter:
    """The file as text: comments say what each entry is and what is left to do."""

    def __init__(self, graph: ProcessGraph, documentation: Mapping[str, str]) -> None:
        self.graph = graph
        self.documentation = documentation
        self.lines: list[str] = []

    def write(
        self,
        label: str,
        tasks: list[TaskPlan],
        ends: list[Node],
        flows: list[Flow],
        description: Description | None,
        description_name: str | None,
        reads: Mapping[str, str] | None = None,
    ) -> str:
        self._head(label, description, description_name)
        self._section("tasks", "what each step sends and checks", bool(tasks))
        for task in tasks:
            self._task(task, description is not None)
        self._section("events", "end events: the final checks", bool(ends))
        for node in ends:
            self._end(node, (reads or {}).get(node.id))
        self._section("flows", "the data that makes the SUT take a gateway's flow", bool(flows))
        for flow in flows:
            self._flow_entry(flow)
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
        if description is not None and description.auth:
            auth = "; ".join(description.auth)
            self.lines.append(f"  # the description's auth ({auth}): the environment's `auth`")
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

    def _task(self, task: TaskPlan, described: bool) -> None:
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

    def _action(self, task: TaskPlan) -> None:
        self.lines += ["    action:", f"      method: {task.method}"]
        self.lines.append(f"      path: {_flow(task.path)}")
        if task.query:
            self.lines.append(f"      query: {_flow(task.query)}")
        if task.headers:
            self.lines.append(f"      headers: {_flow(task.headers)}")
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

    def _end(self, node: Node, read: str | None) -> None:
        self.lines.append("")
        self._about(node)
        path = json.dumps(read or "/orders/{{ vars.order_id }}")
        self.lines += [
            f"  {_key(node.id)}:",
            "    checks: []  # TODO: what holds when the process ends here, e.g.",
            f"    # action: {{path: {path}}}",
            "    # checks: [{jsonpath: $.state, eq: DONE}]",
        ]

    def _flow_entry(self, flow: Flow) -> None:
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
