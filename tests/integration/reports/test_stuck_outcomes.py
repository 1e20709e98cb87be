"""A run given up on (FAILED_STUCK) as the reports show it: where it got stuck."""

from __future__ import annotations

import time

from orchestra.domain.execution import StepOutcome
from orchestra.domain.process import Flow, Node, NodeCategory, ProcessGraph
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.reports.outcomes import Outcome, element_outcomes, failed_at
from orchestra.reports.text import failure_message
from orchestra.services import reporting, running
from orchestra.store.database import Database
from orchestra.store.runs import Checkpoint
from tests.integration.reports.test_branch_outcomes import counted_in_sql
from tests.integration.runtime.support import (
    expire_again_and_reap,
    scenario,
    step,
    store_suite,
)


async def test_a_run_given_up_on_fails_at_the_step_its_last_lease_had_in_flight(
    db: Database,
) -> None:
    # "a" passes; "b" hangs its worker twice: the reaper gives the run up
    suite = await store_suite(db, [scenario("hangs", [step(0, "a"), step(1, "b"), step(2, "c")])])
    suite_run = await running.start_suite_run(db, suite.id, max_attempts=2)
    stored = suite.scenarios[0]
    async with db.transaction() as uow:
        (claimed,) = await uow.runs.claim("w1", 1, lease_seconds=30)
        done = Checkpoint(
            test_run_id=claimed.id,
            worker="w1",
            attempt=claimed.attempt,
            step_id=stored.steps[0].id,
            step=stored.steps[0].step,
            outcome=StepOutcome(status=StepStatus.PASSED, started_at=time.time(), duration_ms=1),
            execution_context={"done": {"0": "PASSED"}},
        )
        assert await uow.runs.checkpoint(done)
    await expire_again_and_reap(db)

    report = await reporting.load_report(db, suite_run.id)
    (run,) = report.test_runs
    assert run.status is TestRunStatus.FAILED_STUCK
    assert [lease.in_flight for lease in run.lost_leases] == [(1,), (1,)]
    assert failed_at(run) == "b"
    nodes = tuple(Node(id=e, category=NodeCategory.TASK, type="task") for e in "abc")
    graph = ProcessGraph(id="p", nodes=nodes, flows=(Flow(id="f", source="a", target="b"),))
    outcomes = {e: o.outcome for e, o in element_outcomes(report, graph).items() if e != "f"}
    assert await counted_in_sql(db, report, graph) == element_outcomes(report, graph)
    assert outcomes == {"a": Outcome.PASSED, "b": Outcome.FAILED, "c": Outcome.NOT_COVERED}
    assert failure_message(run).startswith("#1 b: lease lost 2 times (last held by w2")
