"""Which process `orchestra test` tests: `--process` by id, else by a name only one has."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestra.domain.process import Node, NodeCategory, ProcessGraph
from orchestra.domain.records import StoredProcess
from orchestra.errors import UsageError
from orchestra.services.testing import TestPlan, _tested_process


def stored(key: str, name: str | None) -> StoredProcess:
    start = Node(id=f"{key}_start", category=NodeCategory.START_EVENT, type="startEvent")
    return StoredProcess(
        id=len(key),
        key=key,
        version=1,
        name=name,
        checksum="0",
        graph=ProcessGraph(id=key, name=name, nodes=(start,)),
        imported_at=datetime.now(UTC),
    )


PROCESSES = [stored("Process_1", "Customer"), stored("Process_2", "Carrier"), stored("P3", None)]


def chosen(process: str | None, every: list[StoredProcess] = PROCESSES) -> StoredProcess:
    plan = TestPlan(models=(Path("model.bpmn"),), bindings=None, env="local", process=process)
    return _tested_process(plan, every, every)


def test_a_process_is_named_by_its_id_or_by_its_name() -> None:
    assert chosen("Process_2").key == "Process_2"
    assert chosen("Customer").key == "Process_1"


def test_an_id_wins_over_a_name() -> None:
    every = [*PROCESSES, stored("Customer", "Other")]

    assert chosen("Customer", every).key == "Customer"


def test_a_name_two_processes_have_is_refused_listing_them() -> None:
    every = [*PROCESSES, stored("Process_4", "Customer")]

    with pytest.raises(UsageError) as refused:
        chosen("Customer", every)

    assert refused.value.message == (
        "several processes are named 'Customer': Process_1 ('Customer'), Process_4 ('Customer');"
        " say which by its id with --process KEY"
    )


def test_without_process_the_listing_names_them() -> None:
    with pytest.raises(UsageError) as refused:
        chosen(None)

    assert "holds the processes Process_1 ('Customer'), Process_2 ('Carrier'), P3:" in (
        refused.value.message
    )
