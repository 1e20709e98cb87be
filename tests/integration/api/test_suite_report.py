"""GET /suites/{id}/report: a suite's coverage page before any run, as the run report is served."""

from __future__ import annotations

from typing import Any

from lxml import html as lxml_html

from tests.integration.api.conftest import Client
from tests.support.coverage_suite import REFUND_BINDINGS, REFUND_BPMN


async def generate_refund(api: Client) -> int:
    imported = await api.post(
        "/processes?filename=refund.bpmn",
        data=REFUND_BPMN,
        headers={"Content-Type": "application/xml"},
    )
    assert imported.status == 201, imported.body
    body = {"process": "Refund", "coverage": "all-nodes", "bindings": REFUND_BINDINGS}
    reply = await api.post("/suites", json=body)
    assert reply.status == 201, reply.body
    suite: int = reply.json()["suite"]
    return suite


async def test_a_suites_coverage_page_is_served_as_html_with_its_diagram(api: Client) -> None:
    suite = await generate_refund(api)

    reply = await api.get(f"/suites/{suite}/report")

    assert reply.status == 200
    assert reply.media_type == "text/html"
    assert f'filename="orchestra-suite-{suite}.html"' in reply.headers["Content-Disposition"]
    document: Any = lxml_html.fromstring(reply.body)
    coverage = {
        g.get("data-element"): (g.get("data-coverage"), g.get("data-scenarios"))
        for g in document.xpath("//svg//g[@data-element]")
    }
    assert coverage["Flow_Skip"] == ("not-covered", "0")
    assert coverage["Task_Approve"] == ("covered", "1")
    assert coverage["Task_Notify"] == ("covered", "2")
    assert len(document.xpath("//div[@id='runs']/details")) == 2
    data = [d.text_content() for d in document.xpath("//div[contains(@class, 'data')]/code")]
    assert sorted(data) == ['{"valid": false}', '{"valid": true}']  # from ${valid}, ${!valid}


async def test_a_missing_suites_page_is_404_naming_the_suite(api: Client) -> None:
    reply = await api.get("/suites/4242/report")

    assert reply.status == 404
    assert reply.json()["error"] == "NotFound"
    assert "suite 4242" in reply.json()["message"]


async def test_the_page_needs_the_token_like_every_other_route(api: Client) -> None:
    reply = await api.get("/suites/1/report", token=None)

    assert reply.status == 401
