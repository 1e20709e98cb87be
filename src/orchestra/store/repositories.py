"""Repositories: domain objects in, domain objects out, over one connection and transaction."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from orchestra.domain.process import Problem, ProcessGraph
from orchestra.domain.records import (
    DataSet,
    Environment,
    ProcessText,
    StoredProcess,
    StoredScenario,
    StoredStep,
    StoredSuite,
)
from orchestra.domain.scenario import GeneratedSuite, ScenarioStep, TestScenario
from orchestra.store.base import Repository
from orchestra.store.jsontext import json_dumps
from orchestra.store.references import ReferenceRepository
from orchestra.store.suiterows import SuiteRows, suite_rows

if TYPE_CHECKING:
    from orchestra.domain.history import DataSetHead, ProcessVersion
    from orchestra.store.runs import RunRepository
    from orchestra.store.watching import WatchRepository

Connection = psycopg.AsyncConnection[DictRow]
# characters of a data set's JSON text sent in one statement (see `store_data_set_parts`)
DATA_SET_PART = 1024 * 1024


class ProcessRepository(Repository):
    async def add_version(
        self,
        graph: ProcessGraph,
        *,
        checksum: str,
        source_xml: str,
        source_name: str | None,
        problems: Sequence[Problem] = (),
        graph_json: str | None = None,
    ) -> tuple[StoredProcess, bool]:
        """Store `graph` as the key's next version, unless this content is stored already;
        `graph_json`, its dump (`graph_dump`) when the caller wrote it off the event loop.

        Returns the process and whether it is new. Concurrent imports of one key are serialized.
        """
        await self._execute("lock_key", key=graph.id)
        existing = await self.get_by_checksum(graph.id, checksum)
        if existing is not None:
            return existing, False
        version_row = await self._one("next_version", key=graph.id)
        assert version_row is not None
        row = await self._one(
            "insert_process",
            key=graph.id,
            version=version_row["version"],
            name=graph.name,
            source_name=source_name,
            source_xml=source_xml,
            checksum=checksum,
            graph=Jsonb(graph_json or graph_dump(graph), dumps=_as_is),
            problems=Jsonb([p.model_dump(mode="json") for p in problems]),
        )
        assert row is not None
        stored = StoredProcess.model_construct(
            id=row["id"],
            key=graph.id,
            version=version_row["version"],
            name=graph.name,
            checksum=checksum,
            graph=graph,
            problems=tuple(problems),
            source_name=source_name,
            imported_at=row["imported_at"],
        )
        return stored, True

    async def get_by_checksum(self, key: str, checksum: str) -> StoredProcess | None:
        row = await self._one("get_by_checksum", key=key, checksum=checksum)
        return _process(row) if row else None

    async def stored_from_source(self, source_xml: str) -> list[StoredProcess]:
        """The processes stored from this very file text, in the order they were stored."""
        return [_process(row) for row in await self._all("get_by_source", source_xml=source_xml)]

    async def get(self, key: str, version: int | None = None) -> StoredProcess | None:
        if version is None:
            row = await self._one("get_latest", key=key)
        else:
            row = await self._one("get_version", key=key, version=version)
        return _process(row) if row else None

    async def get_text(self, key: str, version: int | None = None) -> ProcessText | None:
        """`get`, the graph left as JSON text (no parse, no validation on the event loop)."""
        rows = await self._filtered("get_unparsed", key=key, version=version)
        if not rows:
            return None
        row = rows[0]
        return ProcessText(
            id=row["id"],
            key=row["key"],
            version=row["version"],
            graph_json=row["graph_json"],
            called=tuple(dict.fromkeys(row["called"])),
        )

    async def get_by_id(self, process_id: int) -> StoredProcess | None:
        row = await self._one("get_by_id", id=process_id)
        return _process(row) if row else None

    async def list_latest(self) -> list[StoredProcess]:
        return [_process(row) for row in await self._all("list_latest")]

    async def keys_named(self, name: str) -> list[str]:
        """The keys of the processes whose newest version is named `name`."""
        return [row["key"] for row in await self._all("keys_named", name=name)]

    async def versions(self, key: str) -> list[ProcessVersion]:
        """Every version of process `key`, newest first (none: no such process)."""
        from orchestra.domain.history import ProcessVersion

        rows = await self._all("list_versions", key=key)
        return [ProcessVersion.model_validate(row) for row in rows]

    async def source(self, process_id: int) -> str | None:
        row = await self._one("get_source", id=process_id)
        return None if row is None else str(row["source_xml"])


def graph_dump(graph: ProcessGraph) -> str:
    """The JSON text a process's graph is stored as."""
    return json_dumps(graph.model_dump(mode="json", exclude_defaults=True))


def _as_is(text: str) -> str:
    return text


