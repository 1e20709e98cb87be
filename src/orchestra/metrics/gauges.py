"""The API's `/metrics`: how things stand, read from PostgreSQL by one statement at each
scrape (`store.watching.Gauges`), so every API server answers the same whichever is asked."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from orchestra.domain.statuses import TestRunStatus
from orchestra.store.watching import Gauges

MEDIA_TYPE = CONTENT_TYPE_LATEST


class _Snapshot(Collector):
    def __init__(self, gauges: Gauges) -> None:
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "orchestra_suite_runs_in_progress",
            "Suite runs in progress",
            value=self.gauges.suite_runs_in_progress,
        )
        by_status = GaugeMetricFamily(
            "orchestra_test_runs",
            "Test runs of the suite runs in progress, by status",
            labels=["status"],
        )
        for status in TestRunStatus:
            by_status.add_metric([status.value], self.gauges.open_test_runs.get(status, 0))
        yield by_status
        yield GaugeMetricFamily(
            "orchestra_queued_runs",
            "Test runs a worker could claim now (QUEUED and due)",
            value=self.gauges.claimable,
        )


def exposition(gauges: Gauges) -> bytes:
    """The gauges in Prometheus's text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(gauges))
    return generate_latest(registry)
