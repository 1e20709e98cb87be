"""POST /processes imports a BPMN file; GET /processes and /processes/{key} show what is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp

from orchestra.api.bodies import MULTIPART_ROOM
from orchestra.bpmn import Limits
from orchestra.config import Settings
from orchestra.examples.order import PROCESS_FILE, example_path
from tests.integration.api.conftest import Client, serving

DANGLING_FLOW = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <process id="Dangling" isExecutable="true">
    <startEvent id="Start"/>
    <task id="Task_A" name="A"/>
    <endEvent id="End"/>
    <sequenceFlow id="Flow_1" sourceRef="Start" targetRef="Task_A"/>
    <sequenceFlow id="Flow_2" sourceRef="Task_A" targetRef="Nowhere"/>
  </process>
</definitions>
"""
XML = {"Content-Type": "application/xml"}


async def test_the_example_is_imported_as_version_1_and_listed(api: Client) -> None:
    reply = await api.import_example()

    assert reply.status == 201
    imported = reply.json()
    assert imported["source"] == "order.bpmn"
    [process] = imported["processes"]
    assert (process["key"], process["version"], process["created"]) == ("order_fulfilment", 1, True)
    listed = (await api.get("/processes")).json()
    assert [(p["key"], p["version"]) for p in listed] == [("order_fulfilment", 1)]
    shown = (await api.get("/processes/order_fulfilment")).json()
    assert shown["checksum"] == process["checksum"]
    assert shown["source"] == "order.bpmn"
    assert shown["errors"] == 0


async def test_the_same_file_again_answers_200_with_the_stored_version(api: Client) -> None:
    await api.import_example()

    again = await api.import_example()

    assert again.status == 200
    assert [(p["version"], p["created"]) for p in again.json()["processes"]] == [(1, False)]


async def test_a_multipart_upload_is_imported_under_its_file_name(api: Client) -> None:
    form = aiohttp.FormData()
    data = example_path(PROCESS_FILE).read_bytes()
    form.add_field("file", data, filename="upload.bpmn", content_type="application/xml")

    reply = await api.post("/processes", data=form)

    assert reply.status == 201
    assert reply.json()["source"] == "upload.bpmn"
    stored = (await api.get("/processes/order_fulfilment")).json()
    direct = await api.import_example()  # the same bytes: the same version, untouched
    assert direct.json()["processes"][0]["checksum"] == stored["checksum"]
    assert direct.status == 200


async def test_a_multipart_upload_without_a_file_part_is_refused(api: Client) -> None:
    form = aiohttp.FormData()
    form.add_field("other", b"<definitions/>", filename="x.bpmn")

    reply = await api.post("/processes", data=form)

    assert reply.status == 422
    assert "part named `file`" in reply.json()["message"]


async def test_malformed_xml_is_refused_with_422_naming_the_problem_and_stores_nothing(
    api: Client,
) -> None:
    reply = await api.post(
        "/processes?filename=broken.bpmn", data=b"<definitions><process", headers=XML
    )

    assert reply.status == 422
    refusal = reply.json()
    assert refusal["error"] == "BpmnRefused"
    assert refusal["message"].startswith("broken.bpmn")
    assert (await api.get("/processes")).json() == []


async def test_an_untestable_model_is_refused_with_every_problem_listed(api: Client) -> None:
    reply = await api.post("/processes", data=DANGLING_FLOW, headers=XML)

    assert reply.status == 422
    refusal = reply.json()
    assert refusal["code"] == "invalid-model"
    [error] = [p for p in refusal["problems"] if p["severity"] == "error"]
    assert (error["code"], error["element_id"]) == ("dangling-flow", "Flow_2")
    assert "Nowhere" in refusal["message"]
    assert (await api.get("/processes")).json() == []


async def test_strict_refuses_a_model_with_an_unreachable_task(api: Client) -> None:
    orphan = DANGLING_FLOW.replace(b'targetRef="Nowhere"', b'targetRef="End"').replace(
        b'<endEvent id="End"/>', b'<endEvent id="End"/><task id="Orphan"/>'
    )
    reply = await api.post("/processes?strict=true", data=orphan, headers=XML)

    assert reply.status == 422
    [error] = [p for p in reply.json()["problems"] if p["severity"] == "error"]
    assert (error["code"], error["element_id"]) == ("unreachable-node", "Orphan")
    assert (await api.get("/processes")).json() == []
    assert (await api.post("/processes", data=orphan, headers=XML)).status == 201


async def test_a_body_above_the_size_limit_is_refused_with_413(settings: Settings) -> None:
    async with serving(settings, token=None, limits=Limits(max_bytes=1024)) as client:
        reply = await client.post("/processes", data=b" " * 200_000, headers=XML)
        listed = await client.get("/processes")

    assert reply.status == 413
    assert reply.json()["error"] == "ContentTooLarge"
    assert reply.json()["limit"] == 1024 + MULTIPART_ROOM
    assert listed.json() == []


async def test_a_streamed_body_is_cut_off_at_the_size_limit(settings: Settings) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(200):
            yield b" " * 1000

    async with serving(settings, token=None, limits=Limits(max_bytes=1024)) as client:
        upload = await client.post("/processes", data=chunks(), headers=XML)
        generate = await client.post(
            "/suites", data=chunks(), headers={"Content-Type": "application/json"}
        )

    assert (upload.status, upload.json()["error"]) == (413, "ContentTooLarge")
    assert (generate.status, generate.json()["error"]) == (413, "ContentTooLarge")


async def test_a_file_above_the_importers_limit_is_refused_naming_the_limit(
    settings: Settings,
) -> None:
    async with serving(settings, token=None, limits=Limits(max_bytes=1024)) as client:
        reply = await client.import_example()

    assert reply.status == 422
    assert reply.json()["code"] == "too-large"
    assert "above the limit of 1024" in reply.json()["message"]


async def test_a_body_in_another_format_is_refused_with_415(api: Client) -> None:
    reply = await api.post("/processes", json={"xml": "<definitions/>"})

    assert reply.status == 415
    assert "application/xml" in reply.json()["accepted"]


async def test_an_unknown_process_or_version_is_404(api: Client) -> None:
    await api.import_example()

    missing = await api.get("/processes/Nope")
    no_version = await api.get("/processes/order_fulfilment?version=7")

    assert (missing.status, missing.json()["message"]) == (404, "no process 'Nope'")
    assert (no_version.status, no_version.json()["process"]) == (404, "order_fulfilment@7")
