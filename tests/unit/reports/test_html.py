"""The HTML report as a document: self-contained, escaped, one group per coloured element."""

from __future__ import annotations

import base64
import hashlib
import re
import time

import pytest

from orchestra.domain.process import Bounds
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.reports.diagram import diagram_of
from orchestra.reports.html import render_html
from orchestra.reports.layout import auto_layout
from orchestra.reports.model import MAX_DETAILED_RUNS, TestRunReport
from orchestra.reports.outcomes import element_outcomes
from tests.support.example_report import example_report, make_run, order_graph, step

HOSTILE = '</pre><script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


def test_every_node_and_flow_is_one_group_carrying_its_outcome() -> None:
    html = render_html(example_report())
    outcomes = re.findall(r'data-element="[^"]+" data-outcome="([a-z-]+)"', html)
    assert len(outcomes) == 17 + 17
    assert outcomes.count("failed") == 1
    assert 'data-element="EndEvent_OrderCancelled" data-outcome="failed"' in html


def test_nothing_is_fetched_the_page_carries_its_own_style_script_and_drawing() -> None:
    html = render_html(example_report())
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<svg" in html
    assert "<link" not in html


def test_the_content_security_policy_allows_exactly_the_inline_script() -> None:
    html = render_html(example_report())
    script = html.rsplit("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html
    assert "default-src 'none'" in html


def test_bodies_from_the_sut_and_names_from_the_model_are_escaped() -> None:
    hostile_step = step(1, "Task_CreateOrder", StepStatus.FAILED, error=HOSTILE)
    hostile_step = hostile_step.model_copy(update={"response": {"status": 500, "body": HOSTILE}})
    run = make_run(1, f"scenario {HOSTILE}", TestRunStatus.FAILED, (hostile_step,))
    html = render_html(example_report((run,)))
    assert "<script>window.pwned" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html


def test_a_model_without_diagram_is_laid_out_automatically_without_overlaps() -> None:
    graph = order_graph(with_diagram=False)
    diagram, from_model = diagram_of(graph)
    assert not from_model
    shapes = {s.element_id: s.bounds for s in diagram.shapes}
    assert set(shapes) == {node.id for node in graph.nodes}
    assert {e.element_id for e in diagram.edges} == {flow.id for flow in graph.flows}
    placed = [b for node_id, b in shapes.items() if not node_id.startswith("BoundaryEvent")]
    for index, first in enumerate(placed):
        for second in placed[index + 1 :]:
            assert not _overlap(first, second), (first, second)


def test_the_automatic_layout_flows_left_to_right_except_loops() -> None:
    diagram = auto_layout(order_graph(with_diagram=False))
    x = {s.element_id: s.bounds.x for s in diagram.shapes}
    assert x["StartEvent_OrderReceived"] < x["Task_CreateOrder"] < x["Gateway_SplitFulfilment"]
    assert x["Task_ReserveStock"] == x["Task_ChargePayment"]
    assert x["Gateway_PaymentMerge"] < x["Task_RetryPayment"]  # the retry loop goes back
    assert auto_layout(order_graph(with_diagram=False)) == diagram


def test_the_drawn_diagram_uses_the_models_bounds() -> None:
    html = render_html(example_report())
    assert '<rect class="shape" x="250" y="160" width="100" height="80"' in html  # Create order
    assert 'points="208,200 250,200"' in html  # Flow_ToCreateOrder


def test_a_thousand_runs_render_in_well_under_a_few_seconds() -> None:
    runs = tuple(
        make_run(
            n,
            "declined, give up",
            TestRunStatus.PASSED if n % 10 else TestRunStatus.FAILED,
            tuple(step(k, "Task_CreateOrder") for k in range(1, 9)),
        )
        for n in range(1, 1001)
    )
    report = example_report(runs)
    started = time.perf_counter()
    html = render_html(report)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, elapsed
    assert html.count('<details class="run') == 1000
    assert html.count('<details class="run is-failure') == 100


def _runs_of_eight_steps(count: int, failing_every: int) -> tuple[TestRunReport, ...]:
    return tuple(
        make_run(
            n,
            "declined, give up",
            TestRunStatus.FAILED if n % failing_every == 0 else TestRunStatus.PASSED,
            tuple(step(k, "Task_CreateOrder") for k in range(1, 9)),
        )
        for n in range(1, count + 1)
    )


def test_the_steps_of_failures_come_first_when_the_page_shows_only_some_runs() -> None:
    runs = _runs_of_eight_steps(6, failing_every=3)  # runs 3 and 6 failed
    html = render_html(example_report(runs), detailed_runs=3)
    detailed = re.findall(
        r'data-run="(\d+)"[^>]*>(?:(?!data-run=).)*?<details class="step', html, re.S
    )
    assert detailed == ["1", "3", "6"]
    assert html.count('<details class="step') == 3 * 8
    assert html.count("8 steps left out of this page") == 3
    assert "3 of 6 runs are listed without their steps" in html
    stepless = (*runs, make_run(7, "declined, give up", TestRunStatus.SKIPPED, ()))
    html = render_html(example_report(stepless), detailed_runs=3)
    assert "0 steps left out" not in html


@pytest.mark.slow
def test_ten_thousand_runs_make_a_page_of_bounded_size_every_run_listed() -> None:
    html = render_html(example_report(_runs_of_eight_steps(10_000, failing_every=10)))
    assert html.count('<details class="run') == 10_000
    assert html.count('<details class="step') == MAX_DETAILED_RUNS * 8
    assert html.count('<details class="run is-failure') == 1_000
    assert len(html.encode()) < 30_000_000, len(html.encode())  # was 72 MB with every step


def _overlap(a: Bounds, b: Bounds) -> bool:
    return not (
        a.x + a.width <= b.x
        or b.x + b.width <= a.x
        or a.y + a.height <= b.y
        or b.y + b.height <= a.y
    )


def test_the_suites_uncovered_elements_and_the_context_keys_are_listed() -> None:
    report = example_report()
    coverage = report.suite.coverage.model_copy(
        update={"uncovered": ({"element": "Flow_X", "kind": "flow", "reason": "unreachable"},)}
    )
    report = report.model_copy(
        update={"suite": report.suite.model_copy(update={"coverage": coverage})}
    )
    html = render_html(report)
    assert "1 element(s) the suite does not cover" in html
    assert "<code>Flow_X</code> (flow): unreachable" in html
    assert "context: order_id" in html


def test_a_run_that_stopped_early_is_filed_under_the_elements_it_reached_not_its_whole_path() -> (
    None
):
    stopped = make_run(
        4,
        "declined, give up",
        TestRunStatus.FAILED,
        (step(1, "Task_CreateOrder", StepStatus.ERROR),),
    )
    report = example_report((*example_report().test_runs, stopped))
    html = render_html(report)
    runs = {
        int(run.group(1)): (run.group(2).split(), run.group(3))
        for run in re.finditer(
            r'data-run="(\d+)" data-path="([^"]*)"(?: data-reached="([^"]*)")?>', html
        )
    }
    path, reached = runs[4]
    assert "Task_CancelOrder" in path
    assert reached is not None
    assert reached.split() == ["StartEvent_OrderReceived", "Flow_ToCreateOrder", "Task_CreateOrder"]
    outcomes = element_outcomes(report)
    for element in ("Task_CreateOrder", "Task_CancelOrder", "EndEvent_OrderCancelled"):
        through = [
            number
            for number, (path, reached) in runs.items()
            if element in (path if reached is None else reached.split())
        ]
        counted = outcomes[element].passed + outcomes[element].failed
        assert len(through) == counted, (element, through)
    assert runs[1][1] is None, "a passed run reached its whole path"
