"""The parser process: large uploads are parsed in a process of their own (no GIL shared with
the API's event loop), started once at the first, replaced when it dies; small ones in a
thread."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from orchestra.api.errors import ParserUnavailable
from orchestra.api.parsers import ParserProcess
from orchestra.binding.datasets import write_dataset_json
from orchestra.errors import BindingRefused
from orchestra.services import config

CSV = "name,amount\nann,5\nbob,7\n"


def pid_of_parser(_text: str) -> int:
    return os.getpid()


def killed_while_parsing(_text: str) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def pid_of_parser_reading(_file: Path) -> int:
    return os.getpid()


async def test_a_large_text_is_parsed_in_one_process_started_once() -> None:
    parsers = ParserProcess(in_process_from=len(CSV))
    try:
        first = await parsers.run(pid_of_parser, CSV)
        second = await parsers.run(pid_of_parser, CSV)
    finally:
        parsers.close()
    assert first == second
    assert first != os.getpid()


async def test_a_large_file_is_parsed_in_the_process_which_writes_its_json_to_a_file(
    tmp_path: Path,
) -> None:
    upload, written = tmp_path / "rows.csv", tmp_path / "rows.json"
    upload.write_text(CSV, encoding="utf-8")
    parsers = ParserProcess(in_process_from=len(CSV))  # the file's size, not its path's length
    try:
        summary = await parsers.run(write_dataset_json, upload, "rows.csv", written)
        where = await parsers.run(pid_of_parser_reading, upload)
    finally:
        parsers.close()
    assert (summary.rows, summary.columns) == (2, ("amount", "name"))
    assert json.loads(written.read_text(encoding="utf-8")) == [
        {"name": "ann", "amount": "5"},
        {"name": "bob", "amount": "7"},
    ]
    assert where != os.getpid()


async def test_a_small_file_is_parsed_in_a_thread(tmp_path: Path) -> None:
    upload = tmp_path / "rows.csv"
    upload.write_text(CSV, encoding="utf-8")
    parsers = ParserProcess(in_process_from=len(CSV) + 1)
    assert await parsers.run(pid_of_parser_reading, upload) == os.getpid()
    assert not parsers.started


async def test_a_small_text_is_parsed_in_a_thread_without_a_process() -> None:
    parsers = ParserProcess(in_process_from=len(CSV) + 1)
    assert await parsers.run(pid_of_parser, CSV) == os.getpid()
    assert not parsers.started


async def test_a_refusal_in_the_process_arrives_as_raised(tmp_path: Path) -> None:
    upload = tmp_path / "upload.csv"
    upload.write_text("a,b\n1,2\n3\n", encoding="utf-8")
    parsers = ParserProcess(in_process_from=0)
    try:
        with pytest.raises(BindingRefused, match=r"rows.csv:3: the row has not as many values"):
            await parsers.run(write_dataset_json, upload, "rows.csv", tmp_path / "rows.json")
    finally:
        parsers.close()


async def test_a_parser_that_died_is_replaced_and_the_upload_goes_on() -> None:
    parsers = ParserProcess(in_process_from=0)
    try:
        first = await parsers.run(pid_of_parser, CSV)
        os.kill(first, signal.SIGKILL)
        second = await parsers.run(pid_of_parser, CSV)
        third = await parsers.run(pid_of_parser, CSV)
    finally:
        parsers.close()
    assert second not in (first, os.getpid())
    assert third == second


async def test_a_parser_that_dies_again_refuses_the_upload_with_503() -> None:
    parsers = ParserProcess(in_process_from=0)
    try:
        with pytest.raises(ParserUnavailable, match="died twice on this request") as refused:
            await parsers.run(killed_while_parsing, CSV)
        assert await parsers.run(pid_of_parser, CSV) != os.getpid()  # a new one, for the next
    finally:
        parsers.close()
    assert refused.value.http_status == 503


async def test_uploads_that_come_together_first_share_one_process() -> None:
    parsers = ParserProcess(in_process_from=0)
    try:
        pids = await asyncio.gather(*(parsers.run(pid_of_parser, CSV) for _ in range(3)))
    finally:
        parsers.close()
    assert len(set(pids)) == 1


async def test_an_environment_is_parsed_in_the_process_its_refusals_with_their_problems(
    tmp_path: Path,
) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text("name: local\nservices:\n  shop: {base_url: 'http://127.0.0.1:${PORT}'}\n")
    bad.write_text("name: x\nservices: 3\n")
    parsers = ParserProcess(in_process_from=0)
    try:
        spec, stored = await parsers.run(config._uploaded_environment, good, "environment.yaml")
        with pytest.raises(BindingRefused, match=r"^env.yaml:2") as refused:
            await parsers.run(config._uploaded_environment, bad, "env.yaml")
    finally:
        parsers.close()
    assert spec.name == "local"
    assert stored["services"]["shop"]["base_url"] == "http://127.0.0.1:${PORT}"
    assert refused.value.details["problems"][0]["path"] == "services"
