"""Through the API: a boundary suite (`data_values`), and a suite run whose data rows
contradict some scenarios' paths, skipped unless `force_rows`."""

from __future__ import annotations

from typing import Any

from tests.e2e.test_condition_data import BINDINGS, MODEL
from tests.integration.api.conftest import Client

YAML = {"Content-Type": "application/yaml"}


async def suite(api: Client, **body: Any) -> dict[str, Any]:
    xml = {"Content-Type": "application/xml"}
    assert (await api.post("/processes", data=MODEL.encode(), headers=xml)).status == 201
    reply = await api.post("/suites", json={"process": "routing", "bindings": BINDINGS, **body})
    assert reply.status == 201, reply.body
    result: dict[str, Any] = reply.json()
    return result


async def test_a_boundary_suite_has_each_branch_at_both_sides_of_its_bound(api: Client) -> None:
    made = await suite(api, data_values="boundary")

    assert made["parameters"]["data"] == "boundary"
    assert [name.rpartition(" [")[2] for name in made["scenario_names"] if "[" in name] == [
        "amount = 1000]",
        "amount = 1000]",
    ]


async def test_a_row_contradicting_a_path_is_skipped_unless_forced(api: Client) -> None:
    made = await suite(api)
    assert (await api.post("/data-sets/big", data="- {amount: 5000}\n", headers=YAML)).status == 201

    counts = []
    for force in (False, True):
        body = {"suite": made["suite"], "data_set": "big", "force_rows": force}
        reply = await api.post("/suite-runs", json=body)
        assert reply.status == 201, reply.body
        counts.append(reply.json()["counts"])

    assert counts == [{"QUEUED": 1, "SKIPPED": 2}, {"QUEUED": 3}]
