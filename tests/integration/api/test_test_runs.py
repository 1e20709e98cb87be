"""Test runs as resources and a suite run's event stream, read through a real HTTP client
from a real server while workers execute the example against its real SUT."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from orchestra.api import create_app
from orchestra.api.server import ApiServer
from orchestra.binding.factory import executor_factory
from orchestra.config import Settings
from orchestra.examples.order import (
    DATASET_FILE,
    EXPECTED,
    TOKEN_VARIABLE,
    environment_text,
    example_path,
)
from orchestra.examples.order.sut import run_example_sut
from orchestra.runtime.worker import Worker, WorkerOptions
from orchestra.services import running
from orchestra.services.watching import EventTimes
from orchestra.store.database import Database
from tests.integration.api.conftest import TOKEN, Client, serving
from tests.integration.api.test_suites_and_runs import YAML, configure, generate, start_run
from tests.integration.runtime.support import (
    ScriptedExecutor,
    expire_leases,
    factory_for,
    scenario,
    step,
    store_suite,
)

SUT_TOKEN = "sut-token"


async def run_example(api: Client, db: Database) -> int:
    """The example's suite run, executed to its end: 4 runs PASSED, 2 FAILED."""
    suite = await generate(api)
    rows = example_path(DATASET_FILE).read_text(encoding="utf-8")
    await api.post("/data-sets/customers", data=rows, headers=YAML)
    async with run_example_sut(token=SUT_TOKEN) as sut_url:
        await api.post("/environments", data=environment_text(sut_url), headers=YAML)
        run: int = (await start_run(api, suite["suite"]))["suite_run"]
        async with asyncio.timeout(120):
            await running.work_until_done(
                db, run, executor_factory({TOKEN_VARIABLE: SUT_TOKEN}), workers=1
            )
    return run


async def test_a_suite_runs_test_runs_are_listed_in_pages_filtered_by_status(
    api: Client, db: Database
) -> None:
    run = await run_example(api, db)

    everything = (await api.get(f"/suite-runs/{run}/test-runs")).json()
    failed = (await api.get(f"/suite-runs/{run}/test-runs?status=FAILED")).json()
    first = await api.get(f"/suite-runs/{run}/test-runs?limit=4")
    second = (await api.get(first.json()["next"])).json()

    assert len(everything["test_runs"]) == EXPECTED["test_runs"]
    assert everything["next"] is None
    assert [r["status"] for r in failed["test_runs"]] == ["FAILED"] * EXPECTED["failed"]
    assert first.headers["Link"] == f'<{first.json()["next"]}>; rel="next"'
    paged = first.json()["test_runs"] + second["test_runs"]
    assert [r["id"] for r in paged] == [r["id"] for r in everything["test_runs"]]
    assert second["next_after"] is None
    assert "steps" not in everything["test_runs"][0]


async def test_a_test_run_shows_its_steps_with_each_checks_expected_and_actual(
    api: Client, db: Database
) -> None:
    run = await run_example(api, db)
    failed = (await api.get(f"/suite-runs/{run}/test-runs?status=FAILED")).json()

    detail = (await api.get(f"/test-runs/{failed['test_runs'][0]['id']}")).json()

    assert detail["suite_run"] == run
    assert detail["status"] == "FAILED"
    assert detail["lost_leases"] == []
    failing = next(step for step in detail["steps"] if step["status"] == "FAILED")
    assert failing["element_id"] == EXPECTED["failed_at"]
    assert failing["request"]["method"] in {"GET", "POST"}
    assert failing["response"]["status"] == 200
    check = next(c for c in failing["checks"] if not c["passed"])
    assert "expected" in check
    assert "actual" in check
    assert SUT_TOKEN not in json.dumps(detail)  # secrets masked as in the reports


async def test_a_test_run_says_why_it_failed_and_which_elements_it_passed_and_failed_at(
    api: Client, db: Database
) -> None:
    run = await run_example(api, db)
    runs = (await api.get(f"/suite-runs/{run}/test-runs")).json()["test_runs"]
    failed = next(r["id"] for r in runs if r["status"] == "FAILED")
    passed = next(r["id"] for r in runs if r["status"] == "PASSED")

    red = (await api.get(f"/test-runs/{failed}")).json()
    green = (await api.get(f"/test-runs/{passed}")).json()

    assert red["failed_elements"] == [EXPECTED["failed_at"]]
    assert EXPECTED["failed_at"] not in red["passed_elements"]
    assert "StartEvent_OrderReceived" in red["passed_elements"]
    assert red["failure"].startswith("#")  # the step, then the check or the error
    assert EXPECTED["failed_at"] in red["failure"]
    assert green["failed_elements"] == []
    assert sorted(green["passed_elements"]) == sorted(green["path"])
    assert green["failure"] is None


