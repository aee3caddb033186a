"""The one ASGI layer around the app: every request's access-log entry, its caller, and the
limits checked before any route runs.

``AccessLogMiddleware`` gives every request an ``AccessEntry`` that the route policy and the data
path fill in (who, which plan, which view or command, the outcome), and appends it to the access
log *before* the response starts, waiting until the row is committed: if the log cannot be
written the caller gets ``503`` instead of the data (no unaudited reads; ``LoggedResponse``).
It authenticates the caller before anything else is looked at (``authentication``), so a
request without valid credentials gets ``401`` however malformed its body or unknown its address
(only ``/health`` and the schema are public). Bodies over the limit get ``413`` (``body_limit``).

The web pages (``/web``) sign in with a server-side session instead of a bearer token; a page
request without a live session is sent to the sign-in page (and logged as unauthenticated); the
sign-in page itself is the one web route open without a session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import uuid4

import anyio
import anyio.to_thread
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plantrail.api.routing.context import ENTRY_KEY, PRINCIPAL_KEY, REQUEST_ID_KEY
from plantrail.api.routing.problems import (
    RETRY_AFTER_SECONDS,
    HTTPProblem,
    domain_problem,
    problem,
    unavailable_detail,
)
from plantrail.api.routing.requests import (
    WEB_SIGN_IN,
    bearer,
    break_glass_reason,
    plain,
    plan_in,
    to_sign_in,
)
from plantrail.api.server.authentication import (
    FHIR_PUBLIC,
    Authentication,
    is_page,
    unauthenticated,
)
from plantrail.api.server.body_limit import declared_too_large, limited
from plantrail.api.server.json_body import checked_body
from plantrail.domain.errors import PlantrailError
from plantrail.projections.access.access_log import AccessEntry, AccessLog, outcome_for
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.access.policy import Principal
from plantrail.projections.access.web_sessions import WebSessions

if TYPE_CHECKING:
    from plantrail.api.http.routes_plans import FastPlanRead

log = logging.getLogger("plantrail.http")

UNLOGGED = frozenset(
    {
        "/",
        "/favicon.ico",
        "/health",
        "/ready",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
    }
)
"""Requests that touch no record: public, and not logged (``/`` leads to the pages; ``/ready``
writes only its own probe row)."""
DOCS_ASSETS = "/docs/assets/"
"""The scripts and style sheet of ``/docs`` and ``/redoc``: public, and not logged."""
DEFAULT_HEADERS = ((b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"))
"""Set on every answer that does not set its own: an answer holds health data (a proxy or the
browser must not keep it) and is never to be read as another type than it says."""


def with_default_headers(send: Send) -> Send:
    """``send`` adding ``DEFAULT_HEADERS`` an answer lacks (a style sheet keeps its caching)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            present = {name.lower() for name, _ in headers}
            headers += [(name, value) for name, value in DEFAULT_HEADERS if name not in present]
            message = {**message, "headers": headers}
        await send(message)

    return sending


WEB_STATIC = "/web/static/"
"""Style sheets of the pages: public, and not logged (they hold no record)."""


def with_retry_after(message: Message) -> Message:
    """The response start, with ``Retry-After`` on a 503 that lacks one: every 503 is transient,
    whichever surface (JSON, pages, FHIR) worded it (docs/api.md, "Errors")."""
    if message["status"] != 503:
        return message
    headers = list(message.get("headers", []))
    if not any(name.lower() == b"retry-after" for name, _ in headers):
        headers.append((b"retry-after", RETRY_AFTER_SECONDS.encode()))
    return {**message, "headers": headers}


class LoggedResponse:
    """One request's access-log entry and the ``send`` that appends it, durably, before the
    response starts (and answers 503 instead when it cannot be written)."""

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, access_log: Callable[[], AccessLog]
    ) -> None:
        client = scope.get("client")
        state = scope.setdefault("state", {})
        request_id = state.get(REQUEST_ID_KEY)
        self.entry = AccessEntry(
            method=scope["method"],
            route=scope["path"],
            client_address=client[0] if client else None,
            request_id=request_id if isinstance(request_id, str) else None,
        )
        if scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            # A write stores this entry's row with its events (``access_log.pending_write``).
            self.entry.pending_id = uuid4().hex
        scope.setdefault("state", {})[ENTRY_KEY] = self.entry
        self.scope, self.receive, self._send = scope, receive, send
        self.access_log = access_log
        self.started = False
        self.replaced = False

    async def record(self, status: int) -> Exception | None:
        """Append the entry with ``status``; the failure when the log could not be written."""
        entry, scope = self.entry, self.scope
        route = scope.get("route")
        path = getattr(route, "path", None)
        if path is not None:  # a mounted app's routes (the pages) are under its root path
            entry.route = scope.get("root_path", "") + path
        name = getattr(route, "name", None)
        if entry.action == "request" and name:
            entry.action = f"route:{name}"  # refused before the data path named it
        if entry.plan_id is None:
            entry.plan_id = plan_in(scope)
        entry.status = status
        if entry.outcome is None or (status >= 400 and entry.outcome == "ok"):
            entry.outcome = outcome_for(status)
        try:
            # Group commit (``AccessLog.submit``): waits, without holding a thread, until the
            # row is durable together with those of concurrent requests.
            await asyncio.wrap_future(self.access_log().submit(entry))
        except Exception as error:
            log.exception("could not write the access log")
            return error
        return None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and not self.started:
            self.started = True
            if (error := await self.record(int(message["status"]))) is not None:
                self.replaced = True
                failed = problem(
                    503,
                    unavailable_detail(
                        error, "this request could not be logged and its answer is withheld"
                    ),
                )
                await failed(self.scope, self.receive, self._send)
                return
            await self._send(with_retry_after(message))
        elif not self.replaced:
            await self._send(message)

    async def answer(self, app: ASGIApp, receive: Receive | None = None) -> None:
        """Run ``app`` with this logged ``send``; an error before the response started is a
        500 in the log like any other answer."""
        try:
            await app(self.scope, receive or self.receive, self.send)
        except Exception:
            if not self.started:
                self.entry.outcome = "error"
                await self.record(500)
            raise


class AccessLogMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        access_log: Callable[[], AccessLog],
        accounts: Callable[[], Accounts],
        limiter: Callable[[], anyio.CapacityLimiter],
        max_body_bytes: int,
        sessions: Callable[[], WebSessions | None] = lambda: None,
        fast_read: Callable[[], FastPlanRead | None] = lambda: None,
    ) -> None:
        self.app = app
        self.access_log = access_log
        self.accounts = accounts
        self.authentication = Authentication(accounts, sessions, limiter)
        self.fast_read = fast_read
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            send = with_default_headers(send)
        if (
            scope["type"] != "http"
            or scope["path"] in UNLOGGED
            or scope["path"].startswith((WEB_STATIC, DOCS_ASSETS))
        ):
            await self.app(scope, receive, send)
            return
        logged = LoggedResponse(scope, receive, send, self.access_log)
        token = bearer(scope)
        try:
            caller, answer = await self._caller(scope, token, logged.entry)
        except PlantrailError as error:
            await logged.answer(domain_problem(error))
            return
        except Exception:
            logged.entry.outcome = "error"  # a 500 (the app's handler words it) is logged too
            await logged.record(500)
            raise
        refusal = self._refusal(scope, token, caller, logged.entry)
        if refusal is not None:
            await logged.answer(refusal)
            return
        if caller is not None:
            logged.entry.user_id, logged.entry.role = caller.user_id, caller.role
            scope["state"][PRINCIPAL_KEY] = caller
        try:
            logged.entry.break_glass_requested = break_glass_reason(scope)
        except PlantrailError as error:
            await logged.answer(domain_problem(error))
            return
        too_large = declared_too_large(scope, self.max_body_bytes)
        if too_large is not None:
            await logged.answer(too_large)
            return
        body_receive = limited(receive, self.max_body_bytes)
        if answer is None:
            try:
                refused, body_receive = await checked_body(scope, body_receive)
            except HTTPProblem as error:  # a streamed body over the limit
                refused = problem(error.status_code, str(error.detail))
            if refused is not None:
                await logged.answer(refused)
                return
        # The hot read answers without FastAPI (``routes_plans.FastPlanRead``).
        await logged.answer(answer or self.app, body_receive)

    async def _caller(
        self, scope: Scope, token: str | None, entry: AccessEntry
    ) -> tuple[Principal | None, Response | None]:
        """The caller, and the hot read's answer when this request is one (a plain ``GET`` of
        a plan with a token: authentication and the read in one hop to a worker thread)."""
        if token is not None:
            fast = self.fast_read() if plain(scope) else None
            hot = fast.match(scope) if fast is not None else None
            if fast is not None and hot is not None:
                return await anyio.to_thread.run_sync(
                    fast.with_token,
                    self.accounts().authenticate,
                    token,
                    hot,
                    entry,
                    limiter=self.limiter(),
                )
            return await self.authentication.of_token(token), None
        if is_page(scope):
            return await self.authentication.of_session(scope), None
        return None, None

    @staticmethod
    def _refusal(
        scope: Scope, token: str | None, caller: Principal | None, entry: AccessEntry
    ) -> ASGIApp | None:
        """What a request without a caller gets, or None when it may go on: the sign-in page
        for the pages, the metadata for FHIR clients, else 401."""
        if caller is not None:
            return None
        if token is None and is_page(scope):
            if scope["path"] != WEB_SIGN_IN:
                entry.action, entry.outcome = "web:sign-in-required", "unauthenticated"
                return to_sign_in(scope)
            entry.action = "web:sign-in"  # the one page open without a session
            return None
        if scope["path"] in FHIR_PUBLIC:
            entry.action = FHIR_PUBLIC[scope["path"]]  # read before a FHIR client authenticates
            return None
        return unauthenticated(scope, token)
