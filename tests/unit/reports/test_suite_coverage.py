"""A suite's coverage page, before any run: the diagram coloured by the scenarios through each
element, gaps and unbound tasks marked, the scenarios listed — on the run report's own page."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest
from lxml import html as lxml_html

from orchestra.reports.coverage import Covered, coverage_counts, coverage_summary, element_coverage
from orchestra.reports.html import render_html, render_suite_html
from orchestra.reports.model import SuiteReport
from tests.support.coverage_suite import (
    THROUGH_BOTH,
    THROUGH_ONE,
    UNBOUND,
    UNCOVERED,
    refund_suite_report,
)
from tests.support.example_report import example_report

HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


def page(report: SuiteReport | None = None) -> Any:
    return lxml_html.fromstring(render_suite_html(report or refund_suite_report()))


def groups(document: Any) -> dict[str, Any]:
    return {g.get("data-element"): g for g in document.xpath("//svg//g[@data-element]")}


def test_each_element_counts_the_scenarios_whose_path_goes_through_it() -> None:
    elements = element_coverage(refund_suite_report())
    assert {e: elements[e].scenarios for e in THROUGH_BOTH} == dict.fromkeys(THROUGH_BOTH, 2)
    assert {e: elements[e].scenarios for e in THROUGH_ONE} == dict.fromkeys(THROUGH_ONE, 1)
    assert elements["Flow_Skip"].scenarios == 0
    assert elements["Flow_Skip"].state is Covered.NOT_COVERED
    assert [e for e, item in elements.items() if item.unbound] == list(UNBOUND)


def test_the_counts_agree_with_the_suites_own_coverage() -> None:
    report = refund_suite_report()
    counts = coverage_counts(element_coverage(report))
    coverage = report.suite.coverage
    assert counts["node"]["covered"] == coverage.nodes_covered == 8
    assert counts["flow"]["covered"] == coverage.flows_covered == 8
    assert counts["flow"]["not-covered"] == coverage.flows_total - coverage.flows_covered == 1
    assert counts["node"]["unbound"] == 1


def test_a_loop_taken_twice_counts_its_scenario_once() -> None:
    report = refund_suite_report()
    (first, second) = report.scenarios
    looped = first.model_copy(update={"path": (*first.path, "Flow_ToCheck", "Task_Check")})
    elements = element_coverage(report.model_copy(update={"scenarios": (looped, second)}))
    assert elements["Task_Check"].scenarios == 2


def test_a_call_activity_is_unbound_when_a_task_it_inlines_is() -> None:
    report = refund_suite_report().model_copy(update={"unbound": ("Task_Approve/Inner_Task",)})
    elements = element_coverage(report)
    assert elements["Task_Approve"].unbound
    assert not elements["Task_Notify"].unbound


def test_every_node_and_flow_is_one_group_carrying_its_coverage_and_scenario_count() -> None:
    found = groups(page())
    assert len(found) == 8 + 9
    for element in THROUGH_BOTH + THROUGH_ONE:
        assert found[element].get("data-coverage") == "covered", element
        assert "covered" in found[element].get("class").split(), element
    assert {e: found[e].get("data-scenarios") for e in THROUGH_BOTH} == dict.fromkeys(
        THROUGH_BOTH, "2"
    )
    assert {e: found[e].get("data-scenarios") for e in THROUGH_ONE} == dict.fromkeys(
        THROUGH_ONE, "1"
    )
    assert found["Task_Approve"].xpath("string(.//*[@class='count-scenarios'])") == "1×"
    assert found["Task_Check"].xpath("string(title)") == "Check claim (Task_Check) — 2 scenarios"


def test_the_flow_no_scenario_takes_is_marked_not_covered_and_listed_with_its_reason() -> None:
    document = page()
    (skip,) = (groups(document)[e] for e in UNCOVERED)
    assert skip.get("data-coverage") == "not-covered"
    assert skip.get("data-scenarios") == "0"
    assert skip.get("class").split() == ["el", "flow", "not-covered"]
    assert skip.xpath("string(.//polyline/@marker-end)") == "url(#arrow-not-covered)"
    assert skip.xpath("string(title)") == "Flow_Skip — not covered by any scenario"
    (listed,) = document.xpath("//details[contains(@class, 'uncovered')]")
    assert listed.get("open") is not None  # the gaps are what this page is for
    assert listed.text_content().split("\n")[0].strip() == "1 element(s) the suite does not cover"
    assert "Flow_Skip (flow): all-nodes does not require every flow" in listed.text_content()


def test_the_task_without_a_binding_is_marked_on_the_diagram_and_in_its_scenarios() -> None:
    document = page()
    notify = groups(document)["Task_Notify"]
    assert notify.get("data-unbound") == "true"
    assert "unbound" in notify.get("class").split()
    assert notify.xpath("string(.//*[@class='unbound-mark'])").strip() == "unbound"
    assert notify.xpath("string(title)").endswith("— 2 scenarios; no binding yet")
    assert [g for g, item in groups(document).items() if item.get("data-unbound")] == [
        "Task_Notify"
    ]
    unbound_steps = document.xpath(
        "//li[contains(@class, 'plan-step') and contains(@class, 'unbound')]"
    )
    assert len(unbound_steps) == 2  # once in each scenario
    assert all("Task_Notify" in step.text_content() for step in unbound_steps)


def test_the_scenarios_are_listed_with_their_paths_for_the_diagram_to_filter() -> None:
    report = refund_suite_report()
    document = page(report)
    (listing,) = document.xpath("//div[@id='runs']")
    assert listing.get("data-total") == "2"
    assert listing.get("data-noun") == "scenarios"
    scenarios = listing.xpath("./details")
    assert [s.get("data-scenario") for s in scenarios] == [s.name for s in report.scenarios]
    assert [s.get("data-path").split() for s in scenarios] == [
        list(s.path) for s in report.scenarios
    ]
    assert [len(s.xpath(".//li[contains(@class, 'plan-step')]")) for s in scenarios] == [4, 4]
    first = scenarios[0].text_content()
    assert "path: Start_Claim → Flow_ToCheck → Task_Check" in first
    assert "Gateway_Decide takes Flow_Approve ${valid}" in " ".join(first.split())
    assert document.xpath("string(//h2[2])") == "Scenarios"
    assert not document.xpath("//input[@id='failures-only']")  # no runs, no failures


def test_the_cards_give_the_criterion_and_what_is_covered_of_the_total() -> None:
    document = page()
    cards = [(card.findtext("b"), card[0].tail) for card in document.xpath("//div[@class='card']")]
    assert cards == [
        ("2", "scenarios"),
        ("8/9", "flows covered"),
        ("8/8", "nodes covered"),
        ("1", "without a binding yet"),
    ]
    assert "all-nodes" in document.xpath("string(//div[@class='meta'])")
    assert document.xpath("string(//h1)") == "Refund — suite 7 coverage"


@pytest.mark.parametrize("with_diagram", [True, False], ids=["bpmndi", "laid-out"])
def test_the_page_renders_with_the_models_diagram_or_one_laid_out(with_diagram: bool) -> None:
    document = page(refund_suite_report(with_diagram=with_diagram))
    assert len(groups(document)) == 17
    laid_out = "laid out automatically" in document.xpath("string(//div[@class='legend'])")
    assert laid_out is not with_diagram


def test_the_page_is_self_contained_and_its_policy_allows_exactly_its_style_and_script() -> None:
    text = render_suite_html(refund_suite_report())
    assert not re.search(r'(src|href)="(https?:)?//', text)
    for tag, directive in (("style", "style-src"), ("script", "script-src")):
        body = text.split(f"<{tag}>", 1)[1].split(f"</{tag}>", 1)[0]
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in text
    assert "--covered" in text.split("<style>", 1)[1]  # the coverage colours come with it


def test_names_from_the_model_are_escaped() -> None:
    report = refund_suite_report()
    hostile = report.scenarios[0].model_copy(update={"name": HOSTILE})
    report = report.model_copy(
        update={
            "scenarios": (hostile, *report.scenarios[1:]),
            "process": report.process.model_copy(update={"name": HOSTILE}),
        }
    )
    text = render_suite_html(report)
    assert "<script>window.pwned" not in text
    assert "<img src=x" not in text
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in text


def test_the_summary_gives_the_figures_the_cli_prints() -> None:
    summary = coverage_summary(refund_suite_report())
    assert summary["suite"] == 7
    assert summary["criterion"] == "all-nodes"
    assert summary["scenarios"] == 2
    assert summary["unbound"] == ["Task_Notify"]
    assert summary["scenarios_with_unbound"] == 2
    assert summary["elements"]["flow"] == {"covered": 8, "not-covered": 1, "unbound": 0}
    assert summary["coverage"]["uncovered"] == [
        {"element": "Flow_Skip", "kind": "flow", "reason": "all-nodes does not require every flow"}
    ]


def test_the_run_report_keeps_its_outcome_marks_and_no_coverage_marks() -> None:
    text = render_html(example_report())
    assert "data-coverage" not in text
    assert "--covered" not in text
    assert 'id="arrow-covered"' not in text
    assert text.count('data-outcome="passed"') == 33


def test_a_thousand_scenarios_are_each_listed_and_counted_on_the_diagram() -> None:
    report = refund_suite_report()
    scenarios = tuple(
        report.scenarios[n % 2].model_copy(update={"name": f"S{n}"}) for n in range(1000)
    )
    text = render_suite_html(report.model_copy(update={"scenarios": scenarios}))
    assert text.count('<details class="run scenario') == 1000
    assert 'data-element="Task_Approve" data-coverage="covered" data-scenarios="500"' in text


def test_a_race_scenario_shows_its_race_on_the_page_and_in_the_summary() -> None:
    report = refund_suite_report()
    first = report.scenarios[0]
    race = {"winner": "x", "rivals": [], "note": "a race: x ends the process, the SUT decides"}
    last = first.steps[-1].model_copy(update={"meta": {**first.steps[-1].meta, "race": race}})
    raced = first.model_copy(update={"steps": (*first.steps[:-1], last)})
    report = report.model_copy(update={"scenarios": (raced, *report.scenarios[1:])})
    document = page(report)
    notes = document.xpath("//div[contains(@class, 'race')]/text()")
    assert notes == ["a race: x ends the process, the SUT decides"]
    assert coverage_summary(report)["races"] == [{"scenario": first.name, **race}]
