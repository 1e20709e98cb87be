"""A process named by its name where no process has it as its id: found when one process has
that name, refused listing their ids when several do."""

from __future__ import annotations

import pytest

from orchestra.errors import NotFound
from orchestra.services import generating, importing
from orchestra.store.database import Database


def model(process_id: str, name: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d_{process_id}"
             targetNamespace="t">
  <process id="{process_id}" name="{name}" isExecutable="true">
    <startEvent id="S"/><sequenceFlow id="f1" sourceRef="S" targetRef="T"/>
    <task id="T" name="Do"/><sequenceFlow id="f2" sourceRef="T" targetRef="E"/>
    <endEvent id="E"/>
  </process>
</definitions>""".encode()


async def imported(db: Database, *models: bytes) -> None:
    for i, data in enumerate(models):
        async with db.transaction() as uow:
            await importing.import_bpmn(uow, data, source=f"m{i}.bpmn")


async def test_a_process_is_found_by_its_name(db: Database) -> None:
    await imported(db, model("Process_1w6j4ag", "Customer"), model("Process_0x", "Carrier"))

    async with db.reading() as uow:
        shown = await importing.show_process(uow, "Customer")
        versions = await importing.process_versions(uow, "Customer")
    generated = await generating.generate(db, "Customer@1")

    assert shown.key == "Process_1w6j4ag"
    assert [v.version for v in versions] == [1]
    assert generated["process"]["key"] == "Process_1w6j4ag"


async def test_an_id_is_taken_before_a_name(db: Database) -> None:
    await imported(db, model("Customer", "Someone"), model("Process_1", "Customer"))

    async with db.reading() as uow:
        assert (await importing.show_process(uow, "Customer")).key == "Customer"


async def test_a_name_several_processes_have_is_refused_listing_them(db: Database) -> None:
    await imported(db, model("Process_1", "Customer"), model("Process_2", "Customer"))

    async with db.reading() as uow:
        with pytest.raises(NotFound) as refused:
            await importing.show_process(uow, "Customer")

    assert refused.value.message == (
        "no process 'Customer' ('Customer' names the processes Process_1, Process_2:"
        " name one by its id)"
    )
