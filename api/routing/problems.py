"""Every error the HTTP API answers, as ``application/problem+json`` (RFC 9457), from one place.

``PlantrailError`` (the domain's error root) maps to a status by its class (``STATUS``);
FastAPI's request validation, malformed JSON, unknown routes and methods, a missing token and a
too-large body are rendered the same way. The body always has ``type``, ``title``, ``status``,
``detail`` and ``errors`` ([{field, message}], empty unless the input was at fault); a stale
``If-Match`` adds ``current_version``. A caller's input is never echoed back.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from plantrail.domain.errors import (
    AccessDenied,
    CommandReused,
    ConcurrentWrite,
    FieldProblem,
    IntegrityFailure,
    InvalidInput,
    ItemNotFound,
    NotFound,
    PlanDischargedError,
    PlanNotFound,
    PlantrailError,
    RuleViolation,
    StaleVersion,
    StorageError,
)
from plantrail.domain.parsing import problems_from_errors

log = logging.getLogger("plantrail.http")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:plantrail:problem:"

PLAN_NOT_FOUND_DETAIL = "no plan with this id is in your reach"
"""The one detail of every unknown *or unreachable* plan: the two must be indistinguishable."""

STATUS: dict[type[PlantrailError], tuple[int, str]] = {
    RuleViolation: (422, "rule-violation"),
    InvalidInput: (422, "invalid-input"),
    PlanDischargedError: (422, "plan-discharged"),
    CommandReused: (422, "idempotency-key-reused"),
    PlanNotFound: (404, "not-found"),
    ItemNotFound: (404, "not-found"),
    NotFound: (404, "not-found"),
    StaleVersion: (412, "stale-version"),
    ConcurrentWrite: (409, "concurrent-write"),
    AccessDenied: (403, "forbidden"),
    StorageError: (503, "storage-unavailable"),
    IntegrityFailure: (503, "integrity-failure"),
}
"""Status and problem type of each domain error class (the nearest class in the MRO wins)."""

RETRY_AFTER_SECONDS = "1"
"""The ``Retry-After`` of every 503: the failures behind one are transient."""

HTTP_TITLES: dict[int, tuple[str, str]] = {
    400: ("invalid-input", "Invalid input"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("body-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-input", "Invalid input"),
    500: ("internal-error", "Internal error"),
    503: ("storage-unavailable", "Storage unavailable"),
}

_HEADER_NAMES = {"if-match": "If-Match", "idempotency-key": "Idempotency-Key"}


class FieldError(BaseModel):
    """One field at fault."""

    model_config = ConfigDict(extra="forbid")

    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="forbid")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = []
    current_version: int | None = None
    checks: dict[str, Any] | None = None
    """``GET /ready``'s 503: each check with ``ok``, ``seconds`` and ``detail``."""


class ProblemResponse(JSONResponse):
    """``application/problem+json``; text that cannot be encoded is replaced, never a 500."""

    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8", "replace")


class HTTPProblem(StarletteHTTPException):
    """A problem raised by the HTTP layer itself (no token, a body over the limit)."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[FieldProblem] = (),
    ) -> None:
        super().__init__(status_code, detail, dict(headers) if headers else None)
        self.errors = tuple(errors)


def problem_body(
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: Sequence[FieldProblem] = (),
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "errors": [{"field": e.field, "message": e.message} for e in errors],
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: Sequence[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    default_slug, default_title = HTTP_TITLES.get(status, ("error", "Error"))
    body = problem_body(
        status, slug or default_slug, title or default_title, detail, errors, **extra
    )
    answer_headers = dict(headers or {})
    if status == 503:
        # Every 503 is transient (the store is busy, full or unreachable): say when to retry,
        # whichever path produced it (docs/api.md, "Errors").
        answer_headers.setdefault("Retry-After", RETRY_AFTER_SECONDS)
    return ProblemResponse(body, status_code=status, headers=answer_headers)


def unavailable_detail(error: BaseException, withheld: str) -> str:
    """The detail of a 503 whose cause is ``error``: what failed, named for the caller. A full
    disk or a busy database is the store's failure, wherever it showed (the access log is often
    just the first write to meet it); ``withheld`` says what the caller does not get."""
    message = error.message if isinstance(error, PlantrailError) else ""
    lowered = message.lower()
    if "disk is full" in lowered:
        cause = "the store's disk is full"
    elif "busy" in lowered:
        cause = "the store stayed busy past its timeout"
    elif "timed out" in lowered or "did not answer" in lowered:
        cause = "the store did not answer in time"
    else:
        cause = "the store could not be reached"
    return f"{cause}, so {withheld}; try again"


def status_of(error: PlantrailError) -> tuple[int, str]:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500, "internal-error"


def domain_problem(error: PlantrailError) -> ProblemResponse:
    """THE mapping from the domain's error root to an HTTP answer."""
    status, slug = status_of(error)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    detail = error.message
    errors: Sequence[FieldProblem] = error.errors
    if isinstance(error, PlanNotFound):
        detail = PLAN_NOT_FOUND_DETAIL
    elif isinstance(error, StaleVersion):
        headers["ETag"] = f'"{error.current}"'
        extra["current_version"] = error.current
    elif isinstance(error, CommandReused):
        errors = (FieldProblem("Idempotency-Key", "was already used for a different request"),)
    if status == 500:
        log.error("unmapped plantrail error %s: %s", type(error).__name__, error.message)
        detail = "an unexpected error occurred; nothing was changed"
    return problem(
        status, detail, slug=slug, title=error.title, errors=errors, headers=headers, **extra
    )


