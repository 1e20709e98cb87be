"""The web UI's pages, read as a browser reads them: the suite runs (filters, progress, start,
cancel, re-run the failed ones), processes with their versions and diagram, suites with their
coverage, environments without secret values, data sets by their first rows."""

from __future__ import annotations

import asyncio
import re

from orchestra.binding.factory import executor_factory
from orchestra.examples.order import TOKEN_VARIABLE, environment_text
from orchestra.examples.order.sut import run_example_sut
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.api.test_suites_and_runs import YAML, configure, generate, start_run
from tests.integration.web.conftest import Browser


def text(body: bytes) -> str:
    return body.decode("utf-8")


def row_of(page: str, attribute: str, value: object) -> str:
    """The table row marked `attribute="value"`."""
    found = re.search(rf'<tr {attribute}="{value}".*?</tr>', page, re.S)
    assert found is not None, f"no row {attribute}={value}"
    return found.group(0)


async def test_the_suite_runs_page_lists_each_run_with_its_progress(signed_in: Browser) -> None:
    api = signed_in.client
    suite = (await generate(api))["suite"]
    await configure(api)
    run = (await start_run(api, suite))["suite_run"]

    page = text((await signed_in.get("/ui/suite-runs")).body)

    row = row_of(page, "data-suite-run", run)
    assert f'href="/ui/suite-runs/{run}"' in row
    assert "IN_PROGRESS" in row
    assert 'value="0"' in row
    assert ">0/6<" in row
    assert f'action="/ui/suite-runs/{run}/cancel"' in row
    assert "order_fulfilment@1:all-flows" in row
    # the start form offers what there is to run
    assert f'<option value="{suite}">' in page
    assert "<option>local</option>" in page
    assert "<option>customers</option>" in page


async def test_a_run_started_from_the_page_is_listed_first(signed_in: Browser) -> None:
    api = signed_in.client
    suite = (await generate(api))["suite"]
    await configure(api)

    reply = await signed_in.post_form(
        "/ui/suite-runs", {"suite": str(suite), "environment": "local", "data_set": "customers"}
    )

    assert reply.status == 303
    newest = (await api.get("/suite-runs")).json()["suite_runs"][0]
    assert reply.headers["Location"] == f"/ui/suite-runs?started={newest['suite_run']}"
    assert newest["total"] == 6
    page = text((await signed_in.get(reply.headers["Location"])).body)
    assert 'class="started"' in row_of(page, "data-suite-run", newest["suite_run"])


async def test_a_run_the_server_refuses_is_shown_on_the_page_with_its_status(
    signed_in: Browser,
) -> None:
    suite = (await generate(signed_in.client))["suite"]

    reply = await signed_in.post_form(
        "/ui/suite-runs", {"suite": str(suite), "environment": "nowhere", "data_set": ""}
    )

    assert reply.status == 404
    assert "no environment" in text(reply.body)
    assert "nowhere" in text(reply.body)
    assert (await signed_in.client.get("/suite-runs")).json()["suite_runs"] == []


async def test_cancelling_from_the_page_cancels_the_run_once(signed_in: Browser) -> None:
    api = signed_in.client
    suite = (await generate(api))["suite"]
    await configure(api)
    run = (await start_run(api, suite))["suite_run"]
    back = "/ui/suite-runs?status=IN_PROGRESS"

    first = await signed_in.post_form(f"/ui/suite-runs/{run}/cancel", {"next": back})
    again = await signed_in.post_form(f"/ui/suite-runs/{run}/cancel", {"next": back})

    assert first.status == 303
    assert first.headers["Location"] == back
    assert (await api.get(f"/suite-runs/{run}")).json()["status"] == "CANCELLED"
    assert again.status == 409
    assert "has already ended CANCELLED" in text(again.body)


async def test_the_filters_keep_the_runs_of_a_status_suite_or_process(
    signed_in: Browser,
) -> None:
    api = signed_in.client
    suite = (await generate(api))["suite"]
    await configure(api)
    kept = (await start_run(api, suite))["suite_run"]
    cancelled = (await start_run(api, suite))["suite_run"]
    await api.post(f"/suite-runs/{cancelled}/cancel")

    by_status = text((await signed_in.get("/ui/suite-runs?status=CANCELLED")).body)
    by_suite = text((await signed_in.get(f"/ui/suite-runs?suite={suite}")).body)
    by_process = text((await signed_in.get("/ui/suite-runs?process=order_fulfilment")).body)
    by_other = text((await signed_in.get("/ui/suite-runs?process=another")).body)
    wrong = await signed_in.get("/ui/suite-runs?status=LOST")

    assert f'data-suite-run="{cancelled}"' in by_status
    assert f'data-suite-run="{kept}"' not in by_status
    assert "<option selected>CANCELLED</option>" in by_status
    assert f'data-suite-run="{kept}"' in by_suite
    assert f'data-suite-run="{cancelled}"' in by_suite
    assert f'data-suite-run="{kept}"' in by_process
    assert "No suite run matches these filters" in by_other
    assert wrong.status == 400
    assert "unknown suite run status" in text(wrong.body)


