"""The example SUT behaves as order.bpmn says, over real HTTP on 127.0.0.1, defect included."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from orchestra.examples.order import environment_text
from orchestra.examples.order.service import DECLINED_CARD, UNDELIVERABLE_COUNTRY, OrderService
from orchestra.examples.order.sut import example_sut_in_thread, run_example_sut

GOOD_CARD = "4242424242424242"


class Shop:
    """A tiny client of the example SUT, polling as Orchestra's `eventually` does."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    async def call(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        async with self.session.request(method, self.base_url + path, json=body, **kw) as resp:
            return resp.status, await resp.json()

    async def new_order(self, country: str = "FR", quantity: int = 2) -> dict[str, Any]:
        status, order = await self.call("POST", "/orders", _order_body(country, quantity))
        assert status == 201, order
        return dict(order)

    async def eventually(
        self, order_id: str, holds: Callable[[dict[str, Any]], bool], timeout_s: float = 3.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            _, order = await self.call("GET", f"/orders/{order_id}")
            if holds(order) or time.monotonic() > deadline:
                return dict(order)
            await asyncio.sleep(0.01)

    async def paid_and_reserved(self, card: str = GOOD_CARD, country: str = "FR") -> str:
        order_id = str((await self.new_order(country))["id"])
        await self.call("POST", f"/orders/{order_id}/reservation")
        await self.call("POST", f"/orders/{order_id}/payment", {"card": card})
        await self.eventually(order_id, _settled)
        return order_id

    async def available(self, sku: str = "BOOK-1") -> int:
        _, stock = await self.call("GET", f"/stock/{sku}")
        return int(stock["available"])


def _order_body(country: str, quantity: int) -> dict[str, Any]:
    return {
        "customer": "Ada",
        "items": [{"sku": "BOOK-1", "quantity": quantity}],
        "address": {"street": "1 Main St", "city": "Paris", "country": country},
    }


def _settled(order: dict[str, Any]) -> bool:
    return "PENDING" not in (order["reservation"]["state"], order["payment"]["state"])


@pytest.fixture
async def shop() -> AsyncIterator[Shop]:
    async with (
        run_example_sut(service=OrderService(delay_s=(0.01, 0.04))) as base_url,
        aiohttp.ClientSession() as session,
    ):
        yield Shop(session, base_url)


async def test_commands_answer_pending_and_settle_later(shop: Shop) -> None:
    order = await shop.new_order()
    status, reserving = await shop.call("POST", f"/orders/{order['id']}/reservation")
    assert (status, reserving["reservation"]["state"]) == (202, "PENDING")
    settled = await shop.eventually(order["id"], lambda o: o["reservation"]["state"] != "PENDING")
    assert settled["reservation"]["state"] == "RESERVED"


async def test_reserving_and_charging_in_parallel_then_shipping_ships_the_order(shop: Shop) -> None:
    order = await shop.new_order()
    (s1, _), (s2, _) = await asyncio.gather(
        shop.call("POST", f"/orders/{order['id']}/reservation"),
        shop.call("POST", f"/orders/{order['id']}/payment", {"card": GOOD_CARD}),
    )
    assert (s1, s2) == (202, 202)
    paid = await shop.eventually(order["id"], _settled)
    assert (paid["reservation"]["state"], paid["payment"]["state"]) == ("RESERVED", "ACCEPTED")
    status, _ = await shop.call("POST", f"/orders/{order['id']}/shipment")
    shipped = await shop.eventually(order["id"], lambda o: o["state"] == "SHIPPED")
    assert status == 202
    assert shipped["shipment"] == {
        "state": "SHIPPED",
        "error": None,
        "tracking_number": f"TRK-{order['id']}",
    }


async def test_a_declined_payment_can_be_retried_with_another_card(shop: Shop) -> None:
    order_id = await shop.paid_and_reserved(card=DECLINED_CARD)
    declined = await shop.eventually(order_id, _settled)
    assert declined["payment"] == {"state": "DECLINED", "attempts": 1}
    status, _ = await shop.call("POST", f"/orders/{order_id}/payment", {"card": GOOD_CARD})
    accepted = await shop.eventually(order_id, lambda o: o["payment"]["state"] == "ACCEPTED")
    assert status == 202
    assert accepted["payment"] == {"state": "ACCEPTED", "attempts": 2}


async def test_an_undeliverable_address_fails_shipping_and_the_refund_releases_stock(
    shop: Shop,
) -> None:
    before = await shop.available()
    order_id = await shop.paid_and_reserved(country=UNDELIVERABLE_COUNTRY)
    await shop.call("POST", f"/orders/{order_id}/shipment")
    failed = await shop.eventually(order_id, lambda o: o["shipment"]["state"] == "FAILED")
    assert failed["shipment"]["error"] == "ADDRESS_REJECTED"
    assert failed["state"] == "CREATED"
    await shop.call("POST", f"/orders/{order_id}/refund")
    refunded = await shop.eventually(order_id, lambda o: o["state"] == "REFUNDED")
    assert refunded["payment"]["state"] == "REFUNDED"
    assert refunded["reservation"]["state"] == "RELEASED"
    assert await shop.available() == before


async def test_the_planted_defect_cancelling_keeps_the_stock_reserved(shop: Shop) -> None:
    before = await shop.available()
    order_id = await shop.paid_and_reserved(card=DECLINED_CARD)
    status, _ = await shop.call("POST", f"/orders/{order_id}/cancel")
    cancelled = await shop.eventually(order_id, lambda o: o["state"] == "CANCELLED")
    assert status == 202
    assert cancelled["state"] == "CANCELLED"
    # What the process requires is RELEASED and the stock back; the SUT gets it wrong.
    assert cancelled["reservation"]["state"] == "RESERVED"
    assert await shop.available() == before - 2


async def test_shipping_an_unpaid_order_is_refused(shop: Shop) -> None:
    order = await shop.new_order()
    status, body = await shop.call("POST", f"/orders/{order['id']}/shipment")
    assert status == 409
    assert "not paid and reserved" in body["error"]


async def test_a_paid_order_cannot_be_cancelled_nor_paid_again(shop: Shop) -> None:
    order_id = await shop.paid_and_reserved()
    assert (await shop.call("POST", f"/orders/{order_id}/cancel"))[0] == 409
    assert (await shop.call("POST", f"/orders/{order_id}/payment", {"card": GOOD_CARD}))[0] == 409


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"customer": "", "items": [], "address": {}}, "customer"),
        ({"customer": "a", "items": [], "address": {"country": "FR"}}, "items"),
        (
            {
                "customer": "a",
                "items": [{"sku": "NOPE", "quantity": 1}],
                "address": {"country": "FR"},
            },
            "unknown product",
        ),
        (
            {
                "customer": "a",
                "items": [{"sku": "MUG-2", "quantity": 0}],
                "address": {"country": "FR"},
            },
            "quantity",
        ),
        ([1, 2], "JSON object"),
    ],
)
async def test_an_invalid_order_is_refused_with_the_field_named(
    shop: Shop, body: Any, message: str
) -> None:
    status, answer = await shop.call("POST", "/orders", body)
    assert status == 422
    assert message in answer["error"]


