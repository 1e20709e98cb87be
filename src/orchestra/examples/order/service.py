"""The order service behind the example SUT: in-memory orders whose state changes later.

Every command (reserve, pay, ship, refund, cancel) answers at once with a PENDING state and
settles after a short delay in a background task, as a real workflow engine would: a client
polls the order to see it settle, so the example exercises `eventually.poll`.

The planted defect: cancelling an order (the "give up" branch after a declined payment) never
releases its stock reservation. Every other branch behaves as the process says.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DECLINED_CARD = "4000000000000002"
UNDELIVERABLE_COUNTRY = "AQ"  # Antarctica: no courier goes there, shipping raises the error
CATALOG: dict[str, int] = {"BOOK-1": 1_000_000, "MUG-2": 1_000_000, "LAMP-3": 1_000_000}


class CommandRefused(Exception):
    """A command the order's current state forbids (HTTP 409) or a bad payload (HTTP 422)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Order:
    id: str
    customer: str
    items: list[dict[str, Any]]
    address: dict[str, str]
    state: str = "CREATED"  # CREATED -> SHIPPED | REFUNDED | CANCELLING -> CANCELLED
    reservation: str = "NONE"  # NONE -> PENDING -> RESERVED -> RELEASED
    payment: str = "NONE"  # NONE -> PENDING -> ACCEPTED | DECLINED (-> PENDING again)
    # ACCEPTED -> REFUND_PENDING -> REFUNDED
    payment_attempts: int = 0
    shipment: str = "NONE"  # NONE -> PENDING -> SHIPPED | FAILED
    shipment_error: str | None = None
    tracking_number: str | None = None
    history: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer": self.customer,
            "items": self.items,
            "address": self.address,
            "state": self.state,
            "reservation": {"state": self.reservation},
            "payment": {"state": self.payment, "attempts": self.payment_attempts},
            "shipment": {
                "state": self.shipment,
                "error": self.shipment_error,
                "tracking_number": self.tracking_number,
            },
            "history": list(self.history),
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """A command's response as it was sent: what a repeated Idempotency-Key gets again."""

    status: int
    body: bytes  # JSON


