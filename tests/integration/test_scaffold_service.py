"""bindings init on stored processes: calls inlined as `generate` inlines them."""

from __future__ import annotations

from orchestra.binding.yamlsource import Source
from orchestra.services import generating, importing
from orchestra.services.scaffolding import scaffold_bindings
from orchestra.store.database import Database
from tests.support.call_process import CHECKOUT_BPMN, FRAUD_BPMN, PAYMENT_BPMN


async def test_the_tasks_of_imported_called_processes_are_scaffolded_through_their_call(
    db: Database,
) -> None:
    async with db.transaction() as uow:
        for name, data in (("c", CHECKOUT_BPMN), ("p", PAYMENT_BPMN), ("f", FRAUD_BPMN)):
            await importing.import_bpmn(uow, data, source=f"{name}.bpmn")

    made = await scaffold_bindings(db, "Checkout")
    generated = await generating.generate(db, "Checkout", bindings=Source("s", made.scaffold.text))

    assert [task.element_id for task in made.scaffold.tasks] == [
        "Task_Order",
        "Call_Pay/Task_Authorize",
        "Call_Pay/Call_Fraud/Task_Score",
        "Call_Pay/Task_Capture",
        "Call_Ship",  # Shipping is not imported: the call stays one step
    ]
    assert generated["unbound"] == []