def _field(loc: Sequence[Any]) -> tuple[Any, ...]:
    parts = tuple(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where, rest = parts[0], parts[1:]
        if where == "header" and rest:
            rest = (_HEADER_NAMES.get(str(rest[0]).lower(), str(rest[0])), *rest[1:])
        if rest and not (where == "body" and isinstance(rest[0], int) and len(rest) == 1):
            return rest
        return ("body",) if where == "body" else (where,)
    return parts


def validation_problem(error: RequestValidationError) -> ProblemResponse:
    raw = [dict(e, loc=_field(e.get("loc", ()))) for e in error.errors()]
    problems = problems_from_errors(raw)
    shown = "; ".join(f"{p.field}: {p.message}" for p in problems[:2])
    more = len(problems) - 2
    detail = shown + (f" (and {more} more)" if more > 0 else "")
    return problem(422, detail or "the request is not valid", errors=problems)


def http_problem(error: StarletteHTTPException) -> ProblemResponse:
    status = error.status_code
    headers = dict(error.headers or {})
    errors: Sequence[FieldProblem] = getattr(error, "errors", ())
    if status == 400:
        # FastAPI answers 400 when a body cannot even be decoded (bad UTF-8): invalid input.
        return problem(
            422, "body: is not valid JSON", errors=(FieldProblem("body", "is not valid JSON"),)
        )
    if isinstance(error, HTTPProblem):
        detail = str(error.detail)
    elif status == 404:
        detail = "there is nothing at this address"
    elif status == 405:
        detail = "this address does not accept that method"
    else:
        detail = (
            str(error.detail)
            if isinstance(error.detail, str)
            else HTTP_TITLES.get(status, ("", "Error"))[1]
        )
    return problem(status, detail, errors=errors, headers=headers)


def out_of_range() -> InvalidInput:
    """What a date or time at the edge of the calendar is: a date one day past 9999-12-31, or
    an instant at ``+14:00`` on 0001-01-01 in UTC, cannot be computed. Such input is the
    caller's, so it is a 422 (FHIR: 400; the command line: one line, exit 2) and never a 500
    that drops the connection (docs/api.md, Errors)."""
    return InvalidInput(
        "a date or time in the request is too close to the ends of the calendar "
        "(years 1 to 9999) to be worked with"
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers: domain errors, validation, HTTP errors and the last resort."""

    def on_domain(_: Request, error: Exception) -> Response:
        assert isinstance(error, PlantrailError)
        return domain_problem(error)

    def on_validation(_: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        return validation_problem(error)

    def on_http(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 405:
            # Starlette names only the first matching route's methods; name every route's.
            allowed = allowed_methods(request.app, request.url.path)
            if allowed:
                error.headers = {**(error.headers or {}), "Allow": ", ".join(allowed)}
        return http_problem(error)

    def on_unexpected(_: Request, error: Exception) -> Response:
        log.exception("unexpected error", exc_info=error)
        return problem(500, "an unexpected error occurred; nothing was changed")

    def on_overflow(_: Request, error: Exception) -> Response:
        return domain_problem(out_of_range())

    app.add_exception_handler(PlantrailError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(OverflowError, on_overflow)
    app.add_exception_handler(Exception, on_unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` declaration of problem statuses for an operation's OpenAPI entry."""
    described = {
        401: "No token, or an unknown, revoked or disabled one",
        403: "The caller's role may not do this",
        404: "No such plan or item, or the plan is outside the caller's reach",
        409: "Another write took this version first; reload and retry",
        412: "If-Match names a version that is no longer current",
        413: "The request body is larger than the server accepts",
        422: "Invalid input, or a treatment-plan rule refused it",
        503: "The store is unavailable or stayed busy; nothing was changed",
    }
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {
            "description": described.get(status, HTTP_TITLES.get(status, ("", "Error"))[1]),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        if status == 412:
            entry["headers"] = {
                "ETag": {"description": "The current version", "schema": {"type": "string"}}
            }
        out[status] = entry
    return out


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route of ``app`` answers at ``path``."""
    found: set[str] = set()
    for regex, methods in getattr(app.state, "route_table", ()):
        if regex.match(path):
            found |= methods
    return sorted(found)


def route_table(app: FastAPI) -> list[tuple[re.Pattern[str], set[str]]]:
    """(path regex, methods) of every API route, for ``Allow`` headers."""
    table = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.path and route.methods:
            regex, _, _ = compile_path(route.path)
            table.append((regex, set(route.methods)))
    return table