class OrderService:
    """All orders and stock of one SUT instance. Use from one event loop only."""

    def __init__(self, *, delay_s: tuple[float, float] = (0.05, 0.25), seed: int = 7) -> None:
        self._delay_s = delay_s
        self._random = random.Random(seed)
        self._ids = itertools.count(1)
        self._orders: dict[str, Order] = {}
        # "command key" -> (payload as canonical JSON, the answer first given)
        self._by_idempotency_key: dict[str, tuple[str, Answer]] = {}
        self._stock = dict(CATALOG)
        self._tasks: set[asyncio.Task[None]] = set()

    # -- queries ------------------------------------------------------------------------------

    def order(self, order_id: str) -> Order:
        try:
            return self._orders[order_id]
        except KeyError:
            raise CommandRefused(404, f"no order {order_id!r}") from None

    def stock(self, sku: str) -> int:
        if sku not in self._stock:
            raise CommandRefused(404, f"no product {sku!r}")
        return self._stock[sku]

    # -- commands -----------------------------------------------------------------------------

    def replayed(self, idempotency_key: str | None, command: str, payload: Any) -> Answer | None:
        """The answer a command with this key was first given, or None if the key is new. The
        same key with another payload is refused (422).

        A client may repeat a command with the same `Idempotency-Key` (a retry, or a re-send
        after a crash): it is not executed twice, and it gets the original response, status
        and body, as the IETF Idempotency-Key draft asks. To see the order settle, a client
        polls `GET /orders/{id}`.
        """
        if idempotency_key is None:
            return None
        first = self._by_idempotency_key.get(f"{command} {idempotency_key}")
        if first is None:
            return None
        fingerprint, answer = first
        if fingerprint != _fingerprint(payload):
            raise CommandRefused(
                422, "this Idempotency-Key was used with another payload: use a new key"
            )
        return answer

    def remember(
        self, idempotency_key: str | None, command: str, payload: Any, answer: Answer
    ) -> None:
        """Keep the answer a command was given under its key, to replay it (see `replayed`)."""
        if idempotency_key:
            remembered = (_fingerprint(payload), answer)
            self._by_idempotency_key[f"{command} {idempotency_key}"] = remembered

    def create(self, payload: Any) -> Order:
        customer, items, address = _validated_order(payload)
        order = Order(
            id=f"ord-{next(self._ids):05d}", customer=customer, items=items, address=address
        )
        order.history.append("CREATED")
        self._orders[order.id] = order
        return order

    def reserve(self, order_id: str) -> Order:
        order = self._open_order(order_id)
        if order.reservation != "NONE":
            raise CommandRefused(409, f"order {order_id} already has a reservation")
        order.reservation = "PENDING"
        self._later(self._settle_reservation, order)
        return order

    def pay(self, order_id: str, payload: Any) -> Order:
        order = self._open_order(order_id)
        if order.payment not in ("NONE", "DECLINED"):
            raise CommandRefused(409, f"order {order_id} payment is {order.payment}")
        card = _validated_card(payload)
        order.payment = "PENDING"
        order.payment_attempts += 1
        self._later(self._settle_payment, order, card)
        return order

    def ship(self, order_id: str) -> Order:
        order = self._open_order(order_id)
        if order.payment != "ACCEPTED" or order.reservation != "RESERVED":
            raise CommandRefused(409, f"order {order_id} is not paid and reserved")
        if order.shipment != "NONE":
            raise CommandRefused(409, f"order {order_id} shipment is {order.shipment}")
        order.shipment = "PENDING"
        self._later(self._settle_shipment, order)
        return order

    def refund(self, order_id: str) -> Order:
        order = self._open_order(order_id)
        if order.payment != "ACCEPTED" or order.shipment == "SHIPPED":
            raise CommandRefused(409, f"order {order_id} cannot be refunded")
        order.payment = "REFUND_PENDING"
        self._later(self._settle_refund, order)
        return order

    def cancel(self, order_id: str) -> Order:
        order = self._open_order(order_id)
        if order.payment in ("ACCEPTED", "PENDING"):
            raise CommandRefused(409, f"order {order_id} payment is {order.payment}")
        order.state = "CANCELLING"
        self._later(self._settle_cancel, order)
        return order

    async def close(self) -> None:
        """Cancel the transitions still pending (the server is stopping)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- transitions, run later ---------------------------------------------------------------

    def _settle_reservation(self, order: Order) -> None:
        wanted = {item["sku"]: item["quantity"] for item in order.items}
        if any(self._stock[sku] < qty for sku, qty in wanted.items()):
            order.reservation = "OUT_OF_STOCK"
        else:
            for sku, qty in wanted.items():
                self._stock[sku] -= qty
            order.reservation = "RESERVED"
        order.history.append(f"reservation {order.reservation}")

    def _settle_payment(self, order: Order, card: str) -> None:
        order.payment = "DECLINED" if card == DECLINED_CARD else "ACCEPTED"
        order.history.append(f"payment {order.payment}")

    def _settle_shipment(self, order: Order) -> None:
        if order.address.get("country", "").upper() == UNDELIVERABLE_COUNTRY:
            order.shipment, order.shipment_error = "FAILED", "ADDRESS_REJECTED"
        else:
            order.shipment, order.state = "SHIPPED", "SHIPPED"
            order.tracking_number = f"TRK-{order.id}"
        order.history.append(f"shipment {order.shipment}")

    def _settle_refund(self, order: Order) -> None:
        order.payment, order.state = "REFUNDED", "REFUNDED"
        self._release(order)
        order.history.append("REFUNDED")

    def _settle_cancel(self, order: Order) -> None:
        # The planted defect: a cancelled order keeps its reservation (no self._release(order)).
        order.state = "CANCELLED"
        order.history.append("CANCELLED")

    def _release(self, order: Order) -> None:
        if order.reservation == "RESERVED":
            for item in order.items:
                self._stock[item["sku"]] += item["quantity"]
            order.reservation = "RELEASED"

    def _open_order(self, order_id: str) -> Order:
        order = self.order(order_id)
        if order.state != "CREATED":
            raise CommandRefused(409, f"order {order_id} is {order.state}")
        return order

    def _later(self, transition: Callable[..., None], *args: Any) -> None:
        low, high = self._delay_s
        delay = self._random.uniform(low, high)
        task = asyncio.get_running_loop().create_task(_after(delay, transition, *args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _after(delay: float, transition: Callable[..., None], *args: Any) -> None:
    await asyncio.sleep(delay)
    transition(*args)


def _fingerprint(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def _validated_order(payload: Any) -> tuple[str, list[dict[str, Any]], dict[str, str]]:
    if not isinstance(payload, dict):
        raise CommandRefused(422, "the body must be a JSON object")
    customer = payload.get("customer")
    items = payload.get("items")
    address = payload.get("address")
    if not isinstance(customer, str) or not customer.strip():
        raise CommandRefused(422, "customer: a non-empty string is required")
    if not isinstance(items, list) or not items:
        raise CommandRefused(422, "items: at least one item is required")
    if not isinstance(address, dict) or not isinstance(address.get("country"), str):
        raise CommandRefused(422, "address: an object with a country is required")
    return customer, [_validated_item(item, n) for n, item in enumerate(items)], address


def _validated_item(item: Any, index: int) -> dict[str, Any]:
    sku = item.get("sku") if isinstance(item, dict) else None
    quantity = item.get("quantity") if isinstance(item, dict) else None
    if sku not in CATALOG:
        raise CommandRefused(422, f"items[{index}].sku: unknown product {sku!r}")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise CommandRefused(422, f"items[{index}].quantity: a positive integer is required")
    return {"sku": sku, "quantity": quantity}


def _validated_card(payload: Any) -> str:
    card = payload.get("card") if isinstance(payload, dict) else None
    if not isinstance(card, str) or len(card) != 16 or not card.isdigit():
        raise CommandRefused(422, "card: 16 digits are required")
    return card
