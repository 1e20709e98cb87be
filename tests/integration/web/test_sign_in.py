"""Signing in to the web UI: the token for a session cookie (HttpOnly, SameSite=Strict, opaque),
pages sending a browser without one to the sign-in page, the API taking the cookie too, and
changes the cookie carries from another origin refused."""

from __future__ import annotations

from orchestra.api.sessions import COOKIE
from orchestra.config import Settings
from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.api.conftest import TOKEN, serving
from tests.integration.runtime.support import scenario, step, store_suite
from tests.integration.web.conftest import Browser, session_cookie


async def test_a_page_without_a_session_redirects_to_the_sign_in_page(browser: Browser) -> None:
    reply = await browser.get("/ui/suite-runs?status=FAILED")

    assert reply.status == 303
    assert reply.headers["Location"] == "/ui/sign-in?next=%2Fui%2Fsuite-runs%3Fstatus%3DFAILED"


async def test_the_root_leads_to_the_suite_runs(browser: Browser) -> None:
    reply = await browser.get("/")

    assert reply.status == 303
    assert reply.headers["Location"] == "/ui/suite-runs"


async def test_the_sign_in_page_asks_for_the_token(browser: Browser) -> None:
    reply = await browser.get("/ui/sign-in?next=/ui/suites")

    assert reply.status == 200
    assert 'name="token" type="password"' in reply.body.decode()
    assert 'name="next" value="/ui/suites"' in reply.body.decode()
    assert "script-src 'self'" in reply.headers["Content-Security-Policy"]


async def test_the_token_sets_an_httponly_strict_opaque_session_cookie(browser: Browser) -> None:
    reply = await browser.sign_in()

    assert reply.status == 303
    assert reply.headers["Location"] == "/ui/suite-runs"
    morsel = session_cookie(reply)[COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "strict"
    assert morsel["path"] == "/"
    assert not morsel["secure"]  # plain HTTP here: a Secure cookie would never come back
    assert TOKEN not in morsel.value


async def test_a_wrong_token_is_refused_with_401_and_no_cookie(browser: Browser) -> None:
    reply = await browser.sign_in("not-the-token")

    assert reply.status == 401
    assert "Set-Cookie" not in reply.headers
    assert "not this server&#39;s token" in reply.body.decode()


async def test_a_session_opens_the_pages(signed_in: Browser) -> None:
    reply = await signed_in.get("/ui/suite-runs")

    assert reply.status == 200
    assert "<h1>Suite runs</h1>" in reply.body.decode()
    assert 'action="/ui/sign-out"' in reply.body.decode()


async def test_a_forged_cookie_opens_nothing(browser: Browser) -> None:
    browser.cookie = "1700000000.abc.0123456789abcdef"

    assert (await browser.get("/ui/suite-runs")).status == 303
    assert (await browser.get("/processes")).status == 401


async def test_signing_in_goes_back_to_the_page_asked_for_but_never_elsewhere(
    browser: Browser,
) -> None:
    wanted = await browser.post_form("/ui/sign-in", {"token": TOKEN, "next": "/ui/suites"})
    elsewhere = await browser.post_form(
        "/ui/sign-in", {"token": TOKEN, "next": "//evil.example/ui/"}
    )

    assert wanted.headers["Location"] == "/ui/suites"
    assert elsewhere.headers["Location"] == "/ui/suite-runs"


async def test_signing_out_drops_the_cookie(signed_in: Browser) -> None:
    reply = await signed_in.post_form("/ui/sign-out", {})

    assert reply.status == 303
    assert reply.headers["Location"] == "/ui/sign-in"
    assert session_cookie(reply)[COOKIE].value == ""


async def test_the_api_takes_the_session_cookie(signed_in: Browser) -> None:
    reply = await signed_in.get("/processes")

    assert reply.status == 200
    assert reply.json() == []


async def test_a_change_the_cookie_carries_from_another_origin_is_refused(
    signed_in: Browser,
) -> None:
    headers = {"Cookie": f"{COOKIE}={signed_in.cookie}", "Content-Type": "application/json"}

    foreign = await signed_in.client.post(
        "/suite-runs",
        token=None,
        json={"suite": "latest"},
        headers=headers | {"Origin": "http://evil.example"},
    )
    without_origin = await signed_in.client.post(
        "/suite-runs", token=None, json={"suite": "latest"}, headers=headers
    )
    same_origin = await signed_in.client.post(
        "/suite-runs",
        token=None,
        json={"suite": "latest"},
        headers=headers | {"Origin": signed_in.origin},
    )

    assert foreign.status == 403
    assert foreign.json()["error"] == "CrossSiteRefused"
    assert without_origin.status == 403
    assert same_origin.status == 404  # through the gate: there is no suite yet


async def test_a_form_posted_from_another_origin_is_refused(signed_in: Browser) -> None:
    reply = await signed_in.post_form("/ui/suite-runs/1/cancel", {}, origin="http://evil.example")

    assert reply.status == 403
    assert "posted from a page of this server" in reply.body.decode()


async def test_the_bearer_token_still_needs_no_origin(signed_in: Browser) -> None:
    reply = await signed_in.client.post("/suite-runs", json={"suite": "latest"})

    assert reply.status == 404


async def test_without_authentication_the_pages_need_no_sign_in(settings: Settings) -> None:
    async with serving(settings, token=None) as client:
        browser = Browser(client)
        page = await browser.get("/ui/suite-runs")
        sign_in = await browser.get("/ui/sign-in")

    assert page.status == 200
    assert 'action="/ui/sign-out"' not in page.body.decode()
    assert sign_in.status == 303


async def test_served_over_tls_the_cookie_is_secure(browser: Browser) -> None:
    # a TLS-terminating proxy on this machine says so (uvicorn trusts 127.0.0.1's headers)
    reply = await browser.post_form(
        "/ui/sign-in",
        {"token": TOKEN, "next": "/ui/suites"},
        headers={"X-Forwarded-Proto": "https"},
    )

    assert reply.status == 303
    assert session_cookie(reply)[COOKIE]["secure"] is True


async def test_the_event_stream_takes_the_session_cookie(signed_in: Browser, db: Database) -> None:
    suite = await store_suite(db, [scenario("a", [step(0, "a")])])
    run = (await running.start_suite_run(db, suite.id)).id
    await running.cancel(db, run)  # ended: the stream says so and closes

    reply = await signed_in.get(f"/suite-runs/{run}/events")

    assert reply.status == 200
    assert reply.media_type == "text/event-stream"
    assert b"event: end" in reply.body


async def test_a_form_posted_without_a_session_signs_in_then_lists_the_runs(
    browser: Browser,
) -> None:
    reply = await browser.post_form("/ui/suite-runs/1/cancel", {})

    assert reply.status == 303
    assert reply.headers["Location"] == "/ui/sign-in?next=%2Fui%2Fsuite-runs"


async def test_an_unknown_page_or_a_wrong_query_is_a_page_saying_so(signed_in: Browser) -> None:
    page = await signed_in.get("/ui/nowhere")
    query = await signed_in.get("/ui/suite-runs?before=yesterday")
    api = await signed_in.get("/nowhere")

    assert page.status == 404
    assert page.media_type == "text/html"
    assert "There is no page at /ui/nowhere." in page.body.decode()
    assert query.status == 422
    assert "query.before" in query.body.decode()
    assert api.media_type == "application/json"  # the API's answers keep their shape