def _process(row: DictRow) -> StoredProcess:
    return StoredProcess(
        id=row["id"],
        key=row["key"],
        version=row["version"],
        name=row["name"],
        checksum=row["checksum"],
        graph=ProcessGraph.model_validate(row["graph"]),
        problems=tuple(Problem.model_validate(p) for p in row["problems"]),
        source_name=row["source_name"],
        imported_at=row["imported_at"],
    )


class SuiteRepository(Repository):
    async def add(
        self,
        process_id: int,
        suite: GeneratedSuite,
        *,
        unbound: Iterable[str] = (),
        fingerprint: str | None = None,
    ) -> int:
        """Store a generated suite with its scenarios and steps; returns the suite id."""
        rows = suite_rows(suite, unbound=unbound, fingerprint=fingerprint)
        return await self.add_rows(process_id, rows)

    async def add_rows(self, process_id: int, rows: SuiteRows) -> int:
        """Store a suite from its rows' JSON text (`store.suiterows`); returns the suite id."""
        row = await self._one(
            "insert_suite",
            process_id=process_id,
            fingerprint=rows.fingerprint,
            criterion=rows.criterion,
            parameters=Jsonb(rows.parameters, dumps=_as_is),
            coverage=Jsonb(rows.coverage, dumps=_as_is),
            unbound=Jsonb(rows.unbound, dumps=_as_is),
        )
        assert row is not None
        suite_id = int(row["id"])
        await self._run(
            "insert_scenarios", {"suite_id": suite_id, "scenarios": rows.scenarios}, prepare=False
        )
        for part in rows.steps:
            await self._run("insert_steps", {"suite_id": suite_id, "steps": part}, prepare=False)
        return suite_id

    async def get(self, suite_id: int) -> StoredSuite | None:
        row = await self._one("get_suite", id=suite_id)
        return None if row is None else await self._with_scenarios(row)

    async def _with_scenarios(self, row: DictRow) -> StoredSuite:
        """The suite of `row` (as `get_suite` reads it) with its scenarios and steps."""
        suite_id = row["id"]
        steps: dict[int, list[StoredStep]] = {}
        for step in await self._all("get_steps", suite_id=suite_id):
            steps.setdefault(step["scenario_id"], []).append(_step(step))
        scenarios = tuple(
            _scenario(s, steps.get(s["id"], []))
            for s in await self._all("get_scenarios", suite_id=suite_id)
        )
        return _suite(row, scenarios)

    async def scenario(self, scenario_id: int) -> StoredScenario | None:
        row = await self._one("get_scenario", id=scenario_id)
        if row is None:
            return None
        steps = [
            _step(step) for step in await self._all("get_scenario_steps", scenario_id=scenario_id)
        ]
        return _scenario(row, steps)

    async def by_fingerprint(self, fingerprint: str) -> StoredSuite | None:
        """The newest suite generated from the inputs `fingerprint` hashes, if any."""
        row = await self._one("suite_by_fingerprint", fingerprint=fingerprint)
        return None if row is None else await self.get(int(row["id"]))

    async def by_request(self, digest: str) -> StoredSuite | None:
        """The newest suite of the fingerprint a request with `digest` was found to have."""
        row = await self._one("suite_by_request", digest=digest)
        return None if row is None else await self._with_scenarios(row)

    async def remember_request(self, digest: str, fingerprint: str, suite_id: int) -> None:
        """That a request with `digest` has `fingerprint` (`by_request` then finds its suite),
        for as long as the suite `suite_id`, found or generated for it, exists."""
        await self._execute(
            "remember_request", digest=digest, fingerprint=fingerprint, suite_id=suite_id
        )

    async def list(self) -> list[StoredSuite]:
        return [_suite(row, ()) for row in await self._all("list_suites")]


def _step(row: DictRow) -> StoredStep:
    step = ScenarioStep(
        position=row["position"],
        kind=row["kind"],
        element_id=row["element_id"],
        name=row["name"],
        branch=row["branch"],
        spec=row["spec"],
        meta=row["meta"],
    )
    return StoredStep(id=row["id"], step=step)


def _scenario(row: DictRow, steps: list[StoredStep]) -> StoredScenario:
    scenario = TestScenario.model_validate(
        {
            "name": row["name"],
            "position": row["position"],
            "path": row["path"],
            "branch_paths": row["branch_paths"],
            "decisions": row["decisions"],
            "depends_on": row["depends_on"],
            "cleanup": row["cleanup"],
            "steps": [s.step.model_dump() for s in steps],
        }
    )
    return StoredScenario(id=row["id"], scenario=scenario, steps=tuple(steps))


def _suite(row: DictRow, scenarios: tuple[StoredScenario, ...]) -> StoredSuite:
    return StoredSuite.model_validate(
        {**row, "unbound": tuple(row["unbound"]), "scenarios": scenarios}
    )


