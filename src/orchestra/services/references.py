"""Use case: find the suite or suite run a user named (an id, `latest`, or a process's name;
see `orchestra.domain.references`). A reference that finds nothing is `NotFound`, saying
what was looked for; one that cannot be parsed is a `UsageError`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from orchestra.domain.references import (
    SuiteRef,
    SuiteRunRef,
    parse_suite_ref,
    parse_suite_run_ref,
)
from orchestra.errors import NotFound
from orchestra.store.database import Database
from orchestra.store.repositories import UnitOfWork

T = TypeVar("T")

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
    keys = [] if match is not None else await uow.processes.keys_named(ref.process)
    if len(keys) == 1:  # a process named by its name (`by_key_or_name`)
        match = await uow.references.find_suite(keys[0], ref.version, ref.criterion)
    if match is None:
        several = f"{ref.process!r} names the processes {', '.join(keys)}: name one by its id"
        reason = several if len(keys) > 1 else _no_process(ref.process, ref.version)
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


async def by_key_or_name(
    uow: UnitOfWork, reference: str, key: str, lookup: Callable[[str], Awaitable[T | None]]
) -> T:
    """What `lookup` finds of process `key`, or of the one process whose newest version is
    named `key` when no process has that id: modellers give processes ids like Process_1w6j4ag,
    people call them by the names they drew. NotFound of `reference` otherwise."""
    found = await lookup(key)
    if found:
        return found
    keys = await uow.processes.keys_named(key)
    if len(keys) == 1:
        found = await lookup(keys[0])
        if found:
            return found
    several = f"{key!r} names the processes {', '.join(keys)}: name one by its id"
    raise NotFound("process", reference, reason=several if len(keys) > 1 else None)


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
