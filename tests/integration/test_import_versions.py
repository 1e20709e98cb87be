"""Importing into a real PostgreSQL: versions, idempotence, and nothing stored when refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestra.bpmn import Limits, checksum
from orchestra.errors import BpmnRefused, NotFound
from orchestra.services import importing
from orchestra.store.database import Database
from orchestra.store.queries import sql
from tests.unit.bpmn.documents import LINEAR, ORDER_BPMN, definitions, process


async def import_file(
    db: Database, data: bytes, source: str = "order.bpmn"
) -> importing.FileImport:
    async with db.transaction() as uow:
        return await importing.import_bpmn(uow, data, source=source)


async def stored_rows(db: Database) -> list[tuple[str, int]]:
    async with db.connection() as conn:
        cursor = await conn.execute("SELECT key, version FROM process ORDER BY key, version")
        return [(row["key"], row["version"]) for row in await cursor.fetchall()]


async def test_importing_the_same_file_twice_gives_the_same_version(db: Database) -> None:
    first = await import_file(db, ORDER_BPMN)
    again = await import_file(db, ORDER_BPMN)
    (one,), (two,) = first.processes, again.processes
    assert (one.created, two.created) == (True, False)
    assert one.stored.id == two.stored.id
    assert await stored_rows(db) == [("Order", 1)]


async def test_reformatting_the_file_is_not_a_new_version(db: Database) -> None:
    await import_file(db, ORDER_BPMN)
    await import_file(db, ORDER_BPMN.replace(b"<bpmn:process ", b"\n\n<bpmn:process "))
    assert await stored_rows(db) == [("Order", 1)]


async def test_changed_content_is_the_next_version_and_older_versions_stay(db: Database) -> None:
    await import_file(db, ORDER_BPMN)
    changed = await import_file(db, ORDER_BPMN.replace(b"approved = true", b"approved"))
    assert changed.processes[0].stored.version == 2
    assert await stored_rows(db) == [("Order", 1), ("Order", 2)]
    async with db.transaction() as uow:
        latest = await importing.show_process(uow, "Order")
        first = await importing.show_process(uow, "Order", 1)
    assert latest.version == 2
    assert first.graph.flow_by_id["Flow_Yes"].condition is not None
    assert latest.graph.flow_by_id["Flow_Yes"].condition is not None
    assert latest.graph.flow_by_id["Flow_Yes"].condition.text == "approved"


async def test_the_stored_process_keeps_graph_checksum_problems_and_the_whole_source(
    db: Database,
) -> None:
    data = process(LINEAR, attributes='isExecutable="false"')
    (item,) = (await import_file(db, data, source="linear.bpmn")).processes
    stored = item.stored
    assert stored.checksum == checksum(stored.graph)
    assert [p.code for p in stored.problems] == ["not-executable"]
    assert stored.source_name == "linear.bpmn"
    assert set(stored.graph.flow_by_id) == {"F1", "F2"}
    async with db.transaction() as uow:
        assert await uow.processes.source(stored.id) == data.decode()


async def test_each_process_of_a_collaboration_is_its_own_process(db: Database) -> None:
    data = definitions(
        """<collaboration id="C"><participant id="PA" processRef="A"/>
           <participant id="PB" processRef="B"/></collaboration>
           <process id="A"><task id="TA"/></process><process id="B"><task id="TB"/></process>"""
    )
    outcome = await import_file(db, data)
    assert [p.stored.key for p in outcome.processes] == ["A", "B"]
    async with db.transaction() as uow:
        listed = await importing.list_processes(uow)
    assert [(p.key, p.version) for p in listed] == [("A", 1), ("B", 1)]


async def processes_of(db: Database, data: bytes) -> list[tuple[int, str, int]]:
    async with db.transaction() as uow:
        stored = await importing.import_processes(uow, data, source="order.bpmn")
    return [(p.id, p.key, p.version) for p in stored]


async def test_a_file_imported_before_gives_the_processes_stored_from_it(db: Database) -> None:
    data = definitions(
        '<process id="B"><task id="TB"/></process><process id="A"><task id="TA"/></process>',
        diagram_of=None,
    )
    first = await processes_of(db, data)
    async with db.transaction() as uow:
        assert await uow.processes.stored_from_source(data.decode()) != []
    again = await processes_of(db, data)
    assert [key for _, key, _ in first] == ["B", "A"]
    assert again == first
    assert await stored_rows(db) == [("A", 1), ("B", 1)]


async def test_a_file_sharing_a_process_stored_from_another_file_gives_all_its_processes(
    db: Database,
) -> None:
    shared = '<process id="A"><task id="TA"/></process>'
    await processes_of(db, definitions(shared, diagram_of=None))
    both = definitions(f'{shared}<process id="B"><task id="TB"/></process>', diagram_of=None)
    first = await processes_of(db, both)
    again = await processes_of(db, both)
    assert [(key, version) for _, key, version in first] == [("A", 1), ("B", 1)]
    assert again == first


async def test_a_file_imported_before_and_changed_since_is_the_next_version(
    db: Database,
) -> None:
    await processes_of(db, ORDER_BPMN)
    ((_, key, version),) = await processes_of(
        db, ORDER_BPMN.replace(b"approved = true", b"approved")
    )
    assert (key, version) == ("Order", 2)
    assert [v for _, _, v in await processes_of(db, ORDER_BPMN)] == [1]


async def test_a_latin1_file_is_stored_as_the_text_it_declares(db: Database) -> None:
    data = process(LINEAR.replace('<task id="T"/>', '<task id="T" name="Prüfung"/>'))
    data = data.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"').decode().encode("latin-1")
    (item,) = (await import_file(db, data)).processes
    assert item.stored.graph.node_by_id["T"].name == "Prüfung"
    async with db.transaction() as uow:
        source = await uow.processes.source(item.stored.id)
    assert source is not None
    assert 'name="Prüfung"' in source


@pytest.mark.parametrize(
    ("label", "data"),
    [
        ("malformed", process(LINEAR).replace(b"</process>", b"")),
        (
            "xxe",
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
            b"<definitions>&x;</definitions>",
        ),
        (
            "billion laughs",
            b'<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><d>&b;</d>',
        ),
        ("dangling flow", process(LINEAR + '<sequenceFlow id="F9" sourceRef="T" targetRef="X"/>')),
        ("not bpmn", b"<html/>"),
        ("deeply nested", process("<x>" * 300 + "</x>" * 300)),
        ("network xxe", b'<!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd"><definitions/>'),
    ],
)
async def test_a_refused_file_leaves_the_database_unchanged(
    db: Database, label: str, data: bytes
) -> None:
    await import_file(db, ORDER_BPMN)
    before = await stored_rows(db)
    with pytest.raises(BpmnRefused) as refused:
        await import_file(db, data, source=f"{label}.bpmn")
    assert refused.value.message.startswith(f"{label}.bpmn: ")
    assert await stored_rows(db) == before


async def test_an_oversized_file_leaves_the_database_unchanged(db: Database) -> None:
    with pytest.raises(BpmnRefused, match="above the limit"):
        async with db.transaction() as uow:
            await importing.import_bpmn(
                uow, ORDER_BPMN, source="big.bpmn", limits=Limits(max_bytes=1000)
            )
    assert await stored_rows(db) == []


async def test_a_model_with_errors_is_refused_with_every_problem(db: Database) -> None:
    data = process(LINEAR + '<sequenceFlow id="F9" sourceRef="T" targetRef="X"/><task/>')
    with pytest.raises(BpmnRefused) as refused:
        await import_file(db, data, source="broken.bpmn")
    problems = refused.value.details["problems"]
    assert {p["code"] for p in problems if p["severity"] == "error"} == {
        "dangling-flow",
        "missing-id",
    }
    assert "2 errors" in refused.value.message
    assert await stored_rows(db) == []


async def test_showing_a_missing_process_or_version_is_not_found(db: Database) -> None:
    await import_file(db, ORDER_BPMN)
    async with db.transaction() as uow:
        with pytest.raises(NotFound, match="no process 'Order@9'"):
            await importing.show_process(uow, "Order", 9)
        with pytest.raises(NotFound, match="no process 'Nope'"):
            await importing.show_process(uow, "Nope")


async def test_the_summary_counts_elements_by_kind_and_problems(db: Database) -> None:
    (item,) = (await import_file(db, ORDER_BPMN)).processes
    summary = importing.summary(item.stored)
    assert summary["counts"]["boundaryEvent"] == 2
    assert summary["counts"]["sequenceFlow"] == 15
    assert summary["counts"]["messageFlow"] == 2
    assert summary["counts_by_type"]["userTask"] == 1
    assert (summary["errors"], summary["warnings"], summary["has_diagram"]) == (0, 0, True)


def test_a_file_above_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.bpmn"
    path.write_bytes(ORDER_BPMN)
    with pytest.raises(BpmnRefused, match="above the limit of 100") as refused:
        importing.read_source(path, Limits(max_bytes=100))
    assert refused.value.details["code"] == "too-large"
    assert importing.read_source(path) == ORDER_BPMN


def test_an_unreadable_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(BpmnRefused, match="cannot read the file"):
        importing.read_source(tmp_path / "missing.bpmn")


def test_the_source_is_decoded_as_its_declaration_or_byte_order_mark_says() -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><a name="é"/>'
    assert importing.decode_source(text.encode("utf-16")) == text
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?><a name="é"/>'
    assert importing.decode_source(latin.encode("latin-1")) == latin
    assert importing.decode_source('<a name="é"/>'.encode()) == '<a name="é"/>'


async def test_the_processes_of_a_file_are_found_by_an_index_not_by_reading_every_text(
    db: Database,
) -> None:
    big = definitions(
        '<process id="Big"><documentation>' + "x" * 100_000 + '</documentation><task id="T"/>'
        "</process>",
        diagram_of=None,
    )
    await import_file(db, ORDER_BPMN)
    await import_file(db, big, source="big.bpmn")
    async with db.connection() as conn:
        await conn.execute("SET enable_seqscan = off")  # a few rows: a scan would be cheaper
        cursor = await conn.execute(
            "EXPLAIN (FORMAT JSON) " + sql("get_by_source"), {"source_xml": big.decode()}
        )
        row = await cursor.fetchone()
        await conn.execute("RESET enable_seqscan")
    assert row is not None
    assert "process_source_xml_idx" in str(row["QUERY PLAN"])  # a text of any size is indexed
    async with db.transaction() as uow:
        assert [p.key for p in await uow.processes.stored_from_source(big.decode())] == ["Big"]
