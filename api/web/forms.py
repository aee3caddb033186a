"""Reading the pages' forms (``application/x-www-form-urlencoded``, the only kind they send)
and checking their CSRF token."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from fastapi import Request

from plantrail.api.routing.problems import HTTPProblem

MAX_FORM_BYTES = 64 * 1024


async def form_of(request: Request) -> dict[str, str]:
    """The form's fields (the first value of each); refuses other content types."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPProblem(415, "the pages send forms as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPProblem(413, f"the form is over the limit of {MAX_FORM_BYTES} bytes")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise HTTPProblem(400, "the form is not UTF-8") from None
    return {name: values[0] for name, values in fields.items()}


def same_token(sent: str | None, expected: str) -> bool:
    return bool(sent) and bool(expected) and hmac.compare_digest(str(sent), expected)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a page of this site (never an open redirect)."""
    if target and target.startswith("/web") and not target.startswith("//"):
        return target
    return "/web/"
