"""The example SUT: the order service over HTTP (Starlette on uvicorn, 127.0.0.1 only).

    POST /orders                     create (201)
    GET  /orders/{id}                the order with its reservation, payment and shipment
    POST /orders/{id}/reservation    reserve stock       (202, settles later)
    POST /orders/{id}/payment        charge or retry     (202, {"card": "..."}, settles later)
    POST /orders/{id}/shipment       ship                (202, settles later, may fail)
    POST /orders/{id}/refund         refund              (202, settles later)
    POST /orders/{id}/cancel         cancel              (202, settles later)
    GET  /stock/{sku}                units available
    GET  /health

Every POST is a command run once per `Idempotency-Key`: repeated with the same key and payload
it is not run again and answers with the original response, status (201, 202) and body (the
order as it was then), as the IETF Idempotency-Key draft asks, so a re-send after a crash gets
the answer the lost request got; the same key with another payload is refused with 422. A
refused command (409, 422) is not remembered. A client watches a command settle by polling
`GET /orders/{id}` (Orchestra's `eventually.poll`).

Run it alone with `python -m orchestra.examples.order.sut --port 8765`, or inside a program with
`async with run_example_sut() as base_url: ...` (or `with example_sut_in_thread() as base_url:`
from code that blocks its event loop).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orchestra.api.server import ApiServer
from orchestra.examples.order.service import Answer, CommandRefused, Order, OrderService

_HOST = "127.0.0.1"


def create_app(service: OrderService | None = None, *, token: str | None = None) -> Starlette:
    """The HTTP application over `service` (a fresh one by default).

    With `token`, every route but /health wants `Authorization: Bearer <token>` (401 without).
    """
    orders = service or OrderService()

    def authorized(request: Request) -> None:
        if token is not None and request.headers.get("authorization") != f"Bearer {token}":
            raise CommandRefused(401, "a valid bearer token is required")

    def command(name: str, act: Callable[[str, Any], Order]) -> Callable[[Request], Any]:
        """An endpoint running `act(order_id, body)` once per Idempotency-Key."""

        async def endpoint(request: Request) -> Response:
            authorized(request)
            order_id = request.path_params.get("order_id", "")
            key, scope = request.headers.get("idempotency-key"), f"{name} {order_id}"
            body = await _json(request)
            answer = orders.replayed(key, scope, body)
            if answer is None:
                order, status = act(order_id, body), 201 if name == "create" else 202
                answer = Answer(status, _encoded(order.to_json()))
                orders.remember(key, scope, body, answer)
            return Response(answer.body, answer.status, media_type="application/json")

        return endpoint

    async def get_order(request: Request) -> Response:
        authorized(request)
        return _order(orders.order(request.path_params["order_id"]))

    async def get_stock(request: Request) -> Response:
        authorized(request)
        sku = request.path_params["sku"]
        return JSONResponse({"sku": sku, "available": orders.stock(sku)})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await orders.close()

    routes = [
        Route("/health", health),
        Route("/orders", command("create", lambda _, body: orders.create(body)), methods=["POST"]),
        Route("/orders/{order_id}", get_order),
        Route(
            "/orders/{order_id}/reservation",
            command("reserve", lambda order_id, _: orders.reserve(order_id)),
            methods=["POST"],
        ),
        Route("/orders/{order_id}/payment", command("pay", orders.pay), methods=["POST"]),
        Route(
            "/orders/{order_id}/shipment",
            command("ship", lambda order_id, _: orders.ship(order_id)),
            methods=["POST"],
        ),
        Route(
            "/orders/{order_id}/refund",
            command("refund", lambda order_id, _: orders.refund(order_id)),
            methods=["POST"],
        ),
        Route(
            "/orders/{order_id}/cancel",
            command("cancel", lambda order_id, _: orders.cancel(order_id)),
            methods=["POST"],
        ),
        Route("/stock/{sku}", get_stock),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={CommandRefused: _refused},  # type: ignore[dict-item]
    )


@contextlib.asynccontextmanager
async def run_example_sut(
    port: int = 0, *, service: OrderService | None = None, token: str | None = None
) -> AsyncIterator[str]:
    """Serve the example SUT on 127.0.0.1 in this event loop; yields its base URL.

    `port=0` picks a free port; `token` makes it require that bearer token. The server stops
    (pending transitions cancelled) on exit.
    """
    app = create_app(service, token=token)
    server = ApiServer(app, _HOST, port, quiet=True, graceful_signals=False)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raises what stopped it
                why = server.bind_error or "it stopped before it started"
                raise RuntimeError(f"the example SUT cannot listen on {_HOST}:{port}: {why}")
            await asyncio.sleep(0.01)
        socket = server.servers[0].sockets[0]
        yield f"http://{_HOST}:{socket.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


@contextlib.contextmanager
def example_sut_in_thread(
    port: int = 0, *, service: OrderService | None = None, token: str | None = None
) -> Iterator[str]:
    """`run_example_sut` in a thread with its own event loop, for callers that block theirs."""
    ready = threading.Event()
    found: dict[str, Any] = {}

    async def serve() -> None:
        found["loop"], found["stop"] = asyncio.get_running_loop(), asyncio.Event()
        try:
            async with run_example_sut(port, service=service, token=token) as base_url:
                found["url"] = base_url
                ready.set()
                await found["stop"].wait()
        finally:
            ready.set()

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # handed to the caller below
            found["error"] = exc

    thread = threading.Thread(target=run, name="example-sut", daemon=True)
    thread.start()
    ready.wait(timeout=30)
    if "url" not in found:
        thread.join(timeout=5)
        raise RuntimeError("the example SUT did not start") from found.get("error")
    try:
        yield found["url"]
    finally:
        found["loop"].call_soon_threadsafe(found["stop"].set)
        thread.join(timeout=30)


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        raise CommandRefused(422, "the body is not JSON") from None


def _encoded(document: Any) -> bytes:
    return bytes(JSONResponse(document).body)  # encoded as every other answer is


def _order(order: Order) -> Response:
    return JSONResponse(order.to_json())


async def _refused(request: Request, exc: CommandRefused) -> Response:
    return JSONResponse({"error": exc.message}, status_code=exc.status)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve Orchestra's example order service.")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--token", help="require this bearer token")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"argument --port: {args.port} is not a port (0 to 65535)")

    async def serve() -> None:
        async with run_example_sut(args.port, token=args.token) as base_url:
            print(f"example order service listening on {base_url} (Ctrl-C stops it)", flush=True)
            await asyncio.Event().wait()

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve())
    except RuntimeError as exc:  # a port taken: one line, exit 1
        parser.exit(1, f"error: {exc}\n")


if __name__ == "__main__":
    main()
