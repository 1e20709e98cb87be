"""The failure summary reads only the runs it lists, and lists what the whole report would."""

from __future__ import annotations

from orchestra.runtime.worker import WorkerOptions
from orchestra.services import reporting, running
from orchestra.services.failures import failures_of, suite_run_failures
from orchestra.store.database import Database
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    step,
    store_suite,
)


async def test_the_summary_loads_the_failed_and_errored_runs_only(db: Database) -> None:
    suite = await store_suite(
        db,
        [
            scenario("good", [step(0, "a")]),
            scenario("bad", [step(0, "a"), step(1, "b", result="FAILED"), step(2, "c")]),
            scenario("also good", [step(0, "a"), step(1, "b")]),
            scenario("broken", [step(0, "d", result="ERROR")]),
            scenario("after good failed", [step(0, "e")], "good", outcome="FAILED"),
        ],
    )
    suite_run = await running.start_suite_run(db, suite.id)
    await running.work_until_done(
        db, suite_run.id, factory_for(ScriptedExecutor()), options=WorkerOptions(poll_seconds=0.05)
    )

    failing = await reporting.load_failing(db, suite_run.id)
    whole = await reporting.load_report(db, suite_run.id)

    assert [run.scenario for run in failing] == ["bad", "broken"]
    assert [run.scenario for run in whole.test_runs if run.id in {r.id for r in failing}] == [
        "bad",
        "broken",
    ]
    assert failing == tuple(run for run in whole.test_runs if run.id in {r.id for r in failing})
    summary = await suite_run_failures(db, suite_run.id)
    assert summary == failures_of(whole.test_runs)
    assert [(f.scenario, f.status.value, f.step) for f in summary] == [
        ("bad", "FAILED", 1),
        ("broken", "ERROR", 0),
    ]
