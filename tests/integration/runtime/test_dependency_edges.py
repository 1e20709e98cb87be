"""What dependents read of the runs they depend on, and how the suite run ends with them."""

from __future__ import annotations

from orchestra.domain.statuses import SuiteRunStatus
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    step,
    store_suite,
)

FAST = WorkerOptions(concurrency=4, lease_seconds=5, poll_seconds=0.05, sweep_seconds=0.1)


async def test_a_value_exported_as_rows_reaches_the_dependents_without_a_data_set(
    db: Database,
) -> None:
    create = scenario("create", [step(0, "create", export={"rows": 3, "orderId": "o-1"})])
    use = scenario("use", [step(0, "use")], "create")
    suite = await store_suite(db, [create, use])
    executor = ScriptedExecutor()
    suite_run = await running.start_suite_run(db, suite.id)

    final, _ = await running.work_until_done(
        db, suite_run.id, factory_for(executor), options=FAST, poll_seconds=0.05
    )

    assert final.suite_run.status is SuiteRunStatus.PASSED
    (used,) = [call for call in executor.calls if call.suite]
    assert used.suite == {"rows": 3, "orderId": "o-1"}
