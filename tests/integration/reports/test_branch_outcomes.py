"""Runs executed by the runtime, then reported: what the diagram colours after a failure on
one parallel branch stopped the others short."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import jsonschema
from junitparser import JUnitXml

from orchestra.domain.process import Flow, Node, NodeCategory, ProcessGraph
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind, StepStatus
from orchestra.reports import render
from orchestra.reports.json_report import shipped_schema
from orchestra.reports.model import RunReport
from orchestra.reports.outcomes import ElementOutcome, Outcome, element_outcomes, tallied_outcomes
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

OPTIONS = WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.05, sweep_seconds=0.1)


def _join(position: int, gateway: str, branches: list[str], branch: str = "") -> ScenarioStep:
    return ScenarioStep(
        position=position,
        kind=StepKind.BARRIER,
        element_id=gateway,
        branch=branch,
        spec={"gateway": gateway, "branches": branches},
    )


async def run_and_report(db: Database, steps: list[ScenarioStep]) -> RunReport:
    """One scenario of `steps`, run to its end by the real runtime, and its report."""
    suite = await store_suite(db, [scenario("s", steps)])
    suite_run = await running.start_suite_run(db, suite.id)
    await asyncio.wait_for(
        running.work_until_done(db, suite_run.id, factory_for(ScriptedExecutor()), options=OPTIONS),
        timeout=30,
    )
    return await reporting.load_report(db, suite_run.id)


def _graph(elements: list[str]) -> ProcessGraph:
    """A graph holding the scenario's elements (only their ids matter to the colouring)."""
    nodes = tuple(Node(id=e, category=NodeCategory.TASK, type="task") for e in elements)
    return ProcessGraph(id="p", nodes=nodes, flows=(Flow(id="f", source="open", target="open"),))


async def test_a_failure_on_the_last_branch_colours_no_element_the_other_branches_never_reached(
    db: Database,
) -> None:
    # /G#2 ("pay") fails while /G#1's nested block H is mid-request: "confirm" after "pick"
    # never runs, H's join is never reached, nor is "label" after it; all of them come before
    # "pay" in the scenario's path, which lists branch after branch
    steps = [
        step(0, "open"),
        step(1, "pick", "/G#1/H#1", sleep=0.3),
        step(2, "confirm", "/G#1/H#1"),
        step(3, "pack", "/G#1/H#2", sleep=0.3),
        _join(4, "H", ["/G#1/H#1", "/G#1/H#2"], branch="/G#1"),
        step(5, "label", "/G#1"),
        step(6, "pay", "/G#2", sleep=0.05, result="FAILED"),
        _join(7, "G", ["/G#1", "/G#2"]),
        step(8, "close"),
    ]
    report = await run_and_report(db, steps)
    (run,) = report.test_runs
    assert {s.element_id: s.status for s in run.steps} == {
        "open": StepStatus.PASSED,
        "pick": StepStatus.PASSED,
        "confirm": StepStatus.SKIPPED,
        "pack": StepStatus.PASSED,
        "label": StepStatus.SKIPPED,
        "pay": StepStatus.FAILED,
        "close": StepStatus.SKIPPED,
    }, "joins never reached have no step"

    graph = _graph(["open", "pick", "confirm", "pack", "H", "label", "pay", "G", "close"])
    outcomes = {e: o.outcome for e, o in element_outcomes(report, graph).items() if e != "f"}
    assert await counted_in_sql(db, report, graph) == element_outcomes(report, graph)
    assert outcomes == {
        "open": Outcome.PASSED,
        "pick": Outcome.PASSED,
        "confirm": Outcome.NOT_COVERED,
        "pack": Outcome.PASSED,
        "H": Outcome.NOT_COVERED,
        "label": Outcome.NOT_COVERED,
        "pay": Outcome.FAILED,
        "G": Outcome.NOT_COVERED,
        "close": Outcome.NOT_COVERED,
    }


async def test_every_step_that_failed_on_its_branch_colours_its_element_failed(
    db: Database,
) -> None:
    # both branches fail while the other is mid-request: each failure is recorded, and the
    # run names the first branch's
    steps = [
        step(0, "open"),
        step(1, "reserve", "/G#1", sleep=0.2, result="FAILED"),
        step(2, "charge", "/G#2", sleep=0.2, result="ERROR"),
        _join(3, "G", ["/G#1", "/G#2"]),
        step(4, "close"),
    ]
    report = await run_and_report(db, steps)
    (run,) = report.test_runs
    assert [(s.element_id, s.status) for s in run.steps] == [
        ("open", StepStatus.PASSED),
        ("reserve", StepStatus.FAILED),
        ("charge", StepStatus.ERROR),
        ("close", StepStatus.SKIPPED),
    ]

    graph = _graph(["open", "reserve", "charge", "G", "close"])
    outcomes = {e: o.outcome for e, o in element_outcomes(report, graph).items() if e != "f"}
    assert await counted_in_sql(db, report, graph) == element_outcomes(report, graph)
    assert outcomes == {
        "open": Outcome.PASSED,
        "reserve": Outcome.FAILED,
        "charge": Outcome.FAILED,
        "G": Outcome.NOT_COVERED,
        "close": Outcome.NOT_COVERED,
    }


def _shared_barrier(position: int, before: str) -> ScenarioStep:
    """A `barriers:` rule's step as the bindings attach it: no element, waiting before one."""
    return ScenarioStep(
        position=position,
        kind=StepKind.BARRIER,
        element_id=None,
        name="sync",
        spec={"name": "sync", "parties": 2, "timeout": 0.5},
        meta={"sharedBarrier": True, "before": before},
    )