async def test_unknown_test_runs_and_suite_runs_are_404(api: Client) -> None:
    assert (await api.get("/test-runs/999")).json()["message"] == "no test run 999"
    assert (await api.get("/suite-runs/999/test-runs")).status == 404
    assert (await api.get("/suite-runs/999/events")).status == 404
    assert (await api.get("/test-runs/1", token=None)).status == 401


async def server_sent(api: Client, path: str) -> AsyncGenerator[tuple[str, dict[str, Any]]]:
    headers = {"Authorization": f"Bearer {api.token}"}
    async with api.session.get(api.url + path, headers=headers) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        name, data = "", ""
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = line.removeprefix("data: ")
            elif not line and name:
                yield name, json.loads(data)
                name, data = "", ""


@asynccontextmanager
async def example_run_started(api: Client) -> AsyncIterator[int]:
    """The example configured, its SUT up and a suite run of it started (no worker yet)."""
    await configure(api)
    suite = await generate(api)
    async with run_example_sut(token=SUT_TOKEN) as sut_url:
        await api.post("/environments", data=environment_text(sut_url), headers=YAML)
        yield (await start_run(api, suite["suite"]))["suite_run"]


async def events_while_worked(
    api: Client, db: Database, run: int, path: str
) -> list[tuple[str, dict[str, Any]]]:
    """The events of the stream at `path`, opened before a worker works suite run `run` to its
    end, until the stream closes after `end`."""
    events: list[tuple[str, dict[str, Any]]] = []
    connected = asyncio.Event()

    async def follow() -> None:
        async for event in server_sent(api, path):
            events.append(event)
            connected.set()

    follower = asyncio.create_task(follow())
    async with asyncio.timeout(120):
        await connected.wait()
        await running.work_until_done(
            db, run, executor_factory({TOKEN_VARIABLE: SUT_TOKEN}), workers=1
        )
        await follower  # the stream closes after `end`
    return events


async def test_the_event_stream_tells_each_status_change_live_until_the_run_ends(
    api: Client, db: Database
) -> None:
    async with example_run_started(api) as run:
        events = await events_while_worked(api, db, run, f"/suite-runs/{run}/events")

    names = [name for name, _ in events]
    assert names[0] == "progress"
    assert events[0][1]["done"] == 0
    assert names[-1] == "end"
    assert events[-1][1]["status"] == "FAILED"
    assert events[-1][1]["counts"] == {"PASSED": EXPECTED["passed"], "FAILED": EXPECTED["failed"]}
    ends = {d["test_run"]: d["status"] for n, d in events if n == "test-run"}
    assert sorted(ends.values()) == ["FAILED"] * 2 + ["PASSED"] * 4
    assert all(d["suite_run"] == run for n, d in events if n == "test-run")
    ended = [d for n, d in events if n == "test-run" and d["status"] in {"PASSED", "FAILED"}]
    assert all(d["started_at"] < d["finished_at"] for d in ended)  # RFC 3339, both UTC


async def test_a_test_runs_stream_tells_its_status_and_steps_as_they_change_until_it_ends(
    api: Client, db: Database
) -> None:
    async with example_run_started(api) as run:
        first = (await api.get(f"/suite-runs/{run}/test-runs?limit=1")).json()["test_runs"][0]
        events = await events_while_worked(api, db, run, f"/test-runs/{first['id']}/events")
    stored = (await api.get(f"/test-runs/{first['id']}")).json()

    assert events[0][0] == "progress"
    assert events[0][1] == {
        "test_run": first["id"],
        "suite_run": run,
        "status": "QUEUED",
        "steps": 0,
    }
    assert events[-1][0] == "end"
    assert events[-1][1]["status"] == stored["status"]
    recorded = [data["steps"] for _, data in events]
    assert recorded == sorted(recorded)
    assert recorded[-1] == len([s for s in stored["steps"] if s["status"] != "SKIPPED"])
    assert len(events) == len({(d["status"], d["steps"]) for _, d in events})  # changes only


async def test_a_test_runs_stream_on_an_ended_run_sends_end_at_once_and_none_for_no_run(
    api: Client, db: Database
) -> None:
    run = await run_example(api, db)
    ended = (await api.get(f"/suite-runs/{run}/test-runs?limit=1")).json()["test_runs"][0]

    async with asyncio.timeout(30):
        events = [event async for event in server_sent(api, f"/test-runs/{ended['id']}/events")]

    assert [name for name, _ in events] == ["end"]
    assert events[0][1]["status"] == ended["status"]
    assert (await api.get("/test-runs/999999/events")).status == 404


