"""Shared barriers declared in a binding file, end to end on the bundled order example.

Through the services a user's commands call: import the BPMN, apply the environment and a data
set, `generate` with a binding file that has a `barriers:` section, run the suite on a real
PostgreSQL against the example SUT on 127.0.0.1, and read the report. "Ship together" sits
before Ship order, which two scenarios reach (refunded; retried then shipped); per data row the
two runs meet there. One worker running one run at a time proves that a run arriving early
parks without holding the slot: otherwise the other party could never run and arrive.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from orchestra.binding.factory import executor_factory
from orchestra.domain.records import StepResult, TestRun
from orchestra.domain.statuses import StepStatus, SuiteRunStatus, TestRunStatus
from orchestra.errors import BindingRefused
from orchestra.examples.order import (
    BINDINGS_FILE,
    DATASET_FILE,
    PROCESS_FILE,
    TOKEN_VARIABLE,
    environment_text,
    example_path,
)
from orchestra.examples.order.service import OrderService
from orchestra.examples.order.sut import run_example_sut
from orchestra.reports import ReportFormat
from orchestra.reports.outcomes import element_outcomes, failed_at
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import config, generating, importing, reporting, running
from orchestra.store.database import Database

TOKEN = "barrier-demo-token"
ONE_SLOT = WorkerOptions(concurrency=1, lease_seconds=5, poll_seconds=0.05, sweep_seconds=0.1)
SHIP_TOGETHER = {"name": "ship-together", "before": "Ship order", "timeout": 20}


@pytest.fixture
async def sut_url() -> AsyncIterator[str]:
    async with run_example_sut(service=OrderService(delay_s=(0.01, 0.03)), token=TOKEN) as url:
        yield url


def example_bindings(**barrier: Any) -> dict[str, Any]:
    bindings: dict[str, Any] = YAML(typ="safe").load(example_path(BINDINGS_FILE).read_text())
    bindings["barriers"] = [barrier]
    # the planted defect fails at once instead of polling 3 s per run
    bindings["events"]["EndEvent_OrderCancelled"]["eventually"]["timeout"] = 0.3
    return bindings


async def generate_and_run(
    db: Database, tmp_path: Path, sut_url: str, bindings: dict[str, Any], rows: int
) -> tuple[SuiteRunStatus, dict[tuple[str, int | None], TestRun], list[StepResult], int]:
    async with db.transaction() as uow:
        source = example_path(PROCESS_FILE).read_bytes()
        imported = await importing.import_bpmn(uow, source, source=PROCESS_FILE)
    process = imported.processes[0].stored
    (tmp_path / "environment.yaml").write_text(environment_text(sut_url))
    dataset: dict[str, Any] = YAML(typ="safe").load(example_path(DATASET_FILE).read_text())
    (tmp_path / "rows.json").write_text(json.dumps({"rows": dataset["rows"][:rows]}))
    (tmp_path / "bindings.json").write_text(json.dumps(bindings))  # JSON is YAML
    environment = await config.apply_environment(db, tmp_path / "environment.yaml")
    await config.import_data_set(db, "customers", tmp_path / "rows.json")
    summary = await generating.generate(
        db, f"{process.key}@{process.version}", bindings=tmp_path / "bindings.json"
    )
    suite_run = await running.start_suite_run(
        db, summary["suite"], environment=environment["environment"], data_set="customers"
    )
    progress, _ = await asyncio.wait_for(
        running.work_until_done(
            db,
            suite_run.id,
            executor_factory({TOKEN_VARIABLE: TOKEN}),
            workers=1,
            options=ONE_SLOT,
            poll_seconds=0.05,
        ),
        timeout=60,
    )
    async with db.transaction() as uow:
        runs = await uow.runs.test_runs(suite_run.id)
        results = await uow.runs.step_results([run.id for run in runs])
    by_key = {(run.scenario_name.split()[0], run.data_row_index): run for run in runs}
    return progress.suite_run.status, by_key, results, suite_run.id


def result_of(results: list[StepResult], run: TestRun, element_id: str | None) -> StepResult:
    """A run's result for the step of an element; None: the shared barrier (no BPMN element)."""
    return next(r for r in results if r.test_run_id == run.id and r.element_id == element_id)


