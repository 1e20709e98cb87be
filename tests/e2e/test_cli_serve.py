"""`orchestra serve`: refuses to start without a token, serves with one, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.conftest import clean_env, orchestra

TOKEN = "e2e-token-0123456789"


def test_serve_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    done = orchestra("serve", env=clean_env(ORCHESTRA_HOME=str(tmp_path / "home")))

    assert done.returncode == 2
    assert "ORCHESTRA_API_TOKEN" in done.stderr
    assert "--no-auth" in done.stderr
    assert not (tmp_path / "home").exists()  # refused before any database is started


async def test_serve_answers_with_its_token_and_stops_on_sigterm(database_url: str) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url, ORCHESTRA_API_TOKEN=TOKEN)
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orchestra", "serve", "--port", "0", "--json",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        announced = await asyncio.wait_for(_first_document(server), 60)
        url = announced["url"]
        statuses = [
            await _status(url + "/health"),
            await _status(url + "/processes"),
            await _status(url + "/processes", {"Authorization": f"Bearer {TOKEN}"}),
        ]
        server.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(server.wait(), 30)
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()

    assert announced["auth"] is True
    assert announced["url"].startswith("http://127.0.0.1:")
    assert statuses == [200, 401, 200]
    assert code == 0


async def _first_document(process: asyncio.subprocess.Process) -> Any:
    """The JSON document `serve --json` prints once it listens (several lines: indented)."""
    assert process.stdout is not None
    text = ""
    while line := (await process.stdout.readline()).decode():
        text += line
        if line.startswith("}"):
            return json.loads(text)
    stderr = await process.stderr.read() if process.stderr else b""
    raise AssertionError(f"serve printed no JSON document: {text!r} {stderr.decode()!r}")


async def _status(url: str, headers: dict[str, str] | None = None) -> int:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as reply:
        return reply.status


def test_serve_on_a_port_in_use_exits_2_naming_it_without_a_traceback(database_url: str) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url, ORCHESTRA_API_TOKEN=TOKEN)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        done = orchestra("serve", "--port", str(port), "--json", env=env)

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    refusal = json.loads(done.stdout)
    assert refusal["error"] == "ConfigurationError"
    assert refusal["message"].startswith(f"cannot listen on 127.0.0.1:{port}: ")
    assert "address already in use" in refusal["message"]


def test_serve_without_its_database_exits_2_saying_so_without_a_traceback() -> None:
    unreachable = "postgresql://orchestra@127.0.0.1:1/orchestra?connect_timeout=2"
    env = clean_env(ORCHESTRA_DATABASE_URL=unreachable, ORCHESTRA_API_TOKEN=TOKEN)

    done = orchestra("serve", "--port", "0", "--json", env=env)

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    refusal = json.loads(done.stdout)
    assert refusal["error"] == "DatabaseUnreachable"
    assert "cannot connect to PostgreSQL at" in refusal["message"]
