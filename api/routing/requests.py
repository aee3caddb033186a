"""What a request carries, read straight from its ASGI scope: the bearer token, the session
cookie, the body's declared length, the plan it addresses and an emergency read's reason.
The server's middleware reads these before any route runs; the pages read the same reason from
their emergency form (``checked_break_glass_reason``), so both check it alike."""

from __future__ import annotations

import re
from urllib.parse import urlencode
from uuid import UUID

from starlette.requests import cookie_parser
from starlette.responses import RedirectResponse
from starlette.types import Scope

from plantrail.domain.errors import InvalidInput
from plantrail.domain.validation import check_text
from plantrail.projections.access.access_log import BREAK_GLASS_REASON_MAX

WEB = "/web"
WEB_SIGN_IN = "/web/sign-in"
SESSION_COOKIE = "plantrail_session"

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


def plain(scope: Scope) -> bool:
    """No break-glass reason and no body: a request the hot read may answer in one hop (the
    others go the whole way, with its checks in their order)."""
    return not any(name in _NOT_PLAIN for name, _ in scope.get("headers", ()))


def content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def cookie(scope: Scope, name: str) -> str | None:
    for header, value in scope.get("headers", ()):
        if header == b"cookie":
            found: str | None = cookie_parser(value.decode("latin-1")).get(name)
            return found or None
    return None


def to_sign_in(scope: Scope) -> RedirectResponse:
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


def bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


_PLAN_PATH = re.compile(r"^/plans/([0-9A-Fa-f-]{32,36})(?:/|$)")


def plan_in(scope: Scope) -> str | None:
    """The plan a request addressed (from the matched route, else from its path), if any."""
    found = scope.get("path_params", {}).get("plan_id")
    if found is None and (match := _PLAN_PATH.match(scope.get("path", ""))):
        found = match.group(1)
    try:
        return str(UUID(str(found))) if found is not None else None
    except ValueError:
        return None
