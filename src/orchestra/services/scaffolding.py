"""Use case: a binding file's skeleton for a stored process (`orchestra bindings init`)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestra.errors import InputRefused
from orchestra.services.generating import parse_process_ref
from orchestra.services.references import by_key_or_name
from orchestra.store.database import Database

if TYPE_CHECKING:
    from orchestra.binding.openapi import Description
    from orchestra.binding.scaffold import Scaffold
    from orchestra.domain.process import ProcessGraph

MAX_DESCRIPTION_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class ScaffoldedBindings:
    process_key: str
    process_version: int
    scaffold: Scaffold

    def to_json(self) -> dict[str, Any]:
        return {
            "process": {"key": self.process_key, "version": self.process_version},
            "tasks": [task.to_json() for task in self.scaffold.tasks],
            "events": list(self.scaffold.events),
            "flows": list(self.scaffold.flows),
        }


async def scaffold_bindings(
    db: Database, process_ref: str, *, openapi: Path | None = None
) -> ScaffoldedBindings:
    """The skeleton of PROCESS[@VERSION]'s bindings, matched to `openapi`'s operations if given;
    it loads with the binding loader as written (checked here). The processes its call
    activities name are inlined when imported, as `generate` does: their tasks are bound as
    `CALL/TASK`."""
    from orchestra.domain.generation import inline_calls
    from orchestra.services.generating import _called_processes  # what `generate` inlines

    key, version = parse_process_ref(process_ref)
    async with db.transaction() as uow:
        process = await by_key_or_name(
            uow, process_ref, key, lambda k: uow.processes.get(k, version)
        )
        stored_calls = await _called_processes(uow, process.graph)
        sources = [await uow.processes.source(p.id) for p in (process, *stored_calls.values())]
    description = await asyncio.to_thread(read_openapi, openapi) if openapi else None
    called = {called_key: stored.graph for called_key, stored in stored_calls.items()}
    graph, _ = inline_calls(process.graph, called)
    label = f"{process.key}@{process.version}" + (f" ({process.name!r})" if process.name else "")
    texts = [text or "" for text in sources]
    made = await asyncio.to_thread(_scaffold, graph, texts, label, description, openapi)
    return ScaffoldedBindings(process.key, process.version, made)


def _scaffold(
    graph: ProcessGraph,
    sources: list[str],
    label: str,
    description: Description | None,
    openapi: Path | None,
) -> Scaffold:
    from orchestra.binding.loader import parse_bindings
    from orchestra.binding.scaffold import scaffold
    from orchestra.binding.yamlsource import Source

    made = scaffold(
        graph,
        label=label,
        documentation=_documentation(graph, sources),
        description=description,
        description_name=openapi.name if openapi else None,
    )
    parse_bindings(Source("<scaffold>", made.text), graph)  # it loads as written
    return made


def _documentation(graph: ProcessGraph, sources: list[str]) -> dict[str, str]:
    """Each node's documentation; an inlined node (`CALL/TASK`) has its called process's."""
    from orchestra.bpmn.documentation import documentation_by_id
    from orchestra.domain.generation.calls import SEPARATOR

    found: dict[str, str] = {}
    for source in reversed(sources):  # the process's own last: it wins
        found |= documentation_by_id(source.encode("utf-8"), source="the stored BPMN")
    return {
        node.id: found[own]
        for node in graph.nodes
        if (own := node.id.rsplit(SEPARATOR, 1)[-1]) in found
    }


def read_openapi(path: Path) -> Description:
    """An OpenAPI 3.0 or 3.1 file, YAML or JSON, its `$ref`s resolved inside it."""
    from orchestra.binding.openapi import read_description

    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputRefused(
            f"{name}: cannot be read ({exc.strerror})", details={"file": name}
        ) from exc
    if len(data) > MAX_DESCRIPTION_BYTES:
        raise InputRefused(f"{name}: over {MAX_DESCRIPTION_BYTES} bytes", details={"file": name})
    return read_description(_parsed(data, name), name)


def _parsed(data: bytes, name: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        text = data.decode("utf-8-sig")
        if text.lstrip().startswith("{"):
            return json.loads(text)
        return YAML(typ="safe", pure=True).load(text)
    except (UnicodeDecodeError, ValueError, YAMLError) as exc:
        raise InputRefused(
            f"{name}: neither JSON nor YAML ({' '.join(str(exc).split())[:300]})",
            details={"file": name},
        ) from exc
