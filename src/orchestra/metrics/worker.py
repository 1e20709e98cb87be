"""A worker's own metrics: what it claimed, recorded and ended, counted as it happens (the
runtime's `Observer`), served over HTTP by a thread of the worker process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.exposition import start_http_server

from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.errors import UsageError

# from a fast SUT's milliseconds to an `eventually` polling for minutes
STEP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
ENDED_BY_WORKERS = (TestRunStatus.PASSED, TestRunStatus.FAILED, TestRunStatus.ERROR)


class WorkerMetrics:
    """The runtime's `Observer`, keeping Prometheus counters in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._claims = Counter(
            "orchestra_claims",
            "Test runs claimed (again after a lost lease or a release)",
            registry=registry,
        )
        self._runs = Counter(
            "orchestra_test_runs_ended",
            "Test runs this worker ended, by status",
            ["status"],
            registry=registry,
        )
        self._steps = Counter(
            "orchestra_step_results",
            "Step results recorded, by status",
            ["status"],
            registry=registry,
        )
        self._durations = Histogram(
            "orchestra_step_duration_seconds",
            "How long a step took, retries and polls included",
            buckets=STEP_BUCKETS,
            registry=registry,
        )
        self._lost = Counter(
            "orchestra_lost_leases",
            "Runs whose lease this worker lost (expired, taken over)",
            registry=registry,
        )
        self._stuck = Counter(
            "orchestra_failed_stuck",
            "Runs this worker's sweeps marked FAILED_STUCK",
            registry=registry,
        )
        self._stalls = Counter(
            "orchestra_stalls",
            "Times this worker's event loop or process stalled (ticks 0.5 s late or more)",
            registry=registry,
        )
        self._stall_seconds = Counter(
            "orchestra_stall_seconds",
            "Seconds this worker spent stalled",
            registry=registry,
        )
        self._stall_resends = Counter(
            "orchestra_stall_resends",
            "Steps sent again because their request timed out while this worker stalled",
            registry=registry,
        )
        ProcessCollector(registry=registry)  # the worker's CPU, memory, open files
        for status in ENDED_BY_WORKERS:  # every series from the first scrape, at 0
            self._runs.labels(status.value)
        for step_status in StepStatus:
            self._steps.labels(step_status.value)

    def claimed(self, runs: int) -> None:
        self._claims.inc(runs)

    def step_recorded(self, status: StepStatus, seconds: float | None) -> None:
        self._steps.labels(status.value).inc()
        if seconds is not None:
            self._durations.observe(seconds)

    def run_ended(self, status: TestRunStatus) -> None:
        self._runs.labels(status.value).inc()

    def leases_lost(self, runs: int) -> None:
        if runs:
            self._lost.inc(runs)

    def stuck(self, runs: int) -> None:
        self._stuck.inc(runs)

    def stalled(self, seconds: float) -> None:
        self._stalls.inc()
        self._stall_seconds.inc(seconds)

    def resent_after_stall(self) -> None:
        self._stall_resends.inc()


@contextlib.contextmanager
def serving(metrics: WorkerMetrics, host: str, port: int) -> Iterator[str]:
    """Serve `metrics` at `http://host:port/metrics` (any path answers them) while the block
    runs; yields that URL, with the port really bound (a free one for 0)."""
    try:
        server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        raise UsageError(
            f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}"
            " (--metrics-host, --metrics-port)"
        ) from exc
    bound_host, bound_port = server.server_address[:2]
    bound = bound_host.decode() if isinstance(bound_host, bytes) else bound_host
    shown = f"[{bound}]" if ":" in bound else bound
    try:
        yield f"http://{shown}:{bound_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
