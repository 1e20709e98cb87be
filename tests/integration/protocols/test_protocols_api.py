"""GET /protocols: what binding files may name on this server, plug-ins and broken ones."""

from __future__ import annotations

from orchestra.config import Settings
from orchestra.protocols.registry import ProtocolRegistry
from tests.integration.api.conftest import TOKEN, serving
from tests.integration.protocols.conftest import Install


async def test_the_api_lists_http_and_the_installed_plug_ins(
    settings: Settings, tcp_echo: ProtocolRegistry
) -> None:
    async with serving(settings, token=TOKEN) as api:
        reply = await api.get("/protocols")

    assert reply.status == 200
    listed = reply.json()
    assert listed["available"] == ["http", "tcp-echo"]
    echo = next(p for p in listed["protocols"] if p["name"] == "tcp-echo")
    assert (echo["status"], echo["fields"]) == ("ok", ["send"])
    assert "orchestra-tcp-echo" in echo["origin"]


async def test_the_api_names_a_broken_plug_in_and_why(settings: Settings, install: Install) -> None:
    install("orchestra-broken", {"broken": "tests.support.plugins.missing:plugin"})
    async with serving(settings, token=TOKEN) as api:
        listed = (await api.get("/protocols")).json()
        unauthorised = await api.get("/protocols", token=None)

    (broken,) = [p for p in listed["protocols"] if p["status"] == "broken"]
    assert (listed["broken"], broken["name"]) == (1, "broken")
    assert "cannot be loaded" in broken["error"]
    assert unauthorised.status == 401
