"""A task bound with `cancelsTransaction: true` cancels its transaction in the generated suite:
the scenario through it leaves by the cancel boundary event, after compensating."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestra.domain.process import ProcessGraph
from orchestra.errors import BindingRefused
from orchestra.services import generating
from orchestra.store.database import Database
from tests.unit.bpmn.documents import only_process, process

# s -> tx -> e1; in tx: s2 -> Book -> Check -> e2, Book compensated by UnBook;
# the cancel boundary bC goes on at Notify. No cancel end event: only a bound action cancels.
BOOKING = """
    <startEvent id="s"/>
    <transaction id="tx">
      <startEvent id="s2"/>
      <task id="Book" name="Book seat"/>
      <task id="Check" name="Cancel booking"/>
      <endEvent id="e2"/>
      <task id="UnBook" name="Release seat" isForCompensation="true"/>
      <boundaryEvent id="cBook" attachedToRef="Book"><compensateEventDefinition/></boundaryEvent>
      <association id="a1" sourceRef="cBook" targetRef="UnBook"/>
      <sequenceFlow id="f1" sourceRef="s2" targetRef="Book"/>
      <sequenceFlow id="f2" sourceRef="Book" targetRef="Check"/>
      <sequenceFlow id="f3" sourceRef="Check" targetRef="e2"/>
    </transaction>
    <boundaryEvent id="bC" attachedToRef="tx"><cancelEventDefinition/></boundaryEvent>
    <task id="Notify"/>
    <endEvent id="e1"/>
    <endEvent id="e3"/>
    <sequenceFlow id="g1" sourceRef="s" targetRef="tx"/>
    <sequenceFlow id="g2" sourceRef="tx" targetRef="e1"/>
    <sequenceFlow id="g3" sourceRef="bC" targetRef="Notify"/>
    <sequenceFlow id="g4" sourceRef="Notify" targetRef="e3"/>
"""

BINDINGS = """\
defaults: {service: shop}
tasks:
  Book seat: {action: {method: POST, path: /bookings}}
  Cancel booking:
    action: {method: POST, path: /bookings/cancel}
    cancelsTransaction: true
  Release seat: {action: {method: DELETE, path: /bookings}}
"""


async def _import(db: Database, graph: ProcessGraph) -> None:
    async with db.transaction() as uow:
        await uow.processes.add_version(graph, checksum="c1", source_xml="<x/>", source_name=None)


async def test_a_task_bound_to_cancel_leaves_by_the_cancel_boundary_after_compensating(
    db: Database, tmp_path: Path
) -> None:
    await _import(db, only_process(process(BOOKING)))
    bindings = tmp_path / "bindings.yaml"
    bindings.write_text(BINDINGS)
    result = await generating.generate(db, "P", bindings=bindings)
    stored = await generating.show(db, result["suite"])
    (scenario,) = [s.scenario for s in stored.scenarios]
    assert " ".join(scenario.path) == (
        "s g1 tx s2 f1 Book f2 Check cBook UnBook bC g3 Notify g4 e3"
    )
    steps = {s.element_id: s for s in scenario.steps}
    assert steps["Check"].meta["cancels"] == "tx"
    assert steps["UnBook"].meta["compensates"] == "Book"
    assert steps["UnBook"].spec["action"]["method"] == "DELETE"
    uncovered = {u["element"]: u["reason"] for u in result["coverage"]["uncovered"]}
    assert uncovered["f3"].startswith("the action bound to Check cancels transaction tx")


async def test_cancels_transaction_on_a_task_outside_any_transaction_is_refused(
    db: Database, tmp_path: Path
) -> None:
    await _import(db, only_process(process(BOOKING)))
    bindings = tmp_path / "bindings.yaml"
    bindings.write_text("tasks:\n  Notify:\n    action: {path: /n}\n    cancelsTransaction: true\n")
    with pytest.raises(
        BindingRefused,
        match=r"yaml:4: tasks.Notify.cancelsTransaction: Notify lies in no transaction",
    ):
        await generating.generate(db, "P", bindings=bindings)
