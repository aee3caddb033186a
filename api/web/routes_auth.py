"""Signing in and out of the pages.

A user signs in by pasting their API token once (checked exactly as the API checks it), or
with the password ``plantrail users passwd`` set; the server then starts a server-side session
(``projections/access/web_sessions.py``). The cookie is HttpOnly,
SameSite=Strict, Secure when the site is served over TLS, and holds only the session id.
Failed sign-ins are logged (access log, outcome ``unauthenticated``) and limited per client
address.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plantrail.api.rendering.templating import (
    SECURITY_HEADERS,
    SIGN_IN_CSP,
    caller_of,
    page,
    session_of,
)
from plantrail.api.routing.access import ANY_USER, PublicAccess
from plantrail.api.routing.common import context
from plantrail.api.routing.context import AppContext, access_entry
from plantrail.api.routing.requests import SESSION_COOKIE
from plantrail.api.web.forms import form_of, safe_next, same_token
from plantrail.projections.access.policy import Principal
from plantrail.projections.access.web_sessions import WebSessions

router = APIRouter(include_in_schema=False)

SIGN_IN = PublicAccess("web-sign-in")
"""The sign-in page is the one page open without a session (the middleware lets it through)."""

SIGN_IN_COOKIE = "plantrail_sign_in"
"""Login-CSRF guard: the form's hidden token must equal this short-lived cookie."""

CLIENT_HOME = "/web/client"
FAILURES_ALLOWED = 5
FAILURE_WINDOW_SECONDS = 600


