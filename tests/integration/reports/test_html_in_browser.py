"""The HTML report in a real headless Chromium, opened from file:// with no network."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.reports.html import render_html, render_suite_html
from orchestra.reports.json_report import render_json
from orchestra.reports.model import RunReport
from orchestra.reports.screenshot import CHROMIUM, chromium, file_url, html_for, screenshot
from tests.support.call_process import checkout_run_report
from tests.support.coverage_suite import refund_suite_report
from tests.support.event_process import events_report
from tests.support.example_report import example_report, make_run, step

pytestmark = [
    pytest.mark.browser,
    pytest.mark.asyncio(loop_scope="module"),  # one Chromium for the module
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: `apt-get install -y chromium chromium-driver`",
    ),
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
RED = "rgb(198, 40, 40)"
GREEN = "rgb(46, 133, 64)"
BLUE = "rgb(9, 105, 218)"


class Opened:
    """A page showing one report, with what its console said."""

    def __init__(self, page: Any, problems: list[str]) -> None:
        self.page = page
        self.problems = problems

    async def visible_runs(self) -> int:
        return int(
            await self.page.evaluate(
                "[...document.querySelectorAll('#runs > details')]"
                ".filter(d => d.offsetParent !== null).length"
            )
        )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


async def open_report(browser: Any, report: RunReport, tmp_path: Path) -> Opened:
    return await open_page(browser, render_html(report), tmp_path)


async def open_page(browser: Any, page_html: str, tmp_path: Path) -> Opened:
    target = tmp_path / "report.html"
    target.write_text(page_html, encoding="utf-8")
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(5000)
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    page.on("request", lambda r: None if r.url.startswith("file:") else problems.append(r.url))
    await page.goto(file_url(target))
    return Opened(page, problems)


async def test_the_report_opens_without_console_errors_and_a_screenshot_is_kept(
    browser: Any, tmp_path: Path
) -> None:
    opened = await open_report(browser, example_report(), tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    await opened.page.screenshot(path=str(ARTIFACTS / "report-example.png"), full_page=True)
    assert opened.problems == []
    assert (ARTIFACTS / "report-example.png").stat().st_size > 10_000


@pytest.mark.parametrize("with_diagram", [True, False], ids=["bpmndi", "laid-out"])
async def test_the_diagram_shows_every_element_coloured_by_its_outcome(
    browser: Any, tmp_path: Path, with_diagram: bool
) -> None:
    opened = await open_report(browser, example_report(with_diagram=with_diagram), tmp_path)
    count = "s => document.querySelectorAll(s).length"
    assert await opened.page.evaluate(count, "svg g.el[data-outcome=passed]") == 33
    assert await opened.page.evaluate(count, "svg g.el[data-outcome=failed]") == 1
    assert await opened.page.evaluate(count, "svg g.el[data-outcome=not-covered]") == 0
    stroke = "s => getComputedStyle(document.querySelector(s)).stroke"
    failed = "[data-element=EndEvent_OrderCancelled] .shape"
    assert await opened.page.evaluate(stroke, failed) == RED
    assert await opened.page.evaluate(stroke, "[data-element=Task_CreateOrder] .shape") == GREEN


async def test_thrown_event_markers_are_filled_caught_ones_outlined_and_titles_say_the_refs(
    browser: Any, tmp_path: Path
) -> None:
    opened = await open_report(browser, events_report(), tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    await opened.page.locator("svg.bpmn").screenshot(path=str(ARTIFACTS / "report-events.png"))
    style = "([s, p]) => getComputedStyle(document.querySelector(s))[p]"
    thrown = "[data-element=Signal_Done] .event-marker .glyph"
    caught = "[data-element=Message_Paid] .event-marker .glyph"
    assert await opened.page.evaluate(style, [thrown, "fill"]) == GREEN  # on the passed path
    assert await opened.page.evaluate(style, [caught, "fill"]) == "none"
    dashed = "[data-element=Boundary_Late] .shape"
    assert await opened.page.evaluate(style, [dashed, "strokeDasharray"]) != "none"
    solid = "[data-element=Boundary_PayFailed] .shape"
    assert await opened.page.evaluate(style, [solid, "strokeDasharray"]) == "none"
    title = "[data-element=Boundary_PayFailed] > title"
    assert (await opened.page.text_content(title) or "").endswith(
        "\nerror Error_Pay code PAY_ERR 'Payment failed'"
    )
    assert opened.problems == []


async def test_the_failure_filter_shows_only_the_failed_runs_and_back(
    browser: Any, tmp_path: Path
) -> None:
    opened = await open_report(browser, example_report(), tmp_path)
    assert await opened.visible_runs() == 3
    await opened.page.check("#failures-only")
    assert await opened.visible_runs() == 1
    assert await opened.page.text_content("#filter-note") == "Showing 1 of 3 runs failed"
    assert await opened.page.is_visible("details[data-status=FAILED]")
    await opened.page.uncheck("#failures-only")
    assert await opened.visible_runs() == 3
    assert opened.problems == []


async def test_clicking_an_element_lists_the_runs_through_it(browser: Any, tmp_path: Path) -> None:
    opened = await open_report(browser, example_report(), tmp_path)
    await opened.page.click("g[data-element=Task_RefundPayment]")
    assert await opened.visible_runs() == 1
    await opened.page.click("#clear-element")
    assert await opened.visible_runs() == 3


async def test_an_element_lists_only_the_runs_that_reached_it_and_says_how_many_stopped_before(
    browser: Any, tmp_path: Path
) -> None:
    stopped = make_run(
        4,
        "declined, give up",
        TestRunStatus.FAILED,
        (step(1, "Task_CreateOrder", StepStatus.ERROR),),
    )
    opened = await open_report(
        browser, example_report((*example_report().test_runs, stopped)), tmp_path
    )
    await opened.page.click("g[data-element=Task_CancelOrder]")
    assert await opened.visible_runs() == 1
    assert await opened.page.is_visible("details[data-run='3']")
    assert await opened.page.text_content("#filter-note") == (
        "Showing runs through Task_CancelOrder"
        " (not the 1 that had it on their path but stopped before it)"
    )
    await opened.page.click("g[data-element=Task_CreateOrder]")
    assert await opened.visible_runs() == 4
    assert await opened.page.text_content("#filter-note") == "Showing runs through Task_CreateOrder"
    assert opened.problems == []


async def test_a_failed_step_opens_on_its_expected_and_actual_values(
    browser: Any, tmp_path: Path
) -> None:
    opened = await open_report(browser, example_report(), tmp_path)
    await opened.page.click("details[data-status=FAILED] > summary")
    await opened.page.click("details[data-status=FAILED] details.step.FAILED > summary")
    row = opened.page.locator("details.step.FAILED tr.check-failed")
    assert await row.inner_text() == (
        "jsonpath $.reservation.state eq\tRELEASED\tRESERVED\tFAILED: eventually, 30 polls in 3.0 s"
    )


async def test_hostile_bodies_from_the_sut_are_shown_as_text_and_never_run(
    browser: Any, tmp_path: Path
) -> None:
    hostile = '</pre><script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
    bad = step(1, "Task_CreateOrder", StepStatus.FAILED, error=hostile)
    bad = bad.model_copy(update={"response": {"status": 500, "body": hostile}})
    report = example_report((make_run(1, hostile, TestRunStatus.FAILED, (bad,)),))
    opened = await open_report(browser, report, tmp_path)
    await opened.page.click("#runs > details > summary")
    await opened.page.click("details.step > summary")
    assert await opened.page.evaluate("window.pwned === undefined")
    assert await opened.page.evaluate("document.querySelectorAll('#runs img').length") == 0
    assert hostile in await opened.page.inner_text("details.step .error")
    assert opened.problems == []


async def test_a_thousand_runs_open_and_filter_quickly(browser: Any, tmp_path: Path) -> None:
    steps = tuple(step(k, "Task_CreateOrder") for k in range(1, 9))
    runs = tuple(
        make_run(
            n,
            "declined, give up",
            TestRunStatus.FAILED if n % 10 == 0 else TestRunStatus.PASSED,
            steps,
        )
        for n in range(1, 1001)
    )
    started = time.perf_counter()
    opened = await open_report(browser, example_report(runs), tmp_path)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    await opened.page.check("#failures-only")
    visible = await opened.visible_runs()
    filtered = time.perf_counter() - started
    print(f"1,000 runs: render + load {loaded:.2f} s, failure filter {filtered * 1000:.0f} ms")
    assert visible == 100
    assert opened.problems == []


async def test_the_screenshot_tool_turns_a_json_report_into_a_png(tmp_path: Path) -> None:
    source = tmp_path / "report.json"
    source.write_text(render_json(example_report()), encoding="utf-8")
    html_file = html_for(source)
    png = await screenshot(html_file, tmp_path / "report.png", open_failure=True)
    assert html_file == tmp_path / "report.html"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_a_suites_coverage_page_opens_clean_and_its_elements_list_their_scenarios(
    browser: Any, tmp_path: Path
) -> None:
    opened = await open_page(browser, render_suite_html(refund_suite_report()), tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    await opened.page.screenshot(path=str(ARTIFACTS / "suite-coverage.png"), full_page=True)
    style = "([s, p]) => getComputedStyle(document.querySelector(s))[p]"
    skip = "[data-element=Flow_Skip] polyline"
    assert await opened.page.evaluate(style, [skip, "stroke"]) == RED
    assert await opened.page.evaluate(style, [skip, "strokeDasharray"]) != "none"
    assert await opened.page.evaluate(style, ["[data-element=Task_Check] .shape", "stroke"]) == BLUE
    assert await opened.page.text_content("#filter-note") == "Showing all 2 scenarios"
    await opened.page.click("g[data-element=Task_Approve]")
    assert await opened.visible_runs() == 1
    assert await opened.page.text_content("#filter-note") == (
        "Showing scenarios through Task_Approve"
    )
    await opened.page.click("#clear-element")
    assert await opened.visible_runs() == 2
    assert opened.problems == []


async def test_called_processes_are_drawn_below_and_steps_and_call_boxes_lead_to_them(
    browser: Any, tmp_path: Path
) -> None:
    opened = await open_report(browser, checkout_run_report(), tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    await opened.page.screenshot(path=str(ARTIFACTS / "report-calls.png"), full_page=True)
    page = opened.page
    style = "([s, p]) => getComputedStyle(document.querySelector(s))[p]"
    capture = '#call-Call_Pay [data-element="Call_Pay/Task_Capture"] .shape'
    assert await page.evaluate(style, [capture, "stroke"]) == RED
    assert await page.evaluate(style, ['[data-element="Call_Pay"] .shape', "stroke"]) == RED
    await page.click('[data-element="Call_Pay"] a.call-link')
    assert await page.evaluate("location.hash") == "#call-Call_Pay"
    assert await page.is_hidden("#clear-element")  # following the link selects nothing
    await page.click('g[data-element="Call_Pay/Task_Authorize"]')
    assert await page.text_content("#filter-note") == (
        "Showing runs through Call_Pay/Task_Authorize"
    )
    await page.click("#clear-element")
    await page.click("#runs > details > summary")
    await page.click("details.step.FAILED a.to-element")
    target = "document.querySelector(':target').getAttribute('data-element')"
    assert await page.evaluate(target) == "Call_Pay/Task_Capture"
    assert opened.problems == []
