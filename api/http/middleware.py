"""The access-log, authentication and body-size middleware (pure ASGI, around the app).

``AccessLogMiddleware`` gives every request an ``AccessEntry`` that the route policy and the data
path fill in (who, which plan, which view or command, the outcome), and appends it to the access
log *before* the response starts, and waits until the row is committed: if the log cannot be
written the caller gets ``503`` instead of the data (no unaudited reads). It authenticates the
bearer token before anything else is looked at, so a request without a valid token gets ``401``
however malformed its body or unknown its address (only ``/health`` and the schema are public).
Requests with a body over the limit are refused with ``413``, whether they announce their length
or stream it.

The web pages (``/web``) authenticate the same way, from a server-side session instead of a
bearer token: the session cookie is resolved here to the same ``Principal``, so pages and API
share one access policy, one data path and one access log. A page request without a live
session is sent to the sign-in page (and logged as unauthenticated); the sign-in page itself is
the one web route open without a session.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode
from uuid import UUID

import anyio
import anyio.to_thread
from starlette.requests import cookie_parser
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plantrail.api.fhir.responses import outcome as fhir_outcome
from plantrail.api.http.context import ENTRY_KEY, PRINCIPAL_KEY, SESSION_KEY
from plantrail.api.http.errors import HTTPProblem, domain_problem, problem
from plantrail.domain.errors import InvalidInput, PlantrailError
from plantrail.domain.validation import check_text
from plantrail.projections.access_log import (
    BREAK_GLASS_REASON_MAX,
    AccessEntry,
    AccessLog,
    outcome_for,
)
from plantrail.projections.accounts import Accounts, Principal
from plantrail.projections.web_sessions import WebSessions

if TYPE_CHECKING:
    from plantrail.api.http.routes_plans import FastPlanRead

log = logging.getLogger("plantrail.http")

UNLOGGED = frozenset({"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
"""Requests that touch no record: public, and not logged."""

UNAUTHENTICATED = {"WWW-Authenticate": 'Bearer realm="plantrail"'}

WEB = "/web"
FHIR = "/fhir"
FHIR_METADATA = "/fhir/metadata"
WEB_STATIC = "/web/static/"
"""Style sheets of the pages: public, and not logged (they hold no record)."""
WEB_SIGN_IN = "/web/sign-in"
SESSION_COOKIE = "plantrail_session"


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
        self.sessions = sessions
        self.fast_read = fast_read
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in UNLOGGED
            or scope["path"].startswith(WEB_STATIC)
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        entry = AccessEntry(
            method=scope["method"],
            route=scope["path"],
            client_address=client[0] if client else None,
        )
        scope.setdefault("state", {})[ENTRY_KEY] = entry
        started = False
        replaced = False

        async def record(status: int) -> bool:
            route = scope.get("route")
            path = getattr(route, "path", None)
            if path is not None:  # a mounted app's routes (the pages) are under its root path
                entry.route = scope.get("root_path", "") + path
            name = getattr(route, "name", None)
            if entry.action == "request" and name:
                entry.action = f"route:{name}"  # refused before the data path named it
            if entry.plan_id is None:
                entry.plan_id = _plan_in(scope)
            entry.status = status
            if entry.outcome is None or (status >= 400 and entry.outcome == "ok"):
                entry.outcome = outcome_for(status)
            try:
                # Group commit (``AccessLog.submit``): waits, without holding a thread, until
                # the row is durable together with those of concurrent requests.
                await asyncio.wrap_future(self.access_log().submit(entry))
            except Exception:
                log.exception("could not write the access log")
                return False
            return True

        async def send_logged(message: Message) -> None:
            nonlocal started, replaced
            if message["type"] == "http.response.start" and not started:
                started = True
                if not await record(int(message["status"])):
                    replaced = True
                    failed = problem(
                        503, "the access log could not be written, so nothing is shown; try again"
                    )
                    await failed(scope, receive, send)
                    return
                await send(message)
            elif not replaced:
                await send(message)

        token = _bearer(scope)
        caller: Principal | None = None
        answer: Response | None = None
        web = token is None and (scope["path"] == WEB or scope["path"].startswith(WEB + "/"))
        fast = self.fast_read() if token is not None and _plain(scope) else None
        hot = fast.match(scope) if fast is not None else None
        try:
            if token is not None and fast is not None and hot is not None:
                # The hot read: authentication and the read in one hop to a worker thread.
                caller, answer = await anyio.to_thread.run_sync(
                    fast.with_token,
                    self.accounts().authenticate,
                    token,
                    hot,
                    entry,
                    limiter=self.limiter(),
                )
            elif token is not None:
                caller = await self._authenticate(token)
            elif web:
                caller = await self._resume(scope)
        except PlantrailError as error:
            await domain_problem(error)(scope, receive, send_logged)
            return
        except Exception:
            # A 500 (the app's error handler words it) is logged like any other answer.
            entry.outcome = "error"
            await record(500)
            raise
        if caller is None and web:
            if scope["path"] != WEB_SIGN_IN:
                entry.action, entry.outcome = "web:sign-in-required", "unauthenticated"
                await _to_sign_in(scope)(scope, receive, send_logged)
                return
            entry.action = "web:sign-in"  # the one page open without a session
        elif caller is None and scope["path"] == FHIR_METADATA:
            entry.action = "fhir:metadata"  # FHIR clients read it before they authenticate
        elif caller is None:
            detail = (
                "send Authorization: Bearer <token>"
                if token is None
                else "the token is unknown, revoked or its user is disabled"
            )
            refusal = (
                fhir_outcome(401, detail, headers=UNAUTHENTICATED)
                if scope["path"].startswith(FHIR + "/")
                else problem(401, detail, headers=UNAUTHENTICATED)
            )
            await refusal(scope, receive, send_logged)
            return
        if caller is not None:
            entry.user_id, entry.role = caller.user_id, caller.role
            scope["state"][PRINCIPAL_KEY] = caller
        try:
            entry.break_glass_requested = break_glass_reason(scope)
        except PlantrailError as error:
            await domain_problem(error)(scope, receive, send_logged)
            return

        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            too_large = problem(413, f"the body is over the limit of {self.max_body_bytes} bytes")
            await too_large(scope, receive, send_logged)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPProblem(
                        413, f"the body is over the limit of {self.max_body_bytes} bytes"
                    )
            return message

        try:
            if answer is not None:  # the hot read, without FastAPI (routes_plans.FastPlanRead)
                await answer(scope, limited_receive, send_logged)
                return
            await self.app(scope, limited_receive, send_logged)
        except Exception:
            if not started:
                entry.outcome = "error"
                await record(500)
            raise

    async def _resume(self, scope: Scope) -> Principal | None:
        """The caller of a live web session (its cookie), or None."""
        sessions = self.sessions()
        session_id = _cookie(scope, SESSION_COOKIE)
        if sessions is None or session_id is None:
            return None

        def resume() -> Principal | None:
            found = sessions.resume(session_id)
            if found is None:
                return None
            caller = self.accounts().principal(found.user_id)
            if caller is not None:
                scope["state"][SESSION_KEY] = found
            return caller

        return await anyio.to_thread.run_sync(resume, limiter=self.limiter())

    async def _authenticate(self, token: str) -> Principal | None:
        # In a worker thread (the first use of a token costs an Argon2 verification, ~0.15 s of
        # CPU, and on PostgreSQL each look-up is a round trip the event loop should not wait
        # for), on the app's few blocking threads (``AppContext.limiter``).
        return await anyio.to_thread.run_sync(
            self.accounts().authenticate, token, limiter=self.limiter()
        )


BREAK_GLASS_HEADER = b"x-break-glass-reason"


def checked_break_glass_reason(raw: str) -> str:
    """An emergency read's reason, checked: the header's and the pages' form's alike."""
    try:
        reason = check_text(raw)
    except ValueError as error:
        raise InvalidInput.on("X-Break-Glass-Reason", str(error)) from None
    if len(reason) < 10:
        raise InvalidInput.on(
            "X-Break-Glass-Reason",
            "must say why this emergency read is needed (at least 10 characters)",
        )
    if len(reason) > BREAK_GLASS_REASON_MAX:
        raise InvalidInput.on(
            "X-Break-Glass-Reason", f"must be at most {BREAK_GLASS_REASON_MAX} characters"
        )
    return reason


def break_glass_reason(scope: Scope) -> str | None:
    """The request's ``X-Break-Glass-Reason`` (UTF-8), checked; None without one. Only a read
    of a plan outside the caller's reach uses it (``PlanGateway.reach``)."""
    for name, value in scope.get("headers", ()):
        if name == BREAK_GLASS_HEADER:
            try:
                raw = value.decode("utf-8")
            except UnicodeDecodeError:
                raw = value.decode("latin-1")
            return checked_break_glass_reason(raw)
    return None


