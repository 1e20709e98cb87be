"""Use case: find the suite or suite run a user named (an id, `latest`, or a process's name;
see `orchestra.domain.references`). A reference that finds nothing is `NotFound`, saying
what was looked for; one that cannot be parsed is a `UsageError`."""

from __future__ import annotations

from orchestra.domain.references import (
    SuiteRef,
    SuiteRunRef,
    parse_suite_ref,
    parse_suite_run_ref,
)
from orchestra.errors import NotFound
from orchestra.store.database import Database
from orchestra.store.repositories import UnitOfWork

MAX_ID = 2**63 - 1  # a bigint: no row has a larger id


async def suite_id(db: Database, reference: str | int | SuiteRef) -> int:
    """The id of the suite `reference` names."""
    async with db.transaction() as uow:
        return await find_suite(uow, _suite_ref(reference))


async def suite_run_id(db: Database, reference: str | int | SuiteRunRef) -> int:
    """The id of the suite run `reference` names."""
    async with db.transaction() as uow:
        return await find_suite_run(uow, _suite_run_ref(reference))


async def find_suite(uow: UnitOfWork, ref: SuiteRef) -> int:
    if ref.id is not None:
        if ref.id > MAX_ID or not await uow.references.suite_exists(ref.id):
            raise NotFound("suite", ref.id)
        return ref.id
    if ref.latest:
        newest = await uow.references.newest_suite()
        if newest is None:
            raise NotFound("suite", ref.text, reason="no suite has been generated")
        return newest
    assert ref.process is not None
    match = await uow.references.find_suite(ref.process, ref.version, ref.criterion)
    if match is None:
        named = await _named_instead(uow, ref.process)
        reason = named or _no_process(ref.process, ref.version)
        raise NotFound("suite", ref.text, reason=reason)
    if match.suite_id is None:
        raise NotFound("suite", ref.text, reason=_no_suite(ref, match.version))
    return match.suite_id


async def find_suite_run(uow: UnitOfWork, ref: SuiteRunRef) -> int:
    if ref.id is not None:
        if ref.id > MAX_ID or not await uow.references.suite_run_exists(ref.id):
            raise NotFound("suite run", ref.id)
        return ref.id
    if ref.suite is None:  # `latest`
        newest = await uow.references.newest_suite_run()
        if newest is None:
            raise NotFound("suite run", ref.text, reason="no suite run has been started")
        return newest
    suite = await find_suite(uow, ref.suite)
    newest = await uow.references.newest_suite_run(suite)
    if newest is None:
        raise NotFound("suite run", ref.text, reason=f"suite {suite} has not been run")
    return newest


async def process_not_found(uow: UnitOfWork, reference: str, key: str) -> NotFound:
    """`no process REFERENCE`, saying which process it is when `key` is a process's name (a
    modeller's ids, such as Process_1w6j4ag, are not what people call their processes)."""
    return NotFound("process", reference, reason=await _named_instead(uow, key))


async def _named_instead(uow: UnitOfWork, key: str) -> str | None:
    keys = await uow.processes.keys_named(key)
    if not keys:
        return None
    which = f"process {keys[0]}" if len(keys) == 1 else f"processes {', '.join(keys)}"
    return f"{key!r} is the name of {which}, not an id: name it by its id"


def _no_process(key: str, version: int | None) -> str:
    if version is None:
        return f"process {key!r} is not imported"
    return f"process {key!r} has no version {version}"


def _no_suite(ref: SuiteRef, version: int) -> str:
    newest = ", its newest," if ref.version is None else ""
    criterion = f"{ref.criterion} " if ref.criterion else ""
    return f"version {version} of process {ref.process!r}{newest} has no {criterion}suite"


def _suite_ref(reference: str | int | SuiteRef) -> SuiteRef:
    if isinstance(reference, SuiteRef):
        return reference
    if isinstance(reference, int):
        return SuiteRef(text=str(reference), id=reference)
    return parse_suite_ref(reference)


def _suite_run_ref(reference: str | int | SuiteRunRef) -> SuiteRunRef:
    if isinstance(reference, SuiteRunRef):
        return reference
    if isinstance(reference, int):
        return SuiteRunRef(text=str(reference), id=reference)
    return parse_suite_run_ref(reference)