async def test_an_unknown_order_is_not_found(shop: Shop) -> None:
    status, body = await shop.call("GET", "/orders/ord-99999")
    assert (status, body) == (404, {"error": "no order 'ord-99999'"})


async def test_a_repeated_idempotency_key_replays_the_first_answer(shop: Shop) -> None:
    headers = {"Idempotency-Key": "run-1-step-2"}
    first = await shop.call("POST", "/orders", _order_body("FR", 1), headers=headers)
    again = await shop.call("POST", "/orders", _order_body("FR", 1), headers=headers)
    assert (first[0], again[0]) == (201, 201)
    assert first[1] == again[1]


async def test_a_repeated_idempotency_key_with_another_payload_is_refused(shop: Shop) -> None:
    headers = {"Idempotency-Key": "run-1-step-3"}
    first = await shop.call("POST", "/orders", _order_body("FR", 1), headers=headers)
    other = await shop.call("POST", "/orders", _order_body("FR", 2), headers=headers)
    assert (first[0], other[0]) == (201, 422)
    assert "another payload" in other[1]["error"]


async def test_a_command_repeated_with_its_key_replays_its_original_response_byte_for_byte(
    shop: Shop,
) -> None:
    order = await shop.new_order()
    pay = shop.base_url + f"/orders/{order['id']}/payment"
    headers = {"Idempotency-Key": "charge-1"}

    async def charge() -> tuple[int, bytes]:
        async with shop.session.post(pay, json={"card": GOOD_CARD}, headers=headers) as resp:
            return resp.status, await resp.read()

    first = await charge()
    settled = await shop.eventually(order["id"], lambda o: o["payment"]["state"] != "PENDING")
    again = await charge()

    assert again == first  # the status and the body first sent, not the order as it is now
    assert json.loads(first[1])["payment"] == {"state": "PENDING", "attempts": 1}
    assert settled["payment"] == {"state": "ACCEPTED", "attempts": 1}  # charged once


