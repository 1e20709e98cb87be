"""POST /suite-runs refuses a suite with tasks left unbound (422, naming them) unless the
body says `allow_unbound: true`."""

from __future__ import annotations

from tests.integration.api.conftest import Client


async def test_a_suite_with_unbound_tasks_is_refused_with_422_naming_them(api: Client) -> None:
    await api.import_example()
    suite = await api.post("/suites", json={"process": "order_fulfilment"})
    assert suite.status == 201, suite.body
    unbound = suite.json()["unbound"]
    assert unbound

    refused = await api.post("/suite-runs", json={"suite": suite.json()["suite"]})

    assert refused.status == 422, refused.body
    error = refused.json()
    assert error["error"] == "UnboundTasks"
    assert sorted(task["element_id"] for task in error["unbound"]) == sorted(unbound)
    assert all(task["scenarios"] for task in error["unbound"])
    assert "allow_unbound" in error["message"]
    assert (await api.get("/suite-runs")).json()["suite_runs"] == []


async def test_allow_unbound_in_the_body_starts_the_run_anyway(api: Client) -> None:
    await api.import_example()
    suite = (await api.post("/suites", json={"process": "order_fulfilment"})).json()

    started = await api.post("/suite-runs", json={"suite": suite["suite"], "allow_unbound": True})

    assert started.status == 201, started.body
    assert started.json()["total"] == suite["scenarios"]
