"""JSON bodies read as the contract names them (docs/api.md, Errors).

FastAPI reads any ``application/*+json`` body as JSON, Python's JSON reader skips a UTF-8 byte
order mark and keeps the last of two equal keys. A body that two readers can read differently
(a proxy or a log the first key, plantrail the last) is refused instead: a body is
``application/json`` (415 otherwise), holds no byte order mark and no key twice in one object
(422, field ``body``). The pages post forms (``api/web/forms.py`` checks theirs) and FHIR
takes no bodies, so only the JSON routes' bodies are read here; the body, at most the body
limit, is read once and handed on unchanged. One JSON route takes another body: an audit
request is the auditor's CSV file (``text/csv``), which its route reads itself
(``api/http/routes_audit_requests.py``).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope

from plantrail.api.routing.problems import problem
from plantrail.api.routing.requests import WEB
from plantrail.domain.errors import FieldProblem

FHIR = "/fhir"

JSON_TYPE = "application/json"
CSV_BODIES = {"/audit-requests": "text/csv"}
"""The routes whose body is not JSON, and its media type."""
BOM = b"\xef\xbb\xbf"


def _content_type(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return str(value.decode("latin-1").split(";", 1)[0].strip().lower())
    return None


def _refuse_twice(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


class _DuplicateKey(ValueError):
    pass


def _invalid(message: str) -> ASGIApp:
    return problem(422, f"body: {message}", errors=(FieldProblem("body", message),))


async def checked_body(scope: Scope, receive: Receive) -> tuple[ASGIApp | None, Receive]:
    """A refusal for the request's body, or None and a ``receive`` that replays it."""
    path = scope["path"]
    if scope["method"] in ("GET", "HEAD", "OPTIONS") or path.startswith((WEB, FHIR)):
        return None, receive
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None, receive  # the client went away: the app sees it as before
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    if not body:
        return None, replay
    content_type = _content_type(scope)
    if content_type is not None and content_type == CSV_BODIES.get(path):
        return None, replay
    if content_type is not None and content_type != JSON_TYPE:
        return problem(415, f"the body must be {JSON_TYPE}, not {content_type[:100]}"), replay
    if body.startswith(BOM):
        return _invalid("must not start with a byte order mark"), replay
    try:
        json.loads(body, object_pairs_hook=_refuse_twice)
    except _DuplicateKey as twice:
        return _invalid(f"gives the key {str(twice)[:100]!r} twice in one object"), replay
    except (ValueError, RecursionError):
        pass  # not JSON at all: FastAPI's own 422 says so, as before
    return None, replay
