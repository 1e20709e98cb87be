"""A small library loans service that behaves as its description (openapi.yaml) says: a
second SUT for the tests, unlike the bundled order example. In memory, aiohttp."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.support.servers import served

HERE = Path(__file__).parent
MODEL = HERE / "loans.bpmn"
OPENAPI = HERE / "openapi.yaml"
LOAN_DAYS = 21


def library_app() -> web.Application:
    members: dict[str, dict[str, Any]] = {}
    loans: dict[str, dict[str, Any]] = {}
    numbers = itertools.count(1)

    def refused(status: int, message: str) -> web.Response:
        return web.json_response({"error": message}, status=status)

    async def create_member(request: web.Request) -> web.Response:
        body = await request.json()
        if not isinstance(body, dict) or not body.get("name") or "@" not in str(body.get("email")):
            return refused(422, "a member has a name and an email address")
        member = {"id": f"m-{next(numbers)}", "name": body["name"], "email": body["email"]}
        members[member["id"]] = member | {"status": "ACTIVE"}
        return web.json_response(members[member["id"]], status=201)

    async def get_member(request: web.Request) -> web.Response:
        member = members.get(request.match_info["memberId"])
        return web.json_response(member) if member else refused(404, "no such member")

    async def borrow(request: web.Request) -> web.Response:
        member_id = request.match_info["memberId"]
        body = await request.json()
        if member_id not in members:
            return refused(404, "no such member")
        if not isinstance(body, dict) or len(str(body.get("isbn", ""))) < 10:
            return refused(422, "an ISBN has at least 10 characters")
        loan_id = f"l-{next(numbers)}"
        due = (date.today() + timedelta(days=LOAN_DAYS)).isoformat()
        loans[loan_id] = {
            "id": loan_id, "memberId": member_id, "isbn": body["isbn"],
            "state": "OPEN", "due": due, "renewals": 0,
        }  # fmt: skip
        return web.json_response(loans[loan_id], status=201)

    def open_loan(request: web.Request) -> dict[str, Any] | web.Response:
        loan = loans.get(request.match_info["loanId"])
        if loan is None:
            return refused(404, "no such loan")
        if loan["state"] != "OPEN":
            return refused(409, "the loan is closed")
        return loan

    async def get_loan(request: web.Request) -> web.Response:
        loan = loans.get(request.match_info["loanId"])
        return web.json_response(loan) if loan else refused(404, "no such loan")

    async def renew(request: web.Request) -> web.Response:
        loan = open_loan(request)
        if isinstance(loan, web.Response):
            return loan
        loan["due"] = (date.fromisoformat(loan["due"]) + timedelta(days=14)).isoformat()
        loan["renewals"] += 1
        return web.json_response(loan)

    async def give_back(request: web.Request) -> web.Response:
        loan = open_loan(request)
        if isinstance(loan, web.Response):
            return loan
        loan["state"] = "RETURNED"
        return web.json_response(loan)

    async def books(request: web.Request) -> web.Response:
        return web.json_response([{"isbn": "9780262033848", "title": "CLRS", "author": None}])

    app = web.Application()
    app.router.add_post("/members", create_member)
    app.router.add_get("/members/{memberId}", get_member)
    app.router.add_post("/members/{memberId}/loans", borrow)
    app.router.add_get("/loans/{loanId}", get_loan)
    app.router.add_post("/loans/{loanId}/renewal", renew)
    app.router.add_post("/loans/{loanId}/return", give_back)
    app.router.add_get("/books", books)
    return app


@contextmanager
def library_in_thread() -> Iterator[str]:
    """The service on a free port of 127.0.0.1, in a thread with its own event loop, for
    tests that block theirs (running the CLI); yields its base URL."""
    ready = threading.Event()
    found: dict[str, Any] = {}

    async def serve() -> None:
        found["loop"], found["stop"] = asyncio.get_running_loop(), asyncio.Event()
        try:
            async with served(library_app()) as base_url:
                found["url"] = base_url
                ready.set()
                await found["stop"].wait()
        finally:
            ready.set()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    ready.wait(timeout=30)
    if "url" not in found:
        raise RuntimeError("the library service did not start")
    try:
        yield found["url"]
    finally:
        found["loop"].call_soon_threadsafe(found["stop"].set)
        thread.join(timeout=30)