_NOT_PLAIN = {BREAK_GLASS_HEADER, b"content-length", b"transfer-encoding"}


def _plain(scope: Scope) -> bool:
    """No break-glass reason and no body: a request the hot read may answer in one hop (the
    others go the whole way, with its checks in their order)."""
    return not any(name in _NOT_PLAIN for name, _ in scope.get("headers", ()))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    for header, value in scope.get("headers", ()):
        if header == b"cookie":
            found: str | None = cookie_parser(value.decode("latin-1")).get(name)
            return found or None
    return None


def _to_sign_in(scope: Scope) -> RedirectResponse:
    """303 to the sign-in page, which brings the user back to the page they asked for."""
    wanted = scope["path"]
    if scope.get("query_string"):
        wanted += "?" + scope["query_string"].decode("latin-1")
    if scope["method"] != "GET":
        wanted = WEB + "/"
    return RedirectResponse(
        f"{WEB_SIGN_IN}?{urlencode({'next': wanted})}",
        status_code=303,
        headers={"Cache-Control": "no-store"},
    )


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


_PLAN_PATH = re.compile(r"^/plans/([0-9A-Fa-f-]{32,36})(?:/|$)")


def _plan_in(scope: Scope) -> str | None:
    """The plan a request addressed (from the matched route, else from its path), if any."""
    found = scope.get("path_params", {}).get("plan_id")
    if found is None and (match := _PLAN_PATH.match(scope.get("path", ""))):
        found = match.group(1)
    try:
        return str(UUID(str(found))) if found is not None else None
    except ValueError:
        return None