class SignInLimiter:
    """At most ``FAILURES_ALLOWED`` failed sign-ins in the window per client address and, as
    well, per account (a user id, or a token's public id), so neither rotating addresses nor
    interleaving one's own successful sign-ins buys more guesses (docs/web.md, Signing in). A
    success clears only its own account's count, never the address's: whoever succeeds from
    an address may be the one guessing from it."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        found = self._failures.setdefault(key, deque())
        while found and now - found[0] > FAILURE_WINDOW_SECONDS:
            found.popleft()
        return found

    def blocked(self, *keys: str) -> bool:
        with self._lock:
            now = time.monotonic()
            return any(len(self._recent(key, now)) >= FAILURES_ALLOWED for key in keys)

    def failed(self, *keys: str) -> None:
        with self._lock:
            if len(self._failures) > 10_000:
                self._failures.clear()  # bounded memory under a spray of addresses
            now = time.monotonic()
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._failures.pop(account, None)


def account_key(user_id: str, token: str) -> str:
    """The account a sign-in attempt names: the user id given with a password, or a token's
    public id (``pt_<16 hex>``, ``pc_<16 hex>``); the attempt as a whole when it names none."""
    if user_id:
        return "user:" + user_id[:100]
    found = re.match(r"^p[tc]_[0-9a-f]{16}", token)
    return "token:" + (found.group(0) if found else "malformed")


def _limiter(request: Request) -> SignInLimiter:
    found: SignInLimiter = request.app.state.sign_in_limiter
    return found


def _secure(request: Request) -> bool:
    """Cookies are Secure when the page came over TLS (or the server is told it is behind a
    TLS proxy): a session id must never travel in clear text."""
    return context(request).settings.secure_cookies or request.url.scheme == "https"


def _sign_in_page(
    request: Request,
    *,
    error: str | None = None,
    status: int = 200,
    next_page: str = "/web/",
) -> HTMLResponse:
    guard = secrets.token_urlsafe(24)
    response = page(
        request,
        "sign_in.html",
        status=status,
        error=error,
        guard=guard,
        next_page=next_page,
        title="Sign in",
    )
    # The one page with a script: its own file, which moves a client link's key from the
    # fragment into the form (templating.SIGN_IN_CSP).
    response.headers["Content-Security-Policy"] = SIGN_IN_CSP
    response.set_cookie(
        SIGN_IN_COOKIE,
        guard,
        max_age=900,
        path="/web/sign-in",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


@router.get("/sign-in", name="web_sign_in")
def sign_in_form(
    request: Request,
    _: Annotated[None, Depends(SIGN_IN)],
    next: str | None = None,
) -> Response:
    """The sign-in page. A client's access link carries the key in the fragment
    (``#key=pc_…``), never in the query: the page's own script puts it in the form, and the
    client still presses Sign in (a link preview signs in nobody). A ``key`` in the query is
    ignored, so an address with a key in it is never a working link (docs/web.md)."""
    if caller_of(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303, headers=SECURITY_HEADERS)
    return _sign_in_page(request, next_page=safe_next(next))


@router.post("/sign-in", name="web_sign_in_submit")
async def sign_in(request: Request, _: Annotated[None, Depends(SIGN_IN)]) -> Response:
    ctx = context(request)
    entry = access_entry(request)
    entry.action = "web:sign-in"
    form = await form_of(request)
    next_page = safe_next(form.get("next"))
    if not same_token(form.get("guard"), request.cookies.get(SIGN_IN_COOKIE, "")):
        entry.outcome = "rejected"
        return _sign_in_page(
            request,
            error="The sign-in form had expired. Paste your token again.",
            status=400,
            next_page=next_page,
        )
    caller, failure, status = await checked_credential(request, form)
    if caller is None:
        return _sign_in_page(request, error=failure, status=status, next_page=next_page)
    entry.user_id, entry.role = caller.user_id, caller.role
    if caller.role == "client":
        next_page = CLIENT_HOME  # a client's pages are their own plan's
    sessions = _sessions(ctx)
    session = await anyio.to_thread.run_sync(sessions.start, caller.user_id, limiter=ctx.limiter)
    response = RedirectResponse(next_page, status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(
        SESSION_COOKIE,
        session.session_id,
        path="/web",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/web/sign-in")
    return response


async def checked_credential(
    request: Request, form: dict[str, str], *, expected: str | None = None
) -> tuple[Principal | None, str, int]:
    """The user a sign-in form's credential names (an API token or client key, or a user id
    with its password), counted by the sign-in limiter: ``(caller, "", 200)``, or ``(None,
    why, status)`` with the access-log entry's outcome set. ``expected``: the only user whose
    credential counts (the clinician taking back a handed-over device); anyone else's is a
    failure like a wrong one."""
    ctx = context(request)
    entry = access_entry(request)
    address = request.client.host if request.client else "unknown"
    user_id = form.get("user_id", "").strip()
    account = account_key(user_id, form.get("token", "").strip())
    if _limiter(request).blocked("address:" + address, account):
        entry.outcome = "denied"
        return (
            None,
            "Too many failed sign-ins from this address or for this account. Wait ten "
            "minutes and try again.",
            429,
        )
    if user_id:
        password = form.get("password", "")
        caller = await anyio.to_thread.run_sync(
            ctx.accounts.check_password, user_id, password, limiter=ctx.limiter
        )
        failure = "That user id and password do not match an active user."
    else:
        token = form.get("token", "").strip()
        caller = await anyio.to_thread.run_sync(
            ctx.accounts.authenticate, token, limiter=ctx.limiter
        )
        failure = "That token is unknown, revoked, or its user is disabled."
    if caller is not None and expected is not None and caller.user_id != expected:
        caller, failure = None, "That is not the credential of the user who handed over."
    if caller is None:
        _limiter(request).failed("address:" + address, account)
        entry.outcome = "unauthenticated"
        return None, failure, 401
    _limiter(request).succeeded(account)
    return caller, "", 200


@router.post("/sign-out", name="web_sign_out")
async def sign_out(request: Request, _: Annotated[Principal, Depends(ANY_USER)]) -> Response:
    ctx = context(request)
    entry = access_entry(request)
    entry.action = "web:sign-out"
    form = await form_of(request)
    session = session_of(request)
    if session is not None and same_token(form.get("csrf_token"), session.csrf_token):
        await anyio.to_thread.run_sync(_sessions(ctx).end, session.session_id, limiter=ctx.limiter)
    elif session is not None:
        entry.outcome = "rejected"
        return page(request, "error.html", status=403, title="Not signed out",
                    message="The sign-out form was not from this session.")  # fmt: skip
    response = RedirectResponse("/web/sign-in", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/web")
    return response


def _sessions(ctx: AppContext) -> WebSessions:
    assert ctx.sessions is not None  # the pages are only mounted with sessions
    return ctx.sessions
