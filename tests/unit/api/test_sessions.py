"""Session cookies: signed under a key derived from the token, opaque, expiring; and the
same-origin check guarding what they let a browser change."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from orchestra.api.sessions import Sessions, cookie_value, same_origin
from orchestra.api.web.forms import local_path

TOKEN = "s3cret-token"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_an_issued_cookie_is_valid_and_says_nothing_of_the_token() -> None:
    sessions = Sessions(TOKEN)

    value = sessions.issue()

    assert sessions.valid(value)
    assert TOKEN not in value
    assert value != sessions.issue()  # a fresh nonce each time


def test_a_cookie_expires_after_its_lifetime() -> None:
    clock = Clock()
    sessions = Sessions(TOKEN, lifetime=3600, clock=clock)
    value = sessions.issue()

    clock.now += 3599
    still = sessions.valid(value)
    clock.now += 2

    assert still
    assert not sessions.valid(value)


def test_a_cookie_from_another_token_or_tampered_with_is_refused() -> None:
    value = Sessions("another-token").issue()
    issued, nonce, mac = Sessions(TOKEN).issue().split(".")

    assert not Sessions(TOKEN).valid(value)
    assert not Sessions(TOKEN).valid(f"{int(issued) + 1000}.{nonce}.{mac}")
    assert not Sessions(TOKEN).valid(f"{issued}.{nonce}x.{mac}")


@pytest.mark.parametrize("value", [None, "", "garbage", "..", "1.2", "x.y.z", "1..0"])
def test_malformed_cookies_are_refused(value: str | None) -> None:
    assert not Sessions(TOKEN).valid(value)


def test_the_token_is_compared_whole() -> None:
    sessions = Sessions(TOKEN)

    assert sessions.token_matches(TOKEN)
    assert sessions.token_matches(f" {TOKEN}\n")  # pasted with a new line
    assert not sessions.token_matches(TOKEN[:-1])
    assert not sessions.token_matches("")


@pytest.mark.parametrize(
    ("headers", "same"),
    [
        ({"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:8000"}, True),
        ({"host": "orchestra.example", "origin": "https://orchestra.example"}, True),
        ({"host": "127.0.0.1:8000", "referer": "http://127.0.0.1:8000/ui/suite-runs"}, True),
        ({"host": "127.0.0.1:8000", "origin": "http://evil.example"}, False),
        ({"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:8001"}, False),
        ({"host": "127.0.0.1:8000", "origin": "null"}, False),
        ({"host": "127.0.0.1:8000"}, False),
        ({"host": "127.0.0.1:8000", "referer": "http://evil.example/127.0.0.1:8000"}, False),
    ],
)
def test_same_origin_reads_origin_then_referer(headers: dict[str, str], same: bool) -> None:
    assert same_origin(Headers(headers)) is same


def test_the_session_cookie_is_read_among_others() -> None:
    headers = Headers({"cookie": "a=1; orchestra_session=v.w.x; b=2"})

    assert cookie_value(headers) == "v.w.x"
    assert cookie_value(Headers({"cookie": "a=1"})) is None


@pytest.mark.parametrize(
    ("wanted", "goes_to"),
    [
        ("/ui/suites", "/ui/suites"),
        ("/ui/suite-runs?status=FAILED", "/ui/suite-runs?status=FAILED"),
        ("//evil.example/ui/", "/ui/suite-runs"),
        ("/ui//evil.example", "/ui/suite-runs"),
        ("/ui/\\evil.example", "/ui/suite-runs"),
        ("https://evil.example/ui/", "/ui/suite-runs"),
        ("/processes", "/ui/suite-runs"),
        (None, "/ui/suite-runs"),
    ],
)
def test_after_a_form_a_browser_goes_back_only_to_a_page_of_the_ui(
    wanted: str | None, goes_to: str
) -> None:
    assert local_path(wanted) == goes_to