async def test_a_refused_command_is_not_remembered_under_its_key(shop: Shop) -> None:
    order = await shop.new_order()
    headers = {"Idempotency-Key": "ship-1"}
    ship = f"/orders/{order['id']}/shipment"
    assert (await shop.call("POST", ship, headers=headers))[0] == 409
    await shop.call("POST", f"/orders/{order['id']}/reservation")
    await shop.call("POST", f"/orders/{order['id']}/payment", {"card": GOOD_CARD})
    await shop.eventually(order["id"], _settled)
    assert (await shop.call("POST", ship, headers=headers))[0] == 202


async def test_with_a_token_every_route_but_health_wants_it() -> None:
    async with run_example_sut(token="s3cret") as base_url, aiohttp.ClientSession() as session:
        shop = Shop(session, base_url)
        assert (await shop.call("GET", "/health"))[0] == 200
        assert await shop.call("POST", "/orders", _order_body("FR", 1)) == (
            401,
            {"error": "a valid bearer token is required"},
        )
        authorized = {"Authorization": "Bearer s3cret"}
        assert (await shop.call("POST", "/orders", _order_body("FR", 1), headers=authorized))[
            0
        ] == 201


async def test_two_example_suts_get_two_free_ports() -> None:
    async with run_example_sut() as first, run_example_sut() as second:
        assert first.startswith("http://127.0.0.1:")
        assert first != second


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_sut_runs_standalone_on_the_port_given() -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "orchestra.examples.order.sut", "--port", str(port)],
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        banner = await asyncio.wait_for(process.stdout.readline(), timeout=20)
        assert f"http://127.0.0.1:{port}" in banner.decode()
        async with aiohttp.ClientSession() as session:
            shop = Shop(session, f"http://127.0.0.1:{port}")
            assert await shop.call("GET", "/health") == (200, {"status": "ok"})
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=10)


def test_the_environment_can_carry_the_url_in_clear_and_keep_the_token_a_reference() -> None:
    text = environment_text("http://127.0.0.1:8765")
    assert 'base_url: "http://127.0.0.1:8765"' in text
    assert 'token: "${ORCHESTRA_EXAMPLE_TOKEN}"' in text


def test_the_sut_also_runs_in_a_thread_of_its_own() -> None:
    with (
        example_sut_in_thread() as base_url,
        urllib.request.urlopen(f"{base_url}/health", timeout=10) as answer,
    ):
        assert json.loads(answer.read()) == {"status": "ok"}
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        urllib.request.urlopen(f"{base_url}/health", timeout=2)  # stopped with the block


async def test_a_port_taken_is_an_error_naming_it_not_a_system_exit() -> None:
    async with run_example_sut() as first:
        port = int(first.rsplit(":", 1)[1])

        with pytest.raises(RuntimeError) as caught:
            async with run_example_sut(port):
                pass  # pragma: no cover - it cannot start

    assert str(caught.value).startswith(f"the example SUT cannot listen on 127.0.0.1:{port}: ")
    assert "address already in use" in str(caught.value)


@pytest.mark.parametrize(("taken", "port"), [(True, None), (False, "70000")])
async def test_standalone_a_port_taken_or_out_of_range_is_one_line_and_an_exit_code(
    taken: bool, port: str | None
) -> None:
    async with run_example_sut() as first:
        argument = first.rsplit(":", 1)[1] if taken else str(port)
        done = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "orchestra.examples.order.sut", "--port", argument],
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(done.communicate(), 60)

    assert done.returncode == (1 if taken else 2)
    assert "Traceback" not in err.decode()
    expected = "error: the example SUT cannot listen" if taken else "70000 is not a port"
    assert expected in err.decode()
