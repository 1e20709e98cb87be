"""Use cases of generation: generate a suite for a stored process, show a stored suite."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from orchestra.domain.generation import (
    DEFAULT_CALL_DEPTH,
    DEFAULT_LOOP_BOUND,
    DEFAULT_MAX_SCENARIOS,
    Criterion,
    called_keys,
    inline_calls,
)
from orchestra.domain.process import ProcessGraph
from orchestra.domain.records import ProcessText, StoredProcess, StoredSuite
from orchestra.domain.scenario import GeneratedSuite, TestScenario
from orchestra.errors import NotFound, OrchestraError, UsageError
from orchestra.services.offload import Offload
from orchestra.services.references import by_key_or_name
from orchestra.store.database import Database
from orchestra.store.repositories import UnitOfWork
from orchestra.store.suiterows import SuiteRows, suite_rows

if TYPE_CHECKING:  # bindings (templates, checks, YAML) are loaded to generate, not to list
    from orchestra.binding.document import Bindings
    from orchestra.binding.yamlsource import Source
    from orchestra.domain.conditions.scenarios import DataReport


SOLVED = "solved"  # each scenario's data: the friendliest values that take its path
BOUNDARY = "boundary"  # and each scenario again at both sides of each bound on its path
DATA_VALUES = (SOLVED, BOUNDARY)
StoredT = TypeVar("StoredT", StoredProcess, ProcessText)


def parse_process_ref(ref: str) -> tuple[str, int | None]:
    """`KEY` or `KEY@VERSION` -> (key, version or None for the newest)."""
    key, at, version = ref.rpartition("@")
    if not at:
        return ref, None
    if not key or not version.isdigit():
        raise UsageError(f"{ref!r} is not PROCESS_KEY or PROCESS_KEY@VERSION (a number)")
    return key, int(version)


async def generate(
    db: Database,
    process_ref: str,
    *,
    criterion: Criterion = Criterion.ALL_FLOWS,
    loop_bound: int = DEFAULT_LOOP_BOUND,
    max_scenarios: int = DEFAULT_MAX_SCENARIOS,
    bindings: str | Path | Source | None = None,
    reuse: bool = False,
    data_rows: Sequence[Mapping[str, Any]] | None = None,
    data_values: str = SOLVED,
    offload: Offload = asyncio.to_thread,
) -> dict[str, Any]:
    """Generate the suite of a stored process version, attach its bindings (those embedded in
    the BPMN, the called processes' included, then the `bindings` file's or text's), store it,
    and summarize it. With `reuse`, a suite stored with the same fingerprint (same process
    version, called versions, bindings, criterion and parameters) is summarized instead of
    adding an identical one (`"reused": true`). With `data_rows`, `row_conflicts` lists each
    row that contradicts a scenario's path (its run would be SKIPPED). `data_values`
    BOUNDARY follows each scenario with its boundary variants (docs/data.md). The generation,
    from the stored graph's text to the rows', runs through `offload` (the API's parser
    process for a large process)."""
    summary, _ = await _generate(
        db,
        process_ref,
        criterion=criterion,
        loop_bound=loop_bound,
        max_scenarios=max_scenarios,
        bindings=bindings,
        reuse=reuse,
        data_rows=data_rows,
        data_values=data_values,
        offload=offload,
    )
    return summary


async def generate_for_run(
    db: Database,
    process_ref: str,
    *,
    criterion: Criterion = Criterion.ALL_FLOWS,
    loop_bound: int = DEFAULT_LOOP_BOUND,
    max_scenarios: int = DEFAULT_MAX_SCENARIOS,
    bindings: str | Path | Source | None = None,
    data_rows: Sequence[Mapping[str, Any]] | None = None,
    data_values: str = SOLVED,
    offload: Offload = asyncio.to_thread,
) -> tuple[dict[str, Any], StoredSuite]:
    """`generate` reusing an identical suite, with the suite as stored, for a run to start:
    the reused one as found, a new one read back once."""
    summary, reused = await _generate(
        db,
        process_ref,
        criterion=criterion,
        loop_bound=loop_bound,
        max_scenarios=max_scenarios,
        bindings=bindings,
        reuse=True,
        data_rows=data_rows,
        data_values=data_values,
        offload=offload,
    )
    return summary, reused or await show(db, int(summary["suite"]))


async def _generate(
    db: Database,
    process_ref: str,
    *,
    criterion: Criterion,
    loop_bound: int,
    max_scenarios: int,
    bindings: str | Path | Source | None,
    reuse: bool,
    data_rows: Sequence[Mapping[str, Any]] | None,
    data_values: str,
    offload: Offload,
) -> tuple[dict[str, Any], StoredSuite | None]:
    """`generate`'s summary, with the stored suite when one is reused."""
    if data_values not in DATA_VALUES:
        raise UsageError(f"data values are {' or '.join(DATA_VALUES)}, not {data_values!r}")
    key, version = parse_process_ref(process_ref)
    parameters: dict[str, Any] = {"loop_bound": loop_bound, "max": max_scenarios}
    if data_values == BOUNDARY:  # only then: the suites generated before keep their fingerprints
        parameters["data"] = BOUNDARY
    digest = None
    existing = None
    async with db.reading() as uow:
        process = await by_key_or_name(
            uow, process_ref, key, lambda k: uow.processes.get_text(k, version)
        )
        if reuse:  # read once: the text digested is the text parsed, should it need to be
            bindings = await asyncio.to_thread(_bindings_source, bindings)
        request = SuiteRequest(
            process_id=process.id,
            process_key=process.key,
            process_version=process.version,
            called=await _called_texts(uow, process),
            bindings=bindings,
            criterion=criterion,
            parameters=parameters,
            data_rows=None if data_rows is None else tuple(data_rows),
        )
        if reuse:
            digest = request_digest(request)
            existing = await uow.suites.by_request(digest)
    if digest is not None and existing is None:
        existing = await _by_fingerprint(db, process.graph_json, request, digest, offload)
    if existing is not None:
        scenarios = [stored.scenario for stored in existing.scenarios]
        return {**stored_summary(existing), **_row_conflicts(scenarios, data_rows)}, existing
    generated = await offload(generated_rows, process.graph_json, request)
    async with db.transaction() as uow:
        suite_id = await uow.suites.add_rows(process.id, generated.rows)
        if digest is not None and generated.rows.fingerprint is not None:
            await uow.suites.remember_request(digest, generated.rows.fingerprint, suite_id)
    return {"suite": suite_id, **generated.summary}, None


async def _by_fingerprint(
    db: Database, graph_json: str, request: SuiteRequest, digest: str, offload: Offload
) -> StoredSuite | None:
    """The suite stored with the fingerprint of `request`, its bindings parsed to hash them;
    the request's `digest` remembered to have it when there is one."""
    fingerprint = await offload(request_fingerprint, graph_json, request)
    async with db.transaction() as uow:
        existing = await uow.suites.by_fingerprint(fingerprint)
        if existing is not None:
            await uow.suites.remember_request(digest, fingerprint, existing.id)
    return existing


@dataclass(frozen=True)
class SuiteRequest:
    """What generating a suite takes besides the process's graph text, which travels apart
    (so that `Offload` sees its size): picklable, for the API's parser process."""

    process_id: int
    process_key: str
    process_version: int
    called: dict[str, ProcessText]
    bindings: str | Path | Source | None
    criterion: Criterion
    parameters: dict[str, Any]
    data_rows: tuple[Mapping[str, Any], ...] | None


@dataclass(frozen=True)
class GeneratedRows:
    """A generated suite's summary (but its id) and its rows' JSON text, to store."""

    summary: dict[str, Any]
    rows: SuiteRows


def request_fingerprint(graph_json: str, request: SuiteRequest) -> str:
    """The fingerprint of the suite `request` would generate (`suite_fingerprint`)."""
    graph, called = _graphs(graph_json, request)
    return _fingerprint(request, _bindings(graph, called, request.bindings))


def request_digest(request: SuiteRequest) -> str:
    """A hash of `request` as given, its bindings read (a `Source`, or None): the inputs
    `suite_fingerprint` hashes, but the bindings' text for the bindings as parsed, with the
    protocols installed, whose plug-ins parse the bindings' actions. Equal digests mean equal
    fingerprints, so a request seen before is looked up without parsing its bindings."""
    from orchestra.binding.yamlsource import Source
    from orchestra.protocols.registry import protocol_registry

    assert request.bindings is None or isinstance(request.bindings, Source), "read first"
    inputs = {
        "process": request.process_id,
        "called": sorted(stored.id for stored in request.called.values()),
        "bindings": None if request.bindings is None else request.bindings.text,
        "criterion": str(request.criterion),
        "parameters": request.parameters,
        "orchestra": _orchestra_version(),
        "protocols": [[entry.origin, entry.error] for entry in protocol_registry().entries],
    }
    return _hash(inputs)


def _bindings_source(bindings: str | Path | Source | None) -> Source | None:
    """A binding file or text as `Source`, read (a Source is a text in hand already)."""
    from orchestra.binding.yamlsource import Source, read_source

    if bindings is None or isinstance(bindings, Source):
        return bindings
    return read_source(bindings)


def _fingerprint(request: SuiteRequest, bound: Bindings) -> str:
    called_ids = [stored.id for stored in request.called.values()]
    return suite_fingerprint(
        request.process_id, called_ids, bound, request.criterion, request.parameters
    )


def generated_rows(graph_json: str, request: SuiteRequest) -> GeneratedRows:
    """Generate the suite, attach its bindings and derive its data: the whole CPU-bound part
    of `generate`, from the graph's JSON text to the rows' (run off the event loop)."""
    from orchestra.binding.attach import attach_bindings
    from orchestra.domain.generation import generate_suite

    graph, called = _graphs(graph_json, request)
    bound = _bindings(graph, called, request.bindings)
    fingerprint = _fingerprint(request, bound)
    generated = generate_suite(
        graph,
        process_key=request.process_key,
        process_version=request.process_version,
        criterion=request.criterion,
        loop_bound=request.parameters["loop_bound"],
        max_scenarios=request.parameters["max"],
        called=called,
        cancels=sorted(key for key, task in bound.tasks.items() if task.cancels_transaction),
    )
    generated = _with_called_versions(generated, request.called)
    boundary = request.parameters.get("data") == BOUNDARY
    generated, report = _with_data(generated, graph, called, boundary)
    suite, unbound = attach_bindings(generated, bound)
    summarized = {
        **summary(0, suite, unbound),
        "conditions": report.to_json(),
        **_row_conflicts(suite.scenarios, request.data_rows),
    }
    del summarized["suite"]  # its id: given once stored
    rows = suite_rows(suite, unbound=unbound, fingerprint=fingerprint)
    return GeneratedRows(summarized, rows)


def _graphs(graph_json: str, request: SuiteRequest) -> tuple[ProcessGraph, dict[str, ProcessGraph]]:
    """The process's graph and its called processes', parsed and validated from their text."""
    called = {
        key: ProcessGraph.model_validate_json(stored.graph_json)
        for key, stored in request.called.items()
    }
    return ProcessGraph.model_validate_json(graph_json), called


def _row_conflicts(
    scenarios: Sequence[TestScenario], rows: Sequence[Mapping[str, Any]] | None
) -> dict[str, Any]:
    """`row_conflicts`: the data rows that contradict a scenario's path, when rows are given."""
    if rows is None:
        return {}
    from orchestra.services.running import row_conflicts

    return {"row_conflicts": [c.to_json() for c in row_conflicts(scenarios, rows)]}


async def data_set_rows(db: Database, data_set: str) -> tuple[dict[str, Any], ...]:
    """The rows of a data set file (read, not imported), or of an imported data set."""
    path = Path(data_set)
    if await asyncio.to_thread(path.is_file):
        from orchestra.binding.datasets import load_dataset

        return tuple(await asyncio.to_thread(load_dataset, path))
    async with db.transaction() as uow:
        found = await uow.config.data_set(data_set)
    if found is None:
        raise NotFound("data set", data_set)
    return found.rows


def _with_data(
    suite: GeneratedSuite, graph: ProcessGraph, called: dict[str, ProcessGraph], boundary: bool
) -> tuple[GeneratedSuite, DataReport]:
    """Each scenario's data from the gateway conditions on its path (z3 loads only when a
    condition is read); with `boundary`, its boundary variants after it."""
    from orchestra.domain.conditions.suites import derive_data

    working, _ = inline_calls(graph, called)
    if boundary:
        suite = suite.model_copy(update={"parameters": {**suite.parameters, "data": BOUNDARY}})

    def every() -> tuple[TestScenario, ...] | None:
        return _every_path(suite, graph, called)

    return derive_data(suite, graph, working, every, boundary=boundary)


# The most paths all-flows and all-nodes plan around infeasible scenarios with. Enumerating
# up to the cap costs little (0.1-0.6 s to give up on 1,000-node models) where a cap of
# 300-1,000 took 10-15 s on the same models, which multiply parallel branches' paths.
ALTERNATIVE_PATHS = 200


def _every_path(
    suite: GeneratedSuite, graph: ProcessGraph, called: dict[str, ProcessGraph]
) -> tuple[TestScenario, ...] | None:
    """The all-paths scenarios that all-flows and all-nodes plan around infeasible ones
    with; None when there are too many or the model is not block-structured."""
    from orchestra.domain.generation import generate_suite

    try:
        every = generate_suite(
            graph,
            process_key=suite.process_key,
            process_version=suite.process_version,
            criterion=Criterion.ALL_PATHS,
            loop_bound=int(suite.parameters.get("loop_bound", DEFAULT_LOOP_BOUND)),
            max_scenarios=ALTERNATIVE_PATHS,
            called=called,
        )
    except OrchestraError:  # GenerationLimit, InputRefused (not block-structured)
        return None
    return every.scenarios


def suite_fingerprint(
    process_id: int,
    called_ids: Iterable[int],
    bound: Bindings,
    criterion: Criterion,
    parameters: dict[str, int],
) -> str:
    """A hash of everything a generated suite depends on: the process version and those it
    inlines (by their ids), the bindings as parsed (so comments and layout do not count), the
    criterion, its parameters and Orchestra's version (a newer generator may generate
    otherwise)."""
    inputs = {
        "process": process_id,
        "called": sorted(called_ids),
        "bindings": bound.model_dump(mode="json"),
        "criterion": str(criterion),
        "parameters": parameters,
        "orchestra": _orchestra_version(),
    }
    return _hash(inputs)


def _hash(inputs: dict[str, Any]) -> str:
    """The SHA-256 of `inputs` as canonical JSON (keys sorted, no spaces)."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@cache
def _orchestra_version() -> str:
    try:
        return metadata.version("orchestra")
    except metadata.PackageNotFoundError:  # run from a source tree without installing
        return "unknown"


def _bindings(
    graph: ProcessGraph,
    called: dict[str, ProcessGraph],
    bindings: str | Path | Source | None,
) -> Bindings:
    """Bound against the graph with its calls inlined: the tasks of a called process are bound
    by their ids there (`call/task`) or their names, like the caller's own. A Source is a text
    in hand (an API request): never read as a file name."""
    from orchestra.binding.loader import bindings_for, merge_bindings, parse_bindings
    from orchestra.binding.yamlsource import Source

    graph, _ = inline_calls(graph, called)
    if isinstance(bindings, Source):
        return merge_bindings(bindings_for(graph), parse_bindings(bindings, graph))
    return bindings_for(graph, bindings)


async def _called_processes(uow: UnitOfWork, graph: ProcessGraph) -> dict[str, StoredProcess]:
    """The newest imported version of every process its call activities reach (to a depth)."""
    return await _reached(called_keys(graph), uow.processes.get, lambda p: called_keys(p.graph))


async def _called_texts(uow: UnitOfWork, process: ProcessText) -> dict[str, ProcessText]:
    """`_called_processes`, their graphs left as text."""
    return await _reached(list(process.called), uow.processes.get_text, lambda p: p.called)


async def _reached(
    wanted: Sequence[str],
    newest: Callable[[str], Awaitable[StoredT | None]],
    calls: Callable[[StoredT], Iterable[str]],
) -> dict[str, StoredT]:
    """The `newest` stored version of each process `wanted` and, to a depth, of those its
    versions' `calls` name."""
    found: dict[str, StoredT] = {}
    for _ in range(DEFAULT_CALL_DEPTH):
        missing = [key for key in wanted if key not in found]
        for key in missing:
            stored = await newest(key)
            if stored is not None:
                found[key] = stored
        wanted = [k for key in missing if key in found for k in calls(found[key])]
    return found


def _with_called_versions(
    suite: GeneratedSuite, called: Mapping[str, ProcessText]
) -> GeneratedSuite:
    """`called_versions`: the version of each inlined process, for the reports to draw it."""
    inlined = suite.parameters.get("inlined_calls") or []
    if not inlined:
        return suite
    versions = {key: called[key].version for key in inlined if key in called}
    parameters = {**suite.parameters, "called_versions": versions}
    return suite.model_copy(update={"parameters": parameters})


def summary(suite_id: int, suite: GeneratedSuite, unbound: list[str]) -> dict[str, Any]:
    return {
        "suite": suite_id,
        "process": {"key": suite.process_key, "version": suite.process_version},
        "criterion": suite.criterion,
        "parameters": suite.parameters,
        "scenarios": len(suite.scenarios),
        "scenario_names": [scenario.name for scenario in suite.scenarios],
        "coverage": suite.coverage.model_dump(mode="json"),
        "unbound": unbound,
        "unset_variables": _unset_variables(suite.scenarios),
        "reused": False,
    }


def stored_summary(suite: StoredSuite) -> dict[str, Any]:
    """`summary` of a suite stored earlier, reused."""
    return {
        "suite": suite.id,
        "process": {"key": suite.process_key, "version": suite.process_version},
        "criterion": suite.criterion,
        "parameters": suite.parameters,
        "scenarios": len(suite.scenarios),
        "scenario_names": [stored.scenario.name for stored in suite.scenarios],
        "coverage": suite.coverage.model_dump(mode="json"),
        "unbound": list(suite.unbound),
        "unset_variables": _unset_variables(tuple(stored.scenario for stored in suite.scenarios)),
        "reused": True,
    }


def _unset_variables(scenarios: tuple[TestScenario, ...]) -> list[dict[str, Any]]:
    """Each `vars.X` / `suite.X` a step reads that nothing before it provides (a warning:
    the step would end in ERROR when it runs), as `binding.variables.UnsetRead.to_json`."""
    from orchestra.binding.variables import unset_reads

    return [read.to_json() for read in unset_reads(scenarios)]


async def list_suites(db: Database) -> list[StoredSuite]:
    async with db.transaction() as uow:
        return await uow.suites.list()


async def show(db: Database, suite_id: int) -> StoredSuite:
    async with db.transaction() as uow:
        suite = await uow.suites.get(suite_id)
    if suite is None:
        raise NotFound("suite", suite_id)
    return suite
