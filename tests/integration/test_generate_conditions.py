"""`generate` on a stored process whose gateway conditions rule out some combinations: all-flows
plans around them, and a boundary suite tests both sides of each bound."""

from __future__ import annotations

from orchestra.domain.generation import Criterion
from orchestra.services import generating, importing
from orchestra.store.database import Database
from tests.unit.bpmn.documents import process
from tests.unit.conditions.test_scenario_data import DEAD_BRANCH


async def _import(db: Database, model: str) -> None:
    async with db.transaction() as uow:
        await importing.import_bpmn(uow, process(model), source="p.bpmn")


async def test_all_flows_replaces_an_infeasible_scenario_with_feasible_paths(
    db: Database,
) -> None:
    await _import(db, DEAD_BRANCH)

    result = await generating.generate(db, "P", criterion=Criterion.ALL_FLOWS)

    assert result["coverage"]["flows_covered"] == result["coverage"]["flows_total"]
    (infeasible,) = result["conditions"]["infeasible"]
    assert infeasible["dropped"] is True
    shown = await generating.show(db, result["suite"])
    assert [stored.scenario.data for stored in shown.scenarios] == [
        {"amount": 1001},
        {"amount": 0},
    ]
