"""Signing in to the web UI: the sign-in page takes the API token and sets the session cookie
(`orchestra.api.sessions`): HttpOnly, SameSite=Strict, Secure when served over TLS. Every
page depends on `signed_in`, which sends a browser without a valid session to the sign-in
page (and back to where it was going, once signed in). Without a token (`serve --no-auth`)
nobody signs in."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import RedirectResponse

from orchestra.api.sessions import COOKIE, Sessions
from orchestra.api.web.forms import HOME, form_fields, local_path
from orchestra.api.web.rendering import page

router = APIRouter(prefix="/ui", include_in_schema=False)
SIGN_IN = "/ui/sign-in"


class SignInNeeded(Exception):
    """A page was asked for without a session: answered with a redirect to the sign-in page."""

    def __init__(self, wanted: str) -> None:
        super().__init__(wanted)
        self.wanted = wanted

    def redirect(self) -> RedirectResponse:
        query = urlencode({"next": self.wanted})
        return RedirectResponse(f"{SIGN_IN}?{query}", status_code=status.HTTP_303_SEE_OTHER)


def _sessions(request: Request) -> Sessions | None:
    sessions: Sessions | None = request.app.state.sessions
    return sessions


def has_session(request: Request) -> bool:
    sessions = _sessions(request)
    return sessions is None or sessions.valid(request.cookies.get(COOKIE))


async def signed_in(request: Request) -> None:
    """A page's dependency: no session (and authentication on), no page. Signed in, the
    browser comes back to the page it asked for; after a form, to the suite runs (a form's
    address answers POST only)."""
    if not has_session(request):
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(wanted if request.method == "GET" else HOME)


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    if has_session(request):
        return _see(local_path(next))
    return page(request, "sign_in.html.jinja", next=local_path(next), error=None)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    fields = await form_fields(request)
    wanted = local_path(fields.get("next"))
    sessions = _sessions(request)
    if sessions is None:
        return _see(wanted)
    if not sessions.token_matches(fields.get("token", "")):
        error = "That is not this server's token (ORCHESTRA_API_TOKEN)."
        values = {"next": wanted, "error": error}
        return page(request, "sign_in.html.jinja", status_code=401, **values)
    response = _see(wanted)
    response.set_cookie(
        COOKIE,
        sessions.issue(),
        max_age=sessions.lifetime,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await form_fields(request)  # checks the origin: no other site signs a user out
    response = _see(SIGN_IN)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=status.HTTP_303_SEE_OTHER)
