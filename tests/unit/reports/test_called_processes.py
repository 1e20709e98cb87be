"""Called processes on the reports: each inlined call drawn below the process, marked by the
outcomes and coverage of its inlined ids, linked from its call box and from the steps."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from lxml import html as lxml_html

from orchestra.domain.generation import inline_calls
from orchestra.domain.statuses import StepStatus
from orchestra.reports.calls import call_view
from orchestra.reports.html import render_html, render_suite_html
from orchestra.reports.json_report import render_json
from orchestra.reports.model import RunReport
from orchestra.reports.outcomes import element_outcomes
from tests.support.call_process import (
    CAPTURE,
    checkout_run_report,
    checkout_suite_report,
    graphs,
)
from tests.support.example_report import example_report

PAY, FRAUD = "Call_Pay", "Call_Pay/Call_Fraud"


def page(text: str) -> Any:
    return lxml_html.fromstring(text)


def section(document: Any, call: str) -> Any:
    (found,) = document.xpath(f"//section[@id='call-{call}']")
    return found


def group(within: Any, element: str) -> Any:
    (found,) = within.xpath(f".//g[@data-element='{element}']")
    return found


def test_each_inlined_call_gets_a_section_below_the_process_named_by_call_and_process() -> None:
    document = page(render_html(checkout_run_report()))

    sections = document.xpath("//section[@class='called']")
    assert [s.get("data-call") for s in sections] == [PAY, FRAUD]
    title = " ".join(section(document, PAY).xpath("./h3")[0].text_content().split())
    assert title == "Call activity Pay Call_Pay → process Payment v1 (Payment)"
    nested = " ".join(section(document, FRAUD).xpath("./h3")[0].text_content().split())
    assert (
        nested
        == "Call activity Fraud check Call_Pay/Call_Fraud → process FraudCheck v1 (Fraud check)"
    )
    main_svg = document.xpath("//main/div[@class='diagram']/svg")[0]
    assert main_svg.getparent().getnext() is not None  # the sections come after the process
    assert not main_svg.xpath(".//g[starts-with(@data-element, 'Call_Pay/')]")


def test_a_called_process_is_marked_by_the_outcomes_of_its_inlined_ids() -> None:
    document = page(render_html(checkout_run_report()))
    pay = section(document, PAY)

    states = {
        element: group(pay, element).get("data-outcome")
        for element in (
            "Call_Pay/Task_Authorize",
            "Call_Pay/Call_Fraud",
            CAPTURE,
            "Call_Pay/Flow_4",
            "Call_Pay/End",
        )
    }
    assert states == {
        "Call_Pay/Task_Authorize": "passed",
        "Call_Pay/Call_Fraud": "passed",
        CAPTURE: "failed",
        "Call_Pay/Flow_4": "not-covered",
        "Call_Pay/End": "not-covered",
    }
    assert "1✗" in group(pay, CAPTURE).xpath(".//text[@class='badge']")[0].text_content()
    score = group(section(document, FRAUD), "Call_Pay/Call_Fraud/Task_Score")
    assert score.get("data-outcome") == "passed"


def test_the_call_box_fails_with_what_failed_inside_it_and_links_to_its_drawing() -> None:
    document = page(render_html(checkout_run_report()))
    main_svg = document.xpath("//main/div[@class='diagram']/svg")[0]

    pay = group(main_svg, PAY)
    assert pay.get("data-outcome") == "failed"
    assert pay.get("data-call") == f"call-{PAY}"
    assert "inlined-call" in pay.get("class").split()
    assert [a.get("href") for a in pay.xpath(".//a")] == [f"#call-{PAY}"]
    nested_box = group(section(document, PAY), FRAUD)
    assert [a.get("href") for a in nested_box.xpath(".//a")] == [f"#call-{FRAUD}"]
    outcomes = element_outcomes(checkout_run_report())
    assert (outcomes[PAY].passed, outcomes[PAY].failed) == (0, 1)


def test_a_failure_inside_a_nested_call_fails_every_call_around_it() -> None:
    report = checkout_run_report()
    (run,) = report.test_runs
    steps = tuple(
        step.model_copy(update={"status": StepStatus.FAILED})
        if step.element_id == "Call_Pay/Call_Fraud/Task_Score"
        else step
        for step in run.steps
    )
    failing = report.model_copy(update={"test_runs": (run.model_copy(update={"steps": steps}),)})

    pay_view = call_view(report.process.calls[0])
    assert element_outcomes(failing)[PAY].outcome == "failed"
    assert element_outcomes(failing, pay_view)[FRAUD].outcome == "failed"
    assert element_outcomes(failing, pay_view)["Call_Pay/Task_Authorize"].outcome == "passed"


def test_every_id_on_the_page_is_unique() -> None:
    for text in (render_html(checkout_run_report()), render_suite_html(checkout_suite_report())):
        document = page(text)
        ids = Counter(element.get("id") for element in document.iter() if element.get("id"))
        assert [key for key, seen in ids.items() if seen > 1] == []
        drawn = Counter(g.get("data-element") for g in document.xpath("//svg//g[@data-element]"))
        assert [key for key, seen in drawn.items() if seen > 1] == []
        for link in document.xpath("//a[starts-with(@href, '#')]"):
            assert link.get("href")[1:] in ids, link.get("href")


def test_a_called_process_is_drawn_from_its_own_diagram_or_laid_out_when_it_has_none() -> None:
    document = page(render_html(checkout_run_report()))

    authorize = group(section(document, PAY), "Call_Pay/Task_Authorize")
    rect = authorize.xpath("./rect")[0]
    assert (rect.get("x"), rect.get("y")) == ("180", "278")  # Payment's own BPMNDI
    assert "laid out automatically" not in section(document, PAY).text_content()
    assert "laid out automatically" in section(document, FRAUD).text_content()
    fraud_svg = section(document, FRAUD).xpath(".//svg")[0]
    assert len(fraud_svg.xpath(".//g[@data-element]")) == 3 + 2


def test_a_step_inside_a_call_links_to_its_element_in_the_calls_drawing() -> None:
    document = page(render_html(checkout_run_report()))

    links = {
        a.get("href"): a.text_content()
        for a in document.xpath("//details[contains(@class, 'step')]//a[@class='to-element']")
    }
    assert links[f"#el-{CAPTURE}"] == "in Pay"
    assert links["#el-Call_Pay/Call_Fraud/Task_Score"] == "in Fraud check"
    assert links["#el-Task_Order"] == "diagram"
    (target,) = document.xpath(f"//*[@id='el-{CAPTURE}']")
    assert target.xpath("ancestor::section")[0].get("id") == f"call-{PAY}"


def test_a_call_that_was_not_inlined_is_drawn_as_before_with_no_section() -> None:
    document = page(render_html(checkout_run_report()))
    main_svg = document.xpath("//main/div[@class='diagram']/svg")[0]

    ship = group(main_svg, "Call_Ship")
    assert ship.get("data-call") is None
    assert ship.xpath(".//a") == []
    assert "inlined-call" not in ship.get("class").split()
    assert document.xpath("//section[@id='call-Call_Ship']") == []


def test_a_report_without_inlined_calls_has_no_called_processes() -> None:
    text = render_html(example_report())
    document = page(text)
    assert "Called processes" not in text
    assert document.xpath("//section[@class='called'] | //svg//a | //g[@data-call]") == []
    assert 'marker-end="url(#arrow-passed)"' in text  # the process's arrowheads keep their ids


def test_the_coverage_page_draws_called_processes_with_coverage_and_unbound_calls() -> None:
    report = checkout_suite_report(without="Call_Pay/Call_Fraud/Task_Score")
    document = page(render_suite_html(report))
    main_svg = document.xpath("//main/div[@class='diagram']/svg")[0]

    capture = group(section(document, PAY), CAPTURE)
    assert (capture.get("data-coverage"), capture.get("data-scenarios")) == ("covered", "1")
    assert group(main_svg, PAY).get("data-unbound") == "true"
    assert group(section(document, PAY), FRAUD).get("data-unbound") == "true"
    score = group(section(document, FRAUD), "Call_Pay/Call_Fraud/Task_Score")
    assert score.get("data-unbound") == "true"
    assert group(section(document, PAY), "Call_Pay/Task_Authorize").get("data-unbound") is None
    plan_links = document.xpath("//li[contains(@class, 'plan-step')]/a[@class='to-element']")
    assert f"#el-{CAPTURE}" in [a.get("href") for a in plan_links]


def test_a_calls_view_has_the_ids_generation_gives_the_called_process() -> None:
    report = checkout_run_report()
    caller = graphs()["Checkout"]
    called = {key: graph for key, graph in graphs().items() if key != "Checkout"}
    working, _ = inline_calls(caller, called)
    for call in report.process.calls:
        view = call_view(call)
        inside = {
            node.id
            for node in working.nodes
            if node.id.startswith(call.call + "/") and "/" not in node.id[len(call.call) + 1 :]
        }
        assert {node.id for node in view.nodes} == inside
        assert {flow.id for flow in view.flows} <= {flow.id for flow in working.flows}


def test_the_json_report_carries_the_called_processes_and_the_html_is_built_back_from_it() -> None:
    report = checkout_run_report()
    document = json.loads(render_json(report))

    calls = document["report"]["process"]["calls"]
    assert [(c["call"], c["key"], c["version"]) for c in calls] == [
        (PAY, "Payment", 1),
        (FRAUD, "FraudCheck", 1),
    ]
    elements = {item["element_id"]: item["outcome"] for item in document["elements"]}
    assert elements[CAPTURE] == "failed"
    assert elements[PAY] == "failed"
    own = report.process.graph
    counts = document["summary"]["elements"]  # the process's own elements, not the calls'
    assert sum(counts["node"].values()) == len(own.nodes)
    assert sum(counts["flow"].values()) == len(own.flows)
    assert len(document["elements"]) > len(own.nodes) + len(own.flows)
    assert render_html(RunReport.model_validate(document["report"])) == render_html(report)
