"""Use cases: import a BPMN file as versioned Processes; list and show what is stored.

A file is read and validated before anything is written; a file with errors is refused whole
and nothing of it is stored. Each process of an accepted file becomes a version of the Process
keyed by its BPMN id: the same content again is the same version, changed content the next.
"""

from __future__ import annotations

import asyncio
import codecs
import re
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestra.domain.limits import Limits
from orchestra.domain.process import ImportedModel, Problem, ProblemSeverity, ProcessGraph
from orchestra.domain.records import StoredProcess
from orchestra.domain.timestamps import rfc3339
from orchestra.errors import BpmnRefused
from orchestra.services.offload import Offload
from orchestra.services.references import by_key_or_name
from orchestra.store.repositories import UnitOfWork, graph_dump

if TYPE_CHECKING:
    from orchestra.domain.history import ProcessVersion

_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True, slots=True)
class ImportedProcess:
    stored: StoredProcess
    created: bool  # False: this very content was stored before, its version is returned


@dataclass(frozen=True, slots=True)
class FileImport:
    source: str
    processes: tuple[ImportedProcess, ...]
    warnings: tuple[Problem, ...]


def read_source(path: Path, limits: Limits | None = None) -> bytes:
    """The bytes of a BPMN file, refusing one above the size limit without reading it all."""
    limits = limits or Limits()
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise BpmnRefused(
                f"{path}: the file is {size} bytes, above the limit of {limits.max_bytes}",
                details={"file": str(path), "code": "too-large"},
            )
        with path.open("rb") as handle:
            return handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise BpmnRefused(
            f"{path}: cannot read the file: {exc.strerror or exc}",
            details={"file": str(path), "code": "unreadable"},
        ) from exc


# Warnings that leave part of a model untestable; `strict` refuses them like errors.
UNTESTABLE = frozenset(
    {
        "no-start-event",
        "unreachable-node",
        "dead-end-gateway",
        "boundary-event-inside-host",
        "boundary-event-with-incoming-flow",
        "cancel-boundary-not-on-transaction",
        "flow-crosses-subprocess",
    }
)


def validated_model(
    data: bytes, *, source: str, limits: Limits | None = None, strict: bool = False
) -> ImportedModel:
    """Parse and validate; refuse hostile, malformed or erroneous models with every problem.
    With `strict`, the models only partly testable too (`UNTESTABLE`)."""
    from orchestra.bpmn import read_bpmn

    model = read_bpmn(data, source=source, limits=limits)
    if strict:
        model = _untestable_as_errors(model)
    if model.errors:
        count = len(model.errors)
        first = model.errors[0].message
        raise BpmnRefused(
            f"{source}: refused, {count} error{'s' if count > 1 else ''} in the model "
            f"(first: {first})",
            details={
                "file": source,
                "code": "invalid-model",
                "problems": [problem.model_dump(mode="json") for problem in model.problems],
            },
        )
    return model


def _untestable_as_errors(model: ImportedModel) -> ImportedModel:
    problems = tuple(
        problem.model_copy(update={"severity": ProblemSeverity.ERROR})
        if problem.code in UNTESTABLE
        else problem
        for problem in model.problems
    )
    return model.model_copy(update={"problems": problems})


def _summed_model(
    data: bytes | Path, *, source: str, limits: Limits | None, strict: bool
) -> tuple[ImportedModel, list[tuple[str, str]]]:
    """`validated_model` of the bytes or file, with the checksum and the stored JSON of each of
    its processes."""
    from orchestra.bpmn import checksum

    if isinstance(data, Path):
        data = data.read_bytes()
    model = validated_model(data, source=source, limits=limits, strict=strict)
    return model, [(checksum(graph), graph_dump(graph)) for graph in model.processes]


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """A BPMN file read and validated, ready to store: its model, each process's checksum
    and stored JSON, and the file's text."""

    source: str
    model: ImportedModel
    written: list[tuple[str, str]]
    text: str


async def parse_bpmn(
    data: bytes | Path,
    *,
    source: str,
    limits: Limits | None = None,
    strict: bool = False,
    offload: Offload = asyncio.to_thread,
) -> ParsedFile:
    """Read and validate a BPMN file (its bytes, or a file the API spooled an upload to),
    needing no database: a server parses it before it takes a connection of its pool."""
    # parsed, summed and written as JSON off the loop (the API's other requests): for 20,000
    # tasks the checksum held it 440 ms, the JSON 260 ms, and in a thread the parse shared
    # the GIL with it in turns (/health 40-370 ms)
    summed = partial(_summed_model, source=source, limits=limits, strict=strict)
    model, written = await offload(summed, data)
    text = await asyncio.to_thread(_source_text, data)
    return ParsedFile(source=source, model=model, written=written, text=text)


