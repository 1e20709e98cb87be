"""GET /metrics: the gauges of the suite runs in progress, read from PostgreSQL at each scrape,
behind the token, in Prometheus's text format (parsed with prometheus_client's parser)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from orchestra.examples.order import EXPECTED
from tests.integration.api.conftest import Client
from tests.integration.api.test_suites_and_runs import configure, generate, start_run

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(api: Client) -> Samples:
    reply = await api.get("/metrics")
    assert reply.status == 200
    assert reply.media_type == "text/plain"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(reply.body.decode())
        for sample in family.samples
    }


def by_status(samples: Samples) -> dict[str, float]:
    return {
        dict(labels)["status"]: value
        for (name, labels), value in samples.items()
        if name == "orchestra_test_runs"
    }


async def test_metrics_count_the_suite_runs_in_progress_and_their_runs_by_status(
    api: Client,
) -> None:
    before = await scrape(api)
    await configure(api)
    suite = await generate(api)
    first = (await start_run(api, suite["suite"]))["suite_run"]
    await start_run(api, suite["suite"])
    await api.post(f"/suite-runs/{first}/cancel")

    after = await scrape(api)

    assert before[("orchestra_suite_runs_in_progress", ())] == 0
    assert set(by_status(before).values()) == {0}
    assert after[("orchestra_suite_runs_in_progress", ())] == 1
    queued = by_status(after)["QUEUED"] + by_status(after)["PENDING"]
    assert queued == EXPECTED["test_runs"]  # the cancelled suite run's runs are not counted
    assert by_status(after)["CANCELLED"] == 0
    assert after[("orchestra_queued_runs", ())] == by_status(after)["QUEUED"]


async def test_metrics_want_the_token_like_every_route(api: Client) -> None:
    reply = await api.get("/metrics", token=None)

    assert reply.status == 401