async def test_two_scenarios_meet_at_a_declared_barrier_per_data_row_and_pass(
    db: Database, tmp_path: Path, sut_url: str
) -> None:
    status, runs, results, _ = await generate_and_run(
        db, tmp_path, sut_url, example_bindings(**SHIP_TOGETHER), rows=2
    )

    assert {key: run.status for key, run in runs.items()} == {
        ("S01", 0): TestRunStatus.PASSED,
        ("S01", 1): TestRunStatus.PASSED,
        ("S02", 0): TestRunStatus.PASSED,
        ("S02", 1): TestRunStatus.PASSED,
        ("S03", 0): TestRunStatus.FAILED,  # the example's planted defect, not the barrier
        ("S03", 1): TestRunStatus.FAILED,
    }
    assert status is SuiteRunStatus.FAILED
    for row in (0, 1):
        parties = [runs[("S01", row)], runs[("S02", row)]]
        barriers = [result_of(results, run, None) for run in parties]
        assert [(b.status, b.response) for b in barriers] == [
            (StepStatus.PASSED, {"arrived": 2, "parties": 2})
        ] * 2
        early = [run for run in parties if run.attempt >= 2]
        assert len(early) == 1  # it parked, gave its slot to the other party, came back
        (late,) = [run for run in parties if run.attempt == 1]
        late_arrival = result_of(results, late, None).started_at
        assert result_of(results, early[0], "Task_ShipOrder").started_at >= late_arrival


async def test_a_party_that_never_arrives_fails_the_other_with_the_barrier_s_reason(
    db: Database, tmp_path: Path, sut_url: str
) -> None:
    bindings = example_bindings(**SHIP_TOGETHER)  # 20 s: it fails long before, naming S02
    retry = bindings["tasks"]["Task_RetryPayment"]
    retry["checks"] = [{"status": 418}]  # S02 fails at Retry payment, before Ship order
    del retry["eventually"]

    status, runs, results, suite_run_id = await generate_and_run(
        db, tmp_path, sut_url, bindings, rows=1
    )

    assert status is SuiteRunStatus.FAILED
    assert runs[("S02", 0)].status is TestRunStatus.FAILED
    waiting = runs[("S01", 0)]
    assert waiting.status is TestRunStatus.FAILED
    assert waiting.error is not None
    assert "barrier 'ship-together@row0' can no longer be met: 1 of 2 parties" in waiting.error
    assert "(test run " in waiting.error
    assert "ended FAILED without reaching it" in waiting.error
    barrier = result_of(results, waiting, None)
    assert (barrier.status, barrier.response) == (
        StepStatus.FAILED,
        {"arrived": 1, "parties": 2},
    )
    assert not any(r.element_id == "Task_ShipOrder" for r in results if r.test_run_id == waiting.id)
    report = await reporting.load_report(db, suite_run_id)
    (failed,) = [r for r in report.test_runs if r.id == waiting.id]
    failing = failed.failing_step()
    assert failing is not None
    assert failing.name == "barrier ship-together"
    assert failing.at == "Task_ShipOrder"
    assert failed_at(failed) == "Task_ShipOrder"  # the diagram shows where it stopped
    assert element_outcomes(report)["Task_ShipOrder"].failed >= 1
    for fmt in ReportFormat:  # every report renders a step that is no BPMN element
        text = await reporting.render_report(db, suite_run_id, fmt.value)
        assert "ship-together@row0" in text
        assert "can no longer be met: 1 of 2 parties" in text


async def test_generate_refuses_a_barrier_that_could_never_be_met_and_stores_nothing(
    db: Database, tmp_path: Path
) -> None:
    async with db.transaction() as uow:
        source = example_path(PROCESS_FILE).read_bytes()
        await importing.import_bpmn(uow, source, source=PROCESS_FILE)
    (tmp_path / "bindings.json").write_text(
        json.dumps(example_bindings(**{**SHIP_TOGETHER, "parties": 3}))
    )

    with pytest.raises(BindingRefused) as caught:
        await generating.generate(db, "order_fulfilment", bindings=tmp_path / "bindings.json")

    assert caught.value.message.startswith(
        "barrier 'ship-together' (before Task_ShipOrder) needs 3 parties but lands in 2 "
        "scenarios ('S01 accepted → Address rejected → Order refunded', 'S02 declined → retry "
        "→ accepted → Order shipped')"
    )
    async with db.transaction() as uow:
        assert await uow.suites.list() == []
