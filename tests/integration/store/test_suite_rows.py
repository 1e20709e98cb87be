"""A suite's rows are stored from their JSON text, its steps in as many parts as they take."""

from __future__ import annotations

from orchestra.services import generating
from orchestra.store.database import Database
from orchestra.store.suiterows import suite_rows
from tests.unit.generation.models import model

BRANCHES = model("s>x1", "x1>a", "x1>b", "a>c", "b>c", "c>e")


async def test_steps_sent_in_parts_of_one_step_are_stored_whole_and_in_order(
    db: Database,
) -> None:
    from orchestra.domain.generation import generate_suite

    async with db.transaction() as uow:
        process, _ = await uow.processes.add_version(
            BRANCHES, checksum="c", source_xml="<x/>", source_name=None
        )
    suite = generate_suite(BRANCHES, process_key="p", process_version=1)
    rows = suite_rows(suite, unbound=["b", "a", "a"], fingerprint="f", part=1)
    assert len(rows.steps) == sum(len(s.steps) for s in suite.scenarios) > 1
    async with db.transaction() as uow:
        suite_id = await uow.suites.add_rows(process.id, rows)
    stored = await generating.show(db, suite_id)
    assert [s.scenario for s in stored.scenarios] == list(suite.scenarios)
    assert stored.unbound == ("a", "b")
    assert stored.fingerprint == "f"
    assert stored.coverage == suite.coverage


async def test_a_process_is_read_with_its_graph_as_text_and_the_keys_it_calls(
    db: Database,
) -> None:
    from orchestra.domain.process import NodeCategory, ProcessGraph
    from tests.unit.generation.models import node

    calls = (
        node("c1", category=NodeCategory.CALL_ACTIVITY, type="callActivity", called_element="z"),
        node("c2", category=NodeCategory.CALL_ACTIVITY, type="callActivity", called_element="y"),
        node("c3", category=NodeCategory.CALL_ACTIVITY, type="callActivity", called_element="z"),
    )
    caller = model("s>c1", "c1>c2", "c2>c3", "c3>e", extra=calls)
    async with db.transaction() as uow:
        await uow.processes.add_version(caller, checksum="c", source_xml="<x/>", source_name=None)
        newest = await uow.processes.get_text("p")
        first = await uow.processes.get_text("p", 1)
        missing = await uow.processes.get_text("p", 2)
    assert newest is not None
    assert newest == first
    assert newest.called == ("z", "y")
    assert ProcessGraph.model_validate_json(newest.graph_json) == caller
    assert missing is None
