"""Uploads are parsed off the event loop with their limits applied while reading: the API keeps
answering while a large data set is processed, an alias bomb is refused at once, and a request
without the token is refused before its body is read."""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import os
import signal
import time
from pathlib import Path

from orchestra.bpmn import Limits
from orchestra.config import Settings
from tests.integration.api.conftest import Client, serving

MiB = 1024 * 1024
CSV = {"Content-Type": "text/csv"}
XML = {"Content-Type": "application/xml"}
ALIAS_BOMB = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def large_csv(size: int, rows: int = 90_000) -> bytes:
    columns = [f"c{n}" for n in range(8)]
    width = size // rows // len(columns) - 1
    line = ",".join("x" * width for _ in columns)
    return ("\n".join([",".join(columns), *([line] * rows)]) + "\n").encode()


async def test_health_answers_while_a_20_mib_data_set_is_processed(settings: Settings) -> None:
    body = large_csv(20 * MiB)
    assert len(body) > 19 * MiB
    async with serving(settings, token="t0ken", limits=Limits(max_bytes=32 * MiB)) as api:
        upload = asyncio.create_task(
            api.post("/data-sets/big", data=io.BytesIO(body), headers={"Content-Type": "text/csv"})
        )
        answered_during: list[float] = []
        while not upload.done():
            asked = time.perf_counter()
            reply = await api.get("/health", token=None)
            assert reply.status == 200
            if not upload.done():
                answered_during.append(time.perf_counter() - asked)
            await asyncio.sleep(0.02)
        assert (await upload).status == 201
        assert len(multiprocessing.active_children()) == 1  # parsed in the parser process
    assert answered_during, "no /health answer while the upload was processed"
    assert max(answered_during) < 1.0, answered_during  # generous: bench_uploads measures it
    await _stopped_children()


async def test_a_small_data_set_is_parsed_without_starting_a_process(api: Client) -> None:
    reply = await api.post("/data-sets/small", data=large_csv(64 * 1024, rows=1_000), headers=CSV)
    assert reply.status == 201
    assert reply.json()["rows"] == 1_000
    assert multiprocessing.active_children() == []


async def _stopped_children() -> None:
    """The parser process stops with the server (asked to; it may take a moment to exit)."""
    for _ in range(200):
        if not multiprocessing.active_children():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"still running: {multiprocessing.active_children()}")


async def test_a_yaml_alias_bomb_is_refused_at_once_with_422(api: Client) -> None:
    assert len(ALIAS_BOMB) < 400
    started = time.perf_counter()
    reply = await api.post(
        "/data-sets/bomb", data=ALIAS_BOMB, headers={"Content-Type": "application/yaml"}
    )
    elapsed = time.perf_counter() - started
    assert reply.status == 422
    assert "aliases expanding" in reply.json()["message"]
    assert elapsed < 1.0  # a billion values were never built


async def test_a_huge_body_without_a_token_is_refused_with_401_not_413(api: Client) -> None:
    body = b"x" * (80 * MiB)  # above any limit
    for path in ("/data-sets/big", "/processes", "/environments"):
        data = io.BytesIO(body)
        reply = await api.post(path, token=None, data=data, headers={"Content-Type": "text/csv"})
        assert reply.status == 401, (path, reply.body[:200])
        assert reply.json()["error"] == "AuthenticationRefused"


async def test_a_wrong_token_is_refused_before_the_body_too(api: Client) -> None:
    reply = await api.post(
        "/data-sets/big",
        token="wrong",
        data=io.BytesIO(b"x" * (80 * MiB)),
        headers={"Content-Type": "text/csv"},
    )
    assert reply.status == 401
    assert reply.json()["message"] == "the bearer token is not the server's token"


async def test_an_environment_that_is_an_alias_bomb_is_refused_with_422(api: Client) -> None:
    reply = await api.post(
        "/environments", data=ALIAS_BOMB, headers={"Content-Type": "application/yaml"}
    )
    assert reply.status == 422
    assert "aliases expanding" in reply.json()["message"]


def large_bpmn(tasks: int, target: str = "end") -> bytes:
    """One process of `tasks` tasks in a row; its last flow goes to `target`."""
    flows = [
        '<startEvent id="start"/><task id="t0"/><sequenceFlow id="f0" sourceRef="start"'
        ' targetRef="t0"/>'
    ]
    for n in range(1, tasks):
        flows.append(
            f'<task id="t{n}" name="Task {n}"/>'
            f'<sequenceFlow id="f{n}" sourceRef="t{n - 1}" targetRef="t{n}"/>'
        )
    last = (
        f'<endEvent id="end"/><sequenceFlow id="fe" sourceRef="t{tasks - 1}" targetRef="{target}"/>'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><definitions id="d" targetNamespace="t"'
        ' xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">'
        '<process id="big" isExecutable="true">'
        + "".join(flows)
        + last
        + "</process></definitions>"
    ).encode()


async def test_a_large_bpmn_file_is_parsed_in_the_parser_process(api: Client) -> None:
    body = large_bpmn(3_000)
    assert len(body) > 256 * 1024
    reply = await api.post("/processes", data=body, headers=XML)
    assert reply.status == 201, reply.body[:300]
    assert len(multiprocessing.active_children()) == 1
    refused = await api.post("/processes", data=large_bpmn(3_000, target="nowhere"), headers=XML)
    assert refused.status == 422, refused.body[:300]
    assert "nowhere" in refused.body.decode()


async def test_a_bpmn_file_being_parsed_holds_no_connection_of_the_pool(
    settings: Settings, tmp_path: Path
) -> None:
    """As many imports as the pool has connections (4), their parser paused: /health still
    gets a connection (it waits 5 s for one, then answers 503)."""
    body = large_bpmn(3_000)
    async with serving(settings, token="t0ken", upload_dir=tmp_path) as api:
        assert (await api.post("/processes", data=body, headers=XML)).status == 201
        (parser,) = multiprocessing.active_children()
        assert parser.pid is not None
        os.kill(parser.pid, signal.SIGSTOP)
        try:
            imports = [
                asyncio.create_task(api.post("/processes", data=body, headers=XML))
                for _ in range(4)
            ]
            await _until_spooled(tmp_path, len(body), count=4)  # each now waits for the parser
            assert (await api.get("/health", token=None)).status == 200
        finally:
            os.kill(parser.pid, signal.SIGCONT)
        assert [(await imported).status for imported in imports] == [200] * 4


async def _until_spooled(directory: Path, size: int, count: int) -> None:
    for _ in range(1_000):
        if _spooled(directory, size) == count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{count} bodies of {size} bytes were never spooled")


def _spooled(directory: Path, size: int) -> int:
    return sum(1 for path in directory.glob("*/body") if path.stat().st_size == size)
