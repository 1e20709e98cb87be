"""The BPMN fixtures of thrown errors and escalations, imported and generated end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestra.bpmn import read_bpmn
from orchestra.domain.generation import Criterion, generate_suite
from orchestra.domain.process import ProcessGraph
from orchestra.domain.scenario import GeneratedSuite
from orchestra.runtime.plan import all_steps, build_plan

FIXTURES = Path(__file__).parent / "fixtures"


def imported(name: str) -> ProcessGraph:
    (graph,) = read_bpmn((FIXTURES / name).read_bytes(), source=name).processes
    return graph


def generate(graph: ProcessGraph, criterion: Criterion) -> GeneratedSuite:
    return generate_suite(graph, process_key=graph.id, process_version=1, criterion=criterion)


def main_lines(suite: GeneratedSuite) -> list[str]:
    return sorted(" ".join(s.branch_paths[""]) for s in suite.scenarios)


FULFIL = "start f_start fulfil fulfil_start f_fulfil_start pay"
CHARGED = f"{FULFIL} pay_start f_pay_start charge f_charge outcome"


@pytest.mark.parametrize("criterion", list(Criterion))
def test_nested_errors_pass_the_inner_subprocess_or_end_the_process(criterion: Criterion) -> None:
    suite = generate(imported("nested_errors.bpmn"), criterion)
    assert main_lines(suite) == [
        f"{CHARGED} f_declined declined fulfil_declined f_caught cancel f_cancel cancelled",
        f"{CHARGED} f_fraud fraud",
        f"{CHARGED} f_paid paid f_pay ship f_ship shipped_inside f_fulfil shipped",
        f"{FULFIL} pay_timeout f_timeout timed_out f_fulfil shipped",
    ]
    assert suite.coverage.flows_covered == suite.coverage.flows_total == 13
    for scenario in suite.scenarios:  # the runtime reads the steps back
        assert all_steps(build_plan(scenario.steps)) == list(scenario.steps)


CHECKED = "start f_start review review_start f_review_start remind f_remind check f_check on_time"
REMINDED = ("reminded", "f_reminded", "notify_manager", "f_notified", "manager_notified")


@pytest.mark.parametrize("criterion", list(Criterion))
def test_escalations_leave_the_review_at_the_throw_or_run_beside_it(criterion: Criterion) -> None:
    suite = generate(imported("escalations.bpmn"), criterion)
    assert main_lines(suite) == [
        f"{CHECKED} f_in_time approve f_approve reviewed f_review done",
        f"{CHECKED} f_late late too_late f_too_late reject f_reject rejected",
    ]
    assert all(s.branch_paths["/remind#2"] == REMINDED for s in suite.scenarios)
    coverage = suite.coverage
    assert (coverage.flows_covered, coverage.flows_total) == (12, 13)
    assert [(item["element"], item["reason"]) for item in coverage.uncovered] == [
        (
            "f_after_late",
            "the escalation thrown at late is caught by too_late, which interrupts: "
            "the way on after the throw is never taken",
        )
    ]
    for scenario in suite.scenarios:
        assert all_steps(build_plan(scenario.steps)) == list(scenario.steps)


def test_errors_of_an_inlined_called_process_reach_the_call_activity_or_end_the_process() -> None:
    model = read_bpmn((FIXTURES / "called_errors.bpmn").read_bytes(), source="called_errors.bpmn")
    processes = {graph.id: graph for graph in model.processes}
    suite = generate_suite(
        processes["checkout"],
        process_key="checkout",
        process_version=1,
        called={"payment": processes["payment"]},
    )
    charged = "start f_start pay pay/pay_start pay/f_pay_start pay/charge pay/f_charge pay/outcome"
    assert main_lines(suite) == [
        f"{charged} pay/f_paid pay/paid f_pay done",
        f"{charged} pay/f_to_broken pay/broken",
        f"{charged} pay/f_to_declined pay/declined pay_declined f_declined notify f_notify failed",
    ]
    assert suite.coverage.flows_covered == suite.coverage.flows_total == 4
