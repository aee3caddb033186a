"""Reading the pages' forms (``application/x-www-form-urlencoded``, the only kind they send)
and checking their CSRF token."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from fastapi import Request

from plantrail.api.rendering.templating import session_of
from plantrail.api.routing.context import access_entry
from plantrail.api.routing.problems import HTTPProblem

MAX_FORM_BYTES = 64 * 1024


async def form_values(request: Request) -> dict[str, list[str]]:
    """The form's fields, every value of each (a list of checkboxes sends several); refuses
    other content types, a body over the limit and text that is not UTF-8."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPProblem(415, "the pages send forms as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPProblem(413, f"the form is over the limit of {MAX_FORM_BYTES} bytes")
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise HTTPProblem(400, "the form is not UTF-8") from None


async def form_of(request: Request) -> dict[str, str]:
    """The form's fields (the first value of each)."""
    return {name: values[0] for name, values in (await form_values(request)).items()}


def require_session_token(request: Request, sent: str | None) -> None:
    """Refuse (403, logged as rejected) a form whose CSRF token is not its session's."""
    session = session_of(request)
    if session is None or not same_token(sent, session.csrf_token):
        access_entry(request).outcome = "rejected"
        raise HTTPProblem(403, "this form was not sent from your session; reload the page")


def same_token(sent: str | None, expected: str) -> bool:
    return bool(sent) and bool(expected) and hmac.compare_digest(str(sent), expected)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a page of this site (never an open redirect)."""
    if target and target.startswith("/web") and not target.startswith("//"):
        return target
    return "/web/"