class ConfigRepository(Repository):
    """Data sets and environments: named, replaced as a whole by a new import."""

    async def upsert_data_set(self, name: str, rows: Sequence[dict[str, Any]]) -> DataSet:
        # As Jsonb, not text: a value PostgreSQL refuses (NaN) is then named in the refusal.
        row = await self._one(
            "upsert_data_set", name=name, rows=Jsonb(list(rows)), source_digest=None
        )
        assert row is not None
        return DataSet.model_construct(id=int(row["id"]), name=name, rows=tuple(rows))

    async def store_data_set_parts(
        self, name: str, parts: Iterable[str], source_digest: str | None = None
    ) -> int:
        """Store data set `name` from its rows' JSON array text in `parts` (together, the text),
        one statement each; its id. psycopg encodes a parameter and libpq copies (and re-copies
        while sending) it in single calls on the event loop: a part is what the loop is held
        for, and what is in memory at once (`DATA_SET_PART` characters, from a file).
        `source_digest`: the digest of the file content the rows come from."""
        parts = iter(parts)
        first = next(parts, "[]")
        second = next(parts, None)
        if second is None:  # one part: one statement, and none at all for unchanged rows
            row = await self._one(
                "upsert_data_set", name=name, rows=first, source_digest=source_digest
            )
            assert row is not None
            return int(row["id"])
        await self._run("create_data_set_parts", {}, prepare=False)
        for n, part in enumerate(itertools.chain((first, second), parts)):
            await self._run("add_data_set_part", {"n": n, "part": part}, prepare=False)
        row = await self._one("upsert_data_set_from_parts", name=name, source_digest=source_digest)
        assert row is not None
        return int(row["id"])

    async def data_set(self, name: str) -> DataSet | None:
        row = await self._one("get_data_set", name=name)
        return DataSet.model_validate(row) if row else None

    async def data_set_from(self, name: str, source_digest: str) -> DataSet | None:
        """Data set `name` when last stored from the file content with this digest."""
        row = await self._one("get_data_set_from", name=name, source_digest=source_digest)
        return DataSet.model_validate(row) if row else None

    async def data_set_by_id(self, data_set_id: int) -> DataSet | None:
        row = await self._one("get_data_set_by_id", id=data_set_id)
        return DataSet.model_validate(row) if row else None

    async def data_sets(self) -> list[DataSet]:
        return [DataSet.model_validate(row) for row in await self._all("list_data_sets")]

    async def data_set_names(self) -> list[str]:
        return [str(row["name"]) for row in await self._all("list_data_set_names")]

    async def data_set_heads(self, head: int) -> list[DataSetHead]:
        """Every data set with its first `head` rows (at least 1) and its number of rows."""
        from orchestra.domain.history import DataSetHead

        rows = await self._all("list_data_set_heads", head=max(head, 1))
        return [DataSetHead.model_validate(row) for row in rows]

    async def upsert_environment(
        self,
        name: str,
        configuration: dict[str, Any],
        secret_refs: Sequence[str],
        source_digest: str | None = None,
    ) -> Environment:
        """`source_digest`: the digest of the file content the configuration comes from."""
        row = await self._one(
            "upsert_environment",
            name=name,
            configuration=Jsonb(configuration),
            secret_refs=Jsonb(sorted(set(secret_refs))),
            source_digest=source_digest,
        )
        assert row is not None
        return Environment.model_validate(row)

    async def environment(self, name: str) -> Environment | None:
        row = await self._one("get_environment", name=name)
        return Environment.model_validate(row) if row else None

    async def environment_from(self, source_digest: str) -> Environment | None:
        """The environment last stored from the file content with this digest."""
        row = await self._one("get_environment_from", source_digest=source_digest)
        return Environment.model_validate(row) if row else None

    async def environment_by_id(self, environment_id: int) -> Environment | None:
        row = await self._one("get_environment_by_id", id=environment_id)
        return Environment.model_validate(row) if row else None

    async def environments(self) -> list[Environment]:
        return [Environment.model_validate(row) for row in await self._all("list_environments")]


class UnitOfWork:
    """The repositories of one transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.processes = ProcessRepository(conn)
        self.suites = SuiteRepository(conn)
        self.config = ConfigRepository(conn)
        self.references = ReferenceRepository(conn)

    @cached_property
    def runs(self) -> RunRepository:
        # imported on first use: listing processes or suites needs no runs (nor their modules)
        from orchestra.store.runs import RunRepository

        return RunRepository(self.conn)

    @cached_property
    def watch(self) -> WatchRepository:
        from orchestra.store.watching import WatchRepository

        return WatchRepository(self.conn)
