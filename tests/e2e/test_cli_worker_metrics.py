"""`orchestra worker --metrics-port`: the worker serves its own metrics on 127.0.0.1 while it
runs, says where, and stops serving when it stops; a port it cannot take is a usage error."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import clean_env, orchestra


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def scrape(url: str) -> set[str]:
    for _ in range(300):  # bounded: the worker opens its database first (15 s)
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                text = response.read().decode()
            return {family.name for family in text_string_to_metric_families(text)}
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing answered at {url}")


def test_a_worker_serves_its_metrics_on_the_port_given_until_it_stops(database_url: str) -> None:
    port = free_port()
    worker = subprocess.Popen(
        [sys.executable, "-m", "orchestra", "worker", "--metrics-port", str(port), "--json"],
        env=clean_env(ORCHESTRA_DATABASE_URL=database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        names = scrape(f"http://127.0.0.1:{port}/metrics")
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)

    assert worker.returncode == 0, err
    assert json.loads(out)["metrics"] == f"http://127.0.0.1:{port}/metrics"
    assert {"orchestra_claims", "orchestra_step_duration_seconds"} <= names
    assert {"orchestra_lost_leases", "orchestra_failed_stuck"} <= names


def test_a_metrics_port_already_taken_is_a_usage_error(database_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
        done = orchestra("worker", "--metrics-port", port, "--json", env=env)

    assert done.returncode == 2
    assert "--metrics-port" in json.loads(done.stdout)["message"]
    assert "Traceback" not in done.stderr
