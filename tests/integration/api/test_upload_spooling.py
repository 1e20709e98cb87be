"""Upload bodies are spooled to files as they arrive: the size limit holds while they stream,
and the files are deleted however the request ends (stored, refused, the client gone, the
parser process dead), leaving what was stored as it was."""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from orchestra.api.bodies import MULTIPART_ROOM
from orchestra.bpmn import Limits
from orchestra.config import Settings
from tests.integration.api.conftest import TOKEN, Client, serving
from tests.integration.api.test_uploads_off_the_loop import large_bpmn, large_csv

KiB = 1024
CSV = {"Content-Type": "text/csv"}
LIMIT = 64 * KiB  # the body's limit is this and MULTIPART_ROOM


def left_in(directory: Path) -> list[Path]:
    return list(directory.iterdir())


async def stored_rows(api: Client) -> dict[str, int]:
    return {found["data_set"]: found["rows"] for found in (await api.get("/data-sets")).json()}


async def test_a_data_set_above_the_limit_is_cut_off_while_streamed_and_nothing_is_kept(
    settings: Settings, tmp_path: Path
) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: sent chunked
        yield b"name,amount\n"
        for _ in range(1_000):
            yield b"ann,5\n" * 100

    uploads = tmp_path / "uploads"
    uploads.mkdir()
    limits = Limits(max_bytes=LIMIT)
    async with serving(settings, token=TOKEN, limits=limits, upload_dir=uploads) as api:
        assert (await api.post("/data-sets/rows", data=b"name\nbob\n", headers=CSV)).status == 201
        streamed = await api.post("/data-sets/rows", data=chunks(), headers=CSV)
        declared = await api.post(
            "/data-sets/rows", data=b"n\n" * (LIMIT + MULTIPART_ROOM), headers=CSV
        )
        assert await stored_rows(api) == {"rows": 1}

    assert (streamed.status, streamed.json()["error"]) == (413, "ContentTooLarge")
    assert streamed.json()["limit"] == LIMIT + MULTIPART_ROOM
    assert declared.status == 413
    assert left_in(uploads) == []


async def test_a_data_set_refused_for_its_content_leaves_no_file(
    settings: Settings, tmp_path: Path
) -> None:
    async with serving(settings, token=TOKEN, upload_dir=tmp_path) as api:
        reply = await api.post("/data-sets/rows", data=b"a,b\n1,2\n3\n", headers=CSV)
        not_utf8 = await api.post("/data-sets/rows", data=b"a\n\xe9\n", headers=CSV)
        assert await stored_rows(api) == {}

    assert reply.status == 422
    assert reply.json()["message"] == "rows.csv:3: the row has not as many values as the header"
    assert not_utf8.json()["message"] == (
        "rows.csv:2: not UTF-8 text (byte 0xe9 at column 1): save it as UTF-8"
    )
    assert left_in(tmp_path) == []


async def test_an_environment_is_read_from_its_spooled_file_named_as_sent(
    settings: Settings, tmp_path: Path
) -> None:
    yaml = {"Content-Type": "application/yaml"}
    good = b"name: local\nservices: {shop: {base_url: 'http://127.0.0.1:1'}}\n"
    async with serving(settings, token=TOKEN, upload_dir=tmp_path) as api:
        applied = await api.post("/environments", data=good, headers=yaml)
        refused = await api.post("/environments", data=b"name: x\nservices: 3\n", headers=yaml)

    assert (applied.status, applied.json()["environment"]) == (201, "local")
    assert refused.status == 422
    assert refused.json()["message"].startswith("environment.yaml:2")
    assert left_in(tmp_path) == []


async def test_a_large_bpmn_form_is_parsed_from_its_spooled_part_and_deleted(
    settings: Settings, tmp_path: Path
) -> None:
    form = aiohttp.FormData()
    form.add_field("file", large_bpmn(3_000), filename="big.bpmn", content_type="text/xml")
    broken = large_bpmn(3_000, target="nowhere")
    async with serving(settings, token=TOKEN, upload_dir=tmp_path) as api:
        imported = await api.post("/processes", data=form)
        refused = await api.post("/processes", data=broken, headers={"Content-Type": "text/xml"})
        stored = await api.get("/processes/big")

    assert (imported.status, imported.json()["source"]) == (201, "big.bpmn")
    assert (stored.json()["source"], stored.json()["counts_by_type"]["task"]) == ("big.bpmn", 3_000)
    assert refused.status == 422
    assert left_in(tmp_path) == []


async def test_the_spooled_file_is_deleted_when_the_client_goes_mid_body(
    settings: Settings, tmp_path: Path
) -> None:
    async with serving(settings, token=TOKEN, upload_dir=tmp_path) as api:
        host, port = api.url.removeprefix("http://").split(":")
        _, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"POST /data-sets/gone HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/csv\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Length: {1024 * KiB}\r\n\r\n"
            "name\n".encode()
            + b"ann\n" * (16 * KiB)
        )
        await writer.drain()
        await _until(lambda: any(tmp_path.iterdir()), "the body was never spooled")
        writer.close()
        await writer.wait_closed()
        await _until(lambda: not any(tmp_path.iterdir()), "the spooled file was kept")
        assert await stored_rows(api) == {}


async def test_a_parser_dying_mid_upload_is_answered_503_and_the_stored_rows_stay(
    settings: Settings, tmp_path: Path
) -> None:
    body = large_csv(4 * 1024 * KiB, rows=20_000)  # parsed in the parser process
    async with serving(settings, token=TOKEN, upload_dir=tmp_path) as api:
        assert (await api.post("/data-sets/big", data=b"name\nbob\n", headers=CSV)).status == 201
        upload = asyncio.create_task(api.post("/data-sets/big", data=io.BytesIO(body), headers=CSV))
        killed = await _kill_every_parser_until(upload)
        reply = await upload
        assert await stored_rows(api) == {"big": 1}

    assert len(killed) == 2  # the parser, and the one that took the upload over
    assert reply.status == 503
    assert reply.json() == {
        "error": "ParserUnavailable",
        "message": "the parser process died twice on this request (killed, or out of"
        " memory); nothing was stored",
    }
    assert left_in(tmp_path) == []


async def _kill_every_parser_until(upload: asyncio.Task[object]) -> set[int]:
    killed: set[int] = set()
    while not upload.done():
        for child in multiprocessing.active_children():
            if child.pid is not None and child.pid not in killed:
                os.kill(child.pid, signal.SIGKILL)
                killed.add(child.pid)
        await asyncio.sleep(0.005)
    return killed


async def _until(condition: object, failure: str) -> None:
    assert callable(condition)
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(failure)
