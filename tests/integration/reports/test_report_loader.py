"""A stored suite run becomes a report: every run and step, in each format."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jsonschema
import pytest
from junitparser import JUnitXml

from orchestra import collector
from orchestra.reports.json_report import shipped_schema
from orchestra.reports.model import MAX_DETAILED_RUNS, RunReport
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import reporting, running
from orchestra.store.database import Database
from tests.integration.runtime.support import (
    ScriptedExecutor,
    factory_for,
    scenario,
    step,
    store_suite,
)


async def finished_suite_run(db: Database) -> int:
    suite = await store_suite(
        db,
        [
            scenario("good", [step(0, "a"), step(1, "b")]),
            scenario("bad", [step(0, "a"), step(1, "b", result="FAILED"), step(2, "c")]),
        ],
    )
    suite_run = await running.start_suite_run(db, suite.id)
    await running.work_until_done(
        db, suite_run.id, factory_for(ScriptedExecutor()), options=WorkerOptions(poll_seconds=0.05)
    )
    return suite_run.id


async def test_the_report_holds_every_run_with_its_steps_and_outcomes(db: Database) -> None:
    suite_run_id = await finished_suite_run(db)
    report = await reporting.load_report(db, suite_run_id)
    assert report.suite_run.id == suite_run_id
    assert report.suite_run.status.value == "FAILED"
    runs = {run.scenario: run for run in report.test_runs}
    assert runs["good"].status.value == "PASSED"
    assert [s.status.value for s in runs["good"].steps] == ["PASSED", "PASSED"]
    assert [s.status.value for s in runs["bad"].steps] == ["PASSED", "FAILED", "SKIPPED"]
    assert runs["bad"].error == "b: scripted FAILED"


async def test_each_format_is_written_and_readable(db: Database, tmp_path: Path) -> None:
    suite_run_id = await finished_suite_run(db)
    junit = await reporting.write_report(db, suite_run_id, "junit", tmp_path / "r.xml")
    suites = list(JUnitXml.fromfile(str(junit)))
    cases = [case for suite in suites for case in suite]
    assert len(cases) == 2
    document = json.loads(
        (await reporting.write_report(db, suite_run_id, "json", tmp_path / "r.json")).read_text()
    )
    jsonschema.validate(document, shipped_schema(), cls=jsonschema.Draft202012Validator)
    html = (await reporting.write_report(db, suite_run_id, "html", tmp_path / "r.html")).read_text()
    assert "<svg" in html
    assert "scripted FAILED" in html


async def test_the_context_lists_the_names_exported_not_where_each_rows_values_are_kept(
    db: Database,
) -> None:
    suite = await store_suite(
        db, [scenario("create", [step(0, "create", export={"orderId": "o-{name}"})])]
    )
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("people", [{"name": "ann"}, {"name": "bob"}])
    suite_run = await running.start_suite_run(db, suite.id, data_set="people")
    await running.work_until_done(
        db, suite_run.id, factory_for(ScriptedExecutor()), options=WorkerOptions(poll_seconds=0.05)
    )
    report = await reporting.load_report(db, suite_run.id)
    assert [run.status.value for run in report.test_runs] == ["PASSED", "PASSED"]
    assert report.suite_run.context_keys == ("orderId",)


async def test_a_suite_run_beyond_the_bound_is_reported_in_part_unless_all_runs_are_asked_for(
    db: Database, tmp_path: Path
) -> None:
    suite = await store_suite(db, [scenario("create", [step(0, "create")])])
    rows = [{"n": n} for n in range(MAX_DETAILED_RUNS + 1)]
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("many", rows)
    suite_run = await running.start_suite_run(db, suite.id, data_set="many")  # none run yet
    bounded = json.loads(await reporting.render_report(db, suite_run.id, "json"))
    jsonschema.validate(bounded, shipped_schema(), cls=jsonschema.Draft202012Validator)
    assert len(bounded["report"]["test_runs"]) == MAX_DETAILED_RUNS
    assert bounded["left_out"]["test_runs"] == 1
    assert (
        f"orchestra report {suite_run.id} --format json --all-runs"
        in (bounded["left_out"]["get_all"])
    )
    path = tmp_path / "all.json"
    await reporting.write_report(db, suite_run.id, "json", path, all_runs=True)
    everything = json.loads(path.read_text())
    assert (len(everything["report"]["test_runs"]), everything["left_out"]) == (len(rows), None)


async def test_a_report_reads_again_only_what_its_caller_does_not_hold(db: Database) -> None:
    suite = await store_suite(db, [scenario("create", [step(0, "create")])])
    async with db.transaction() as uow:
        environment = await uow.config.upsert_environment("staging", {"name": "staging"}, [])
        process = await uow.processes.get_by_id(suite.process_id)
    assert process is not None
    suite_run = await running.start_suite_run(db, suite.id, environment=environment)
    # what the caller holds is shown (renamed here to tell it from what is stored)
    held = reporting.Held(
        suite=suite,
        process=process.model_copy(update={"name": "as held"}),
        environment=environment.model_copy(update={"name": "held"}),
    )
    report = await reporting.load_report(db, suite_run.id, held=held)
    assert (report.process.name, report.suite_run.environment) == ("as held", "held")
    # what it holds of something else is not
    others = reporting.Held(
        process=process.model_copy(update={"id": process.id + 1, "name": "other"}),
        environment=environment.model_copy(update={"id": environment.id + 1, "name": "other"}),
    )
    report = await reporting.load_report(db, suite_run.id, held=others)
    assert (report.process.name, report.suite_run.environment) == (process.name, "staging")


async def test_the_reports_written_are_gone_when_the_collector_resumes(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a report alive then (tens of thousands of objects) would be walked by the next collection
    suite_run_id = await finished_suite_run(db)
    gc.collect()
    earlier = [o for o in gc.get_objects() if isinstance(o, RunReport)]  # other tests' (kept)
    paused = collector.paused
    alive: list[int] = []

    @contextmanager
    def watched() -> Iterator[None]:
        outermost = gc.isenabled()
        with paused():
            yield
            if outermost:
                reports = [o for o in gc.get_objects() if isinstance(o, RunReport)]
                alive.append(sum(1 for o in reports if not any(o is e for e in earlier)))

    monkeypatch.setattr(collector, "paused", watched)
    paths = {"junit": tmp_path / "r.xml", "json": tmp_path / "r.json"}
    for _ in range(3):  # the first call starts the thread that renders
        await reporting.write_reports(db, suite_run_id, paths)
    assert alive == [0, 0, 0]