async def test_a_stream_opened_on_an_ended_suite_run_sends_end_at_once(
    api: Client, db: Database
) -> None:
    await configure(api)
    suite = await generate(api)
    run = (await start_run(api, suite["suite"]))["suite_run"]
    await api.post(f"/suite-runs/{run}/cancel")

    async with asyncio.timeout(10):
        events = [event async for event in server_sent(api, f"/suite-runs/{run}/events")]

    assert [name for name, _ in events] == ["end"]
    assert events[0][1]["status"] == "CANCELLED"


async def test_notifications_wake_the_stream_long_before_its_poll(
    settings: Settings, db: Database
) -> None:
    slow_polls = EventTimes(poll_seconds=60)
    async with serving(settings, token=TOKEN, event_times=slow_polls) as api:
        events: list[tuple[str, dict[str, Any]]] = []
        async with example_run_started(api) as run:
            stream = server_sent(api, f"/suite-runs/{run}/events")
            async with asyncio.timeout(20):  # a third of one poll: notifications, or it fails
                events.append(await anext(stream))
                work = running.work_until_done(
                    db, run, executor_factory({TOKEN_VARIABLE: SUT_TOKEN}), workers=1
                )
                await work
                events.extend([event async for event in stream])

    ended = [d["test_run"] for n, d in events if n == "test-run" and d["previous"] is not None]
    assert events[-1][0] == "end"
    assert len(set(ended)) == EXPECTED["test_runs"]


async def test_a_server_stopping_ends_its_event_streams_rather_than_wait_for_them(
    settings: Settings,
) -> None:
    app = create_app(settings, token=TOKEN, pool_size=4)
    server = ApiServer(app, port=0, quiet=True)
    serving_task = asyncio.create_task(server.serve())
    await asyncio.wait_for(server.listening.wait(), 30)
    async with aiohttp.ClientSession() as session:
        api = Client(session, server.url, TOKEN)
        await configure(api)
        suite = await generate(api)
        run = (await start_run(api, suite["suite"]))["suite_run"]  # no worker: it stays open
        stream = server_sent(api, f"/suite-runs/{run}/events")
        assert (await anext(stream))[0] == "progress"

        server.should_exit = True
        async with asyncio.timeout(5):  # the stream's poll and keep-alive would hold it longer
            await serving_task
            rest = [event async for event in stream]

    assert rest == []


async def test_a_test_run_shows_the_leases_it_lost_with_the_worker_that_held_each(
    api: Client, db: Database
) -> None:
    await configure(api)
    suite = await generate(api)
    run = (await start_run(api, suite["suite"]))["suite_run"]
    async with db.transaction() as uow:
        (claimed,) = await uow.runs.claim("crashed-worker", 1, lease_seconds=30)
    await expire_leases(db, claimed.id)
    async with db.transaction() as uow:
        assert await uow.runs.claim("next-worker", 1, lease_seconds=30, suite_run_id=run)

    detail = (await api.get(f"/test-runs/{claimed.id}")).json()

    assert detail["status"] == "RUNNING"
    assert [lease["worker"] for lease in detail["lost_leases"]] == ["crashed-worker"]
    assert detail["attempts"] == 2


async def test_a_run_ending_reaches_the_stream_at_once_while_the_others_still_run(
    settings: Settings, db: Database
) -> None:
    suite = await store_suite(
        db,
        [scenario("quick", [step(0, "a", sleep=0.5)]), scenario("slow", [step(0, "b", sleep=5)])],
    )
    suite_run = await running.start_suite_run(db, suite.id)
    # neither the stream's poll nor the sweeper's pass comes within the test: the worker's own
    # announcement of the end has to wake the stream
    options = WorkerOptions(concurrency=2, poll_seconds=0.05, sweep_seconds=60, drain_seconds=0)
    async with serving(settings, token=TOKEN, event_times=EventTimes(poll_seconds=60)) as api:
        stream = server_sent(api, f"/suite-runs/{suite_run.id}/events")
        assert (await anext(stream))[0] == "progress"
        worker = Worker(db.pool, factory_for(ScriptedExecutor()), options, listen_url=db.server.url)
        stop = asyncio.Event()
        working = asyncio.create_task(worker.run(stop))
        try:
            async with asyncio.timeout(3):  # the slow run is still in its step
                async for name, data in stream:
                    if name == "test-run" and data["status"] == "PASSED":
                        break
        finally:
            stop.set()
            await asyncio.wait_for(working, 10)
        await stream.aclose()