async def test_the_failed_runs_are_run_again_from_the_page(
    signed_in: Browser, db: Database
) -> None:
    api = signed_in.client
    suite = (await generate(api))["suite"]
    await configure(api)
    token = "web-rerun-token"
    async with run_example_sut(token=token) as sut_url:
        await api.post("/environments", data=environment_text(sut_url), headers=YAML)
        run = (await start_run(api, suite))["suite_run"]
        async with asyncio.timeout(120):
            await running.work_until_done(
                db, run, executor_factory({TOKEN_VARIABLE: token}), workers=1
            )
    listed = text((await signed_in.get("/ui/suite-runs")).body)
    assert f'action="/ui/suite-runs/{run}/rerun"' in row_of(listed, "data-suite-run", run)

    reply = await signed_in.post_form(f"/ui/suite-runs/{run}/rerun", {})

    assert reply.status == 303
    newest = (await api.get("/suite-runs")).json()["suite_runs"][0]
    assert newest["suite_run"] != run
    assert reply.headers["Location"] == f"/ui/suite-runs?started={newest['suite_run']}"
    assert newest["total"] == 2  # the planted defect's two failures, nothing they depend on


async def test_the_processes_page_lists_each_process_by_its_latest_version(
    signed_in: Browser,
) -> None:
    await signed_in.client.import_example()

    page = text((await signed_in.get("/ui/processes")).body)

    row = row_of(page, "data-process", "order_fulfilment")
    assert 'href="/ui/processes/order_fulfilment"' in row
    assert "Order fulfilment" in row or "order_fulfilment" in row


async def test_a_process_page_shows_its_versions_diagram_and_suites(signed_in: Browser) -> None:
    suite = (await generate(signed_in.client))["suite"]

    page = text((await signed_in.get("/ui/processes/order_fulfilment")).body)
    missing = await signed_in.get("/ui/processes/order_fulfilment?version=9")

    assert '<svg xmlns="http://www.w3.org/2000/svg" class="bpmn"' in page
    assert 'data-element="' in page
    assert 'id="versions"' in page
    assert f'href="/ui/suites/{suite}"' in page
    assert missing.status == 404
    assert "order_fulfilment@9" in text(missing.body)


async def test_the_suites_page_and_a_suites_coverage_view(signed_in: Browser) -> None:
    suite = await generate(signed_in.client)

    listed = text((await signed_in.get("/ui/suites")).body)
    view = text((await signed_in.get(f"/ui/suites/{suite['suite']}")).body)

    row = row_of(listed, "data-suite", suite["suite"])
    flows = suite["coverage"]
    assert f">{flows['flows_covered']}/{flows['flows_total']}<" in row
    assert 'data-coverage="covered"' in view  # the diagram coloured by coverage
    assert 'class="n-scenarios">3<' in view
    for name in suite["scenario_names"]:
        assert f'data-scenario="{name}"' in view
    assert f'href="/suites/{suite["suite"]}/report"' in view


async def test_the_environments_page_shows_secret_references_never_values(
    signed_in: Browser,
) -> None:
    await configure(signed_in.client)

    page = text((await signed_in.get("/ui/environments")).body)

    row = row_of(page, "data-environment", "local")
    assert "<code>http://127.0.0.1:9</code>" in row
    assert "${ORCHESTRA_EXAMPLE_TOKEN}" in row


async def test_the_data_sets_page_shows_the_first_rows_only(signed_in: Browser) -> None:
    rows = "\n".join(["n,name", *(f"{i},customer {i}" for i in range(25))])
    headers = {"Content-Type": "text/csv"}
    assert (
        await signed_in.client.post("/data-sets/many", data=rows, headers=headers)
    ).status == 201

    page = text((await signed_in.get("/ui/data-sets")).body)

    assert "25 rows, the first 10 shown" in page
    assert "<code>customer 9</code>" in page
    assert "customer 10" not in page
    assert '<th scope="col">name</th>' in page