async def store_bpmn(uow: UnitOfWork, parsed: ParsedFile) -> FileImport:
    """Store every process of a parsed file, each a new version unless this content is."""
    model = parsed.model
    imported: list[ImportedProcess] = []
    for graph, (graph_checksum, graph_json) in zip(model.processes, parsed.written, strict=True):
        stored, created = await uow.processes.add_version(
            graph,
            checksum=graph_checksum,
            graph_json=graph_json,
            source_xml=parsed.text,
            source_name=parsed.source,
            problems=_problems_of(graph, model),
        )
        imported.append(ImportedProcess(stored=stored, created=created))
    return FileImport(source=parsed.source, processes=tuple(imported), warnings=model.warnings)


async def import_bpmn(
    uow: UnitOfWork,
    data: bytes | Path,
    *,
    source: str,
    limits: Limits | None = None,
    strict: bool = False,
    offload: Offload = asyncio.to_thread,
) -> FileImport:
    """Store every process of one BPMN file, or refuse the file and store nothing
    (`parse_bpmn`, then `store_bpmn`)."""
    parsed = await parse_bpmn(data, source=source, limits=limits, strict=strict, offload=offload)
    return await store_bpmn(uow, parsed)


async def import_processes(uow: UnitOfWork, data: bytes, *, source: str) -> list[StoredProcess]:
    """The processes of one BPMN file as `import_bpmn` stores them, its warnings left out. When
    these very contents were imported before, the processes stored from them (what parsing
    them again would find) without parsing: nor the parser imported."""
    stored = await stored_from(uow, data)
    if stored:
        return stored
    outcome = await import_bpmn(uow, data, source=source)
    return [item.stored for item in outcome.processes]


# An opening tag of a process element, whatever its prefix; in a comment or CDATA section too,
# which makes the count larger than the processes parsed, never smaller (a stored file
# declares no entity: the parser refuses one).
_PROCESS_TAG = re.compile(r"<(?:[\w.-]+:)?process[\s/>]")


async def stored_from(uow: UnitOfWork, data: bytes) -> list[StoredProcess]:
    """The processes first stored from the file's text, when they are all of its processes;
    none otherwise. A process the file shares with another file imported before was stored
    from that one: the file's other processes are then not the whole file, and its count of
    process tags says so."""
    text = decode_source(data)
    if "\ufffd" in text:  # bytes undecodable in the encoding declared, not the text stored
        return []
    stored = await uow.processes.stored_from_source(text)
    return stored if len(stored) == len(_PROCESS_TAG.findall(text)) else []


async def list_processes(uow: UnitOfWork) -> list[StoredProcess]:
    """The latest version of every stored process, by key."""
    return await uow.processes.list_latest()


async def show_process(uow: UnitOfWork, key: str, version: int | None = None) -> StoredProcess:
    shown = key if version is None else f"{key}@{version}"
    return await by_key_or_name(uow, shown, key, lambda k: uow.processes.get(k, version))


async def process_versions(uow: UnitOfWork, key: str) -> list[ProcessVersion]:
    """Every version of process `key`, newest first."""
    return await by_key_or_name(uow, key, key, uow.processes.versions)


def summary(stored: StoredProcess) -> dict[str, Any]:
    """What `processes list/show` print: identity, counts by element kind, problems."""
    graph = stored.graph
    return {
        "key": stored.key,
        "version": stored.version,
        "name": stored.name,
        "checksum": stored.checksum,
        "source": stored.source_name,
        "imported_at": rfc3339(stored.imported_at),
        "executable": graph.is_executable,
        "exporter": graph.exporter,
        "pool": graph.participant.name if graph.participant else None,
        "lanes": len(graph.lanes),
        "has_diagram": graph.diagram is not None,
        "counts": graph.counts_by_category(),
        "counts_by_type": dict(sorted(Counter(node.type for node in graph.nodes).items())),
        "errors": sum(1 for p in stored.problems if p.severity.value == "error"),
        "warnings": sum(1 for p in stored.problems if p.severity.value == "warning"),
        "problems": [problem.model_dump(mode="json") for problem in stored.problems],
    }


def event_details(graph: ProcessGraph) -> list[dict[str, Any]]:
    """What `processes show` lists of the events: those with timer expressions or refs."""
    return [
        {
            "id": node.id,
            "type": node.type,
            "name": node.name,
            "details": [d.model_dump(mode="json", exclude_none=True) for d in node.event_details],
        }
        for node in graph.nodes
        if node.event_details
    ]


def _source_text(data: bytes | Path) -> str:
    return decode_source(data.read_bytes() if isinstance(data, Path) else data)


def decode_source(data: bytes) -> str:
    """The file as text, decoded as its XML declaration (or byte-order mark) says."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    declared = _DECLARED_ENCODING.match(data)
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        return data.decode(encoding, errors="replace")
    except LookupError:  # an encoding libxml2 knows and Python does not
        return data.decode("utf-8", errors="replace")


def _problems_of(graph: ProcessGraph, model: ImportedModel) -> tuple[Problem, ...]:
    return tuple(p for p in model.problems if p.process_id in (graph.id, None))