async def test_a_shared_barrier_that_timed_out_fails_both_parties_at_the_element_they_waited_before(
    db: Database, tmp_path: Path
) -> None:
    suite = await store_suite(
        db,
        [
            scenario("early", [step(0, "a"), _shared_barrier(1, "on"), step(2, "on")]),
            scenario(
                "late", [step(0, "b", sleep=2.0), _shared_barrier(1, "after"), step(2, "after")]
            ),
        ],
    )
    suite_run = await running.start_suite_run(db, suite.id)
    options = WorkerOptions(concurrency=4, lease_seconds=5, poll_seconds=0.05, sweep_seconds=0.1)
    await asyncio.wait_for(
        running.work_until_done(db, suite_run.id, factory_for(ScriptedExecutor()), options=options),
        timeout=30,
    )
    report = await reporting.load_report(db, suite_run.id)
    runs = {run.scenario: run for run in report.test_runs}
    for name, waited_before in (("early", "on"), ("late", "after")):
        barrier = runs[name].steps[1]
        assert (barrier.status, barrier.at, runs[name].try_of(barrier.attempt)) == (
            StepStatus.FAILED,
            waited_before,
            1,
        )
        assert runs[name].attempts == 1, "waiting at a barrier is no new try"

    graph = _graph(["a", "b", "on", "after"])
    outcomes = {e: o.outcome for e, o in element_outcomes(report, graph).items() if e != "f"}
    assert await counted_in_sql(db, report, graph) == element_outcomes(report, graph)
    assert outcomes == {
        "a": Outcome.PASSED,
        "b": Outcome.PASSED,
        "on": Outcome.FAILED,
        "after": Outcome.FAILED,
    }
    junit = await reporting.write_report(db, suite_run.id, "junit", tmp_path / "r.xml")
    (suite_xml,) = list(JUnitXml.fromfile(str(junit)))
    assert (suite_xml.tests, suite_xml.failures, suite_xml.errors, suite_xml.skipped) == (
        2,
        2,
        0,
        0,
    )
    messages = {case.name: case.result[0].message or "" for case in suite_xml}
    assert "timed out" in messages["late"], messages
    document = json.loads(await reporting.render_report(db, suite_run.id, "json"))
    jsonschema.validate(document, shipped_schema(), cls=jsonschema.Draft202012Validator)
    assert document["summary"]["by_status"]["FAILED"] == 2


async def test_a_join_whose_branches_passed_but_a_failure_elsewhere_stopped_reads_not_reached(
    db: Database,
) -> None:
    # both branches of /G#1's nested block H pass, but "pay" on /G#2 failed while they were
    # mid-request: the run stopped before joining them at H, and never ran "label" after it
    steps = [
        step(0, "open"),
        step(1, "pick", "/G#1/H#1", sleep=0.3),
        step(2, "pack", "/G#1/H#2", sleep=0.3),
        _join(3, "H", ["/G#1/H#1", "/G#1/H#2"], branch="/G#1"),
        step(4, "label", "/G#1"),
        step(5, "pay", "/G#2", sleep=0.05, result="FAILED"),
        _join(6, "G", ["/G#1", "/G#2"]),
        step(7, "close"),
    ]
    elements = ["open", "pick", "pack", "H", "label", "pay", "G", "close"]
    report = await run_and_report(db, steps)
    graph = _graph(elements)
    report = report.model_copy(
        update={"process": report.process.model_copy(update={"graph": graph})}
    )
    (run,) = report.test_runs
    assert [(s.element_id, s.status) for s in run.steps] == [
        ("open", StepStatus.PASSED),
        ("pick", StepStatus.PASSED),
        ("pack", StepStatus.PASSED),
        ("H", StepStatus.SKIPPED),
        ("label", StepStatus.SKIPPED),
        ("pay", StepStatus.FAILED),
        ("close", StepStatus.SKIPPED),
    ], "G's branches did not all pass: it stays out"

    expected = {
        "open": Outcome.PASSED,
        "pick": Outcome.PASSED,
        "pack": Outcome.PASSED,
        "H": Outcome.NOT_COVERED,
        "label": Outcome.NOT_COVERED,
        "pay": Outcome.FAILED,
        "G": Outcome.NOT_COVERED,
        "close": Outcome.NOT_COVERED,
    }
    outcomes = {e: o.outcome for e, o in element_outcomes(report).items() if e != "f"}
    assert outcomes == expected
    html = render(report, "html")
    drawn = dict(re.findall(r'data-element="([^"]+)" data-outcome="([a-z-]+)"', html))
    assert {e: Outcome(drawn[e]) for e in elements} == expected
    assert re.search(r'SKIPPED</span>\s*<span class="step-kind">BARRIER</span> #3 H \[/G#1\]', html)
    document = json.loads(render(report, "json"))
    listed = {e["element_id"]: Outcome(e["outcome"]) for e in document["elements"]}
    assert {e: listed[e] for e in elements} == expected
    (published,) = document["report"]["test_runs"]
    assert [s["status"] for s in published["steps"] if s["element_id"] == "H"] == ["SKIPPED"]
    (suite_xml,) = list(JUnitXml.fromstring(render(report, "junit").encode()))
    (case,) = list(suite_xml)
    assert "\n#3 BARRIER H [/G#1]: SKIPPED in - (try 1)\n" in (case.system_out or "")


async def counted_in_sql(
    db: Database, report: RunReport, graph: ProcessGraph
) -> dict[str, ElementOutcome]:
    """The outcomes the live page draws: counted over one run per group in PostgreSQL."""
    return tallied_outcomes(await reporting.element_tally(db, report.suite_run.id), graph)
