"""Bodies over the limit are refused with ``413``, whether they announce their length or
stream it (docs/api.md, "Errors")."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope

from plantrail.api.routing.problems import HTTPProblem, problem
from plantrail.api.routing.requests import content_length


def _too_large(limit: int) -> str:
    return f"the body is over the limit of {limit} bytes"


def declared_too_large(scope: Scope, limit: int) -> ASGIApp | None:
    """The 413 for a request whose Content-Length is over ``limit``, or None."""
    declared = content_length(scope)
    if declared is not None and declared > limit:
        return problem(413, _too_large(limit))
    return None


def limited(receive: Receive, limit: int) -> Receive:
    """``receive`` that refuses a streamed body once it passes ``limit`` bytes."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPProblem(413, _too_large(limit))
        return message

    return limited_receive
