"""GET /suite-runs: newest first, filtered by suite and status, in pages that say how to get the
next one; and values PostgreSQL refuses answered 422 with the one error shape, nothing stored."""

from __future__ import annotations

from typing import Any

from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.api.conftest import Client
from tests.integration.runtime.support import scenario, step, store_suite

YAML = {"Content-Type": "application/yaml"}
ENVIRONMENT = "name: {name}\nservices:\n  orders:\n    base_url: http://127.0.0.1:9\n"


async def start_runs(db: Database, count: int) -> tuple[int, list[int]]:
    suite = await store_suite(db, [scenario("a", [step(0, "a")]), scenario("b", [step(0, "b")])])
    return suite.id, [(await running.start_suite_run(db, suite.id)).id for _ in range(count)]


def ids(reply_body: dict[str, Any]) -> list[int]:
    return [run["suite_run"] for run in reply_body["suite_runs"]]


async def test_suite_runs_are_listed_newest_first_as_get_by_id_shows_each(
    api: Client, db: Database
) -> None:
    _, runs = await start_runs(db, 3)
    await api.post(f"/suite-runs/{runs[0]}/cancel")

    reply = await api.get("/suite-runs")

    assert reply.status == 200
    body = reply.json()
    assert ids(body) == runs[::-1]
    assert body["suite_runs"] == [(await api.get(f"/suite-runs/{i}")).json() for i in runs[::-1]]
    assert (body["next_before"], body["next"]) == (None, None)
    assert "Link" not in reply.headers


async def test_each_page_names_the_next_one_keeping_the_filters(api: Client, db: Database) -> None:
    suite, runs = await start_runs(db, 5)
    await start_runs(db, 2)  # another suite's runs, filtered out
    seen: list[int] = []
    links: list[str] = []
    path: str | None = f"/suite-runs?suite={suite}&limit=2"
    for _ in range(10):  # bounded: 5 runs in pages of 2 take 3 pages
        if path is None:
            break
        reply = await api.get(path)
        seen += ids(reply.json())
        path = reply.json()["next"]
        links.append(reply.headers.get("Link", ""))

    assert seen == runs[::-1]
    assert links[0] == f'</suite-runs?suite={suite}&limit=2&before={runs[3]}>; rel="next"'
    assert links[-1] == ""


async def test_runs_are_filtered_by_one_or_several_statuses(api: Client, db: Database) -> None:
    _, runs = await start_runs(db, 3)
    await api.post(f"/suite-runs/{runs[1]}/cancel")

    cancelled = (await api.get("/suite-runs?status=CANCELLED")).json()
    either = (await api.get("/suite-runs?status=CANCELLED&status=IN_PROGRESS")).json()
    passed = (await api.get("/suite-runs?status=PASSED")).json()

    assert ids(cancelled) == [runs[1]]
    assert cancelled["suite_runs"][0]["counts"] == {"CANCELLED": 2}
    assert ids(either) == runs[::-1]
    assert ids(passed) == []


async def test_runs_are_filtered_by_the_process_of_their_suite(api: Client, db: Database) -> None:
    _, runs = await start_runs(db, 2)  # suites of process "p"

    of_p = (await api.get("/suite-runs?process=p")).json()
    of_other = (await api.get("/suite-runs?process=order_fulfilment")).json()

    assert ids(of_p) == runs[::-1]
    assert ids(of_other) == []


async def test_the_next_page_keeps_every_status_asked_for(api: Client, db: Database) -> None:
    _, runs = await start_runs(db, 3)
    await api.post(f"/suite-runs/{runs[0]}/cancel")

    first = (await api.get("/suite-runs?status=CANCELLED&status=IN_PROGRESS&limit=2")).json()
    second = (await api.get(first["next"])).json()

    assert first["next"] == (
        f"/suite-runs?status=CANCELLED&status=IN_PROGRESS&limit=2&before={runs[1]}"
    )
    assert ids(first) + ids(second) == runs[::-1]
    assert second["next"] is None


async def test_a_wrong_filter_or_page_size_is_refused_naming_the_parameter(api: Client) -> None:
    unknown_status = await api.get("/suite-runs?status=DONE")
    too_many = await api.get(f"/suite-runs?limit={running.MAX_PAGE + 1}")
    not_a_number = await api.get("/suite-runs?before=last")

    for reply, where in (
        (unknown_status, "query.status.0"),
        (too_many, "query.limit"),
        (not_a_number, "query.before"),
    ):
        assert (reply.status, reply.json()["error"]) == (422, "RequestInvalid")
        assert reply.json()["message"].startswith(f"{where}:")


async def test_listing_needs_the_token(api: Client) -> None:
    reply = await api.get("/suite-runs", token=None)

    assert (reply.status, reply.json()["error"]) == (401, "AuthenticationRefused")


async def test_the_listing_is_described_in_openapi(api: Client) -> None:
    spec = (await api.get("/openapi.json")).json()

    operation = spec["paths"]["/suite-runs"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {
        "suite",
        "status",
        "before",
        "limit",
        "process",
    }
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/SuiteRunPagePublic")


async def test_a_suite_id_out_of_range_for_postgresql_is_422_and_nothing_changes(
    api: Client, db: Database
) -> None:
    _, runs = await start_runs(db, 2)

    reply = await api.get(f"/suite-runs?suite={2**70}")

    assert reply.status == 422
    refusal = reply.json()
    assert refusal["error"] == "ValueRefused"
    assert "`suite_id`" in refusal["message"]
    assert "bigint out of range" in refusal["message"]
    assert ids((await api.get("/suite-runs")).json()) == runs[::-1]


async def test_a_nul_in_an_environment_name_is_422_and_the_stored_one_is_intact(
    api: Client,
) -> None:
    stored = await api.post("/environments", data=ENVIRONMENT.format(name="local"), headers=YAML)
    escaped = ENVIRONMENT.format(name='"lo\\0cal"')

    reply = await api.post("/environments", data=escaped, headers=YAML)

    assert stored.status == 201
    assert (reply.status, reply.json()["error"]) == (422, "ValueRefused")
    assert "`name` (a NUL character)" in reply.json()["message"]
    assert (await api.get("/environments")).json() == [stored.json()]


async def test_nan_in_a_data_set_is_422_naming_its_row_and_the_rows_stored_before_stay(
    api: Client, db: Database
) -> None:
    first = await api.post("/data-sets/amounts", data="- {amount: 5}\n", headers=YAML)

    reply = await api.post("/data-sets/amounts", data="- {amount: .nan}\n", headers=YAML)

    assert first.status == 201
    assert (reply.status, reply.json()["error"]) == (422, "BindingRefused")
    assert ":1: [0].amount: nan is not a number JSON can hold" in reply.json()["message"]
    async with db.transaction() as uow:
        kept = await uow.config.data_set("amounts")
    assert kept is not None
    assert kept.rows == ({"amount": 5},)
