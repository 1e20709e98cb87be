"""docs/web.md's command, run: `orchestra serve` with the token it names (on a free port rather
than 8000), then what the page says a browser does: `/` leads to the suite runs, which ask for
the token, which opens them with a session cookie."""

from __future__ import annotations

import asyncio
import re
import shlex
import signal
import sys
from pathlib import Path

import aiohttp

from orchestra.api.sessions import COOKIE
from tests.e2e.conftest import clean_env
from tests.e2e.test_cli_serve import _first_document

DOCS = Path(__file__).parents[2] / "docs" / "web.md"


def documented_command() -> tuple[dict[str, str], list[str]]:
    """(the variables set before the command, the command's words) of the page's `sh` block."""
    (block,) = re.findall(r"```sh\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    line = block.split("#")[0].strip().removesuffix("&").strip()
    words = shlex.split(line)
    variables = dict(word.split("=", 1) for word in words if "=" in word)
    return variables, [word for word in words if "=" not in word]


async def test_the_documented_server_asks_for_the_token_then_opens_the_pages(
    database_url: str,
) -> None:
    variables, command = documented_command()
    assert command == ["orchestra", "serve", "--port", "8000"]
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url, **variables)
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orchestra", "serve", "--port", "0", "--json",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        url = (await asyncio.wait_for(_first_document(server), 60))["url"]
        async with aiohttp.ClientSession() as http:
            home = await http.get(url + "/", allow_redirects=False)
            page = await http.get(url + home.headers["Location"], allow_redirects=False)
            signed = await http.post(
                url + "/ui/sign-in",
                data={"token": variables["ORCHESTRA_API_TOKEN"], "next": "/ui/suite-runs"},
                headers={"Origin": url},
                allow_redirects=False,
            )
            cookie = signed.cookies[COOKIE].value
            opened = await http.get(
                url + "/ui/suite-runs", headers={"Cookie": f"{COOKIE}={cookie}"}
            )
            text = await opened.text()
        server.send_signal(signal.SIGTERM)
        await asyncio.wait_for(server.wait(), 30)
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()

    assert home.headers["Location"] == "/ui/suite-runs"
    assert page.headers["Location"] == "/ui/sign-in?next=%2Fui%2Fsuite-runs"
    assert signed.status == 303
    assert opened.status == 200
    assert "<h1>Suite runs</h1>" in text
