"""The outermost ASGI layer: every request's id, its metrics and its one request-log line.

``ObservedRequests`` wraps the whole application, outside Starlette's error middleware, so it
sees every answer: the API's, the pages', FHIR's, a 404 for an unknown address, the 500 of a
defect. For each request it

- takes the request id from ``X-Request-ID`` when that is a safe short token (``REQUEST_ID``:
  1–64 letters, digits, ``.``, ``_``, ``-``), else makes one (32 hex digits); puts it where the
  access log's entry picks it up (``REQUEST_ID_KEY``), and echoes it on the answer;
- counts the answer in ``plantrail_http_requests_total`` and times it in
  ``plantrail_http_request_duration_seconds`` under the route **template**;
- logs one record on the ``plantrail.http.requests`` logger whose ``request`` attribute holds
  the route template, method, status, duration in ms, user id and request id (``plantrail
  serve`` writes it as one JSON line: ``api/cli/request_log.py``).

Neither the metrics nor the log line ever hold the path as sent, the query string, a token or
key, a client address or any header but the request id: a path names a plan, a query can name
a client (``?client=MRN-…``, ``subject=Patient/MRN-…``), and who read what is the access log's
record, not the server's output.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from uuid import uuid4

from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plantrail.api.routing import metrics
from plantrail.api.routing.context import PRINCIPAL_KEY, REQUEST_ID_KEY
from plantrail.projections.access.policy import Principal

log = logging.getLogger("plantrail.http.requests")

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
"""A request id the server honours as sent; anything else is replaced by a fresh one."""
REQUEST_ID_HEADER = b"x-request-id"
UNMATCHED = "(unmatched)"
"""The route label of a request that matched no route (its path is never a label)."""


def request_id_of(scope: Scope) -> str:
    """The caller's ``X-Request-ID`` when it is a safe short token, else a new id."""
    for name, value in scope.get("headers", ()):
        if name.lower() == REQUEST_ID_HEADER:
            try:
                sent = value.decode("ascii")
            except UnicodeDecodeError:
                break
            if REQUEST_ID.fullmatch(sent):
                return str(sent)
            break
    return uuid4().hex


def _template(routes: Any, scope: Scope, prefix: str = "") -> str | None:
    """The template of the route ``scope`` would match, found in ``routes`` (for a request
    answered before routing, e.g. a 401 from the access layer)."""
    path = scope["path"][len(prefix) :] if prefix else scope["path"]
    for route in routes or ():
        if isinstance(route, Mount):
            if path == route.path or path.startswith(route.path + "/"):
                inner = _template(route.routes, scope, prefix + route.path)
                return inner if inner is not None else prefix + route.path
            continue
        try:
            match, _ = route.matches({**scope, "path": path, "root_path": ""})
        except Exception:
            continue
        if match is not Match.NONE:
            return prefix + str(getattr(route, "path", ""))
    return None


def route_template(scope: Scope, routes: Any) -> str:
    """The route template a request was answered under, never its path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        # A mounted app's routes (the pages, FHIR) are under its root path; the app's own root
        # path (a proxy prefix) is left out, so the label is the same behind any proxy.
        root = str(scope.get("root_path", ""))
        outer = str(scope.get("app_root_path", ""))
        return root[len(outer) :] + path if root.startswith(outer) else path
    found = _template(routes, scope)
    return found if found is not None else UNMATCHED


class ObservedRequests:
    def __init__(self, app: ASGIApp, routes: Any) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        scope.setdefault("state", {})[REQUEST_ID_KEY] = request_id
        scope["app_root_path"] = scope.get("root_path", "")
        status = 500
        header = (b"x-request-id", request_id.encode("ascii"))

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() != REQUEST_ID_HEADER
                ]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self._observed(scope, status, time.perf_counter() - started, request_id)

    def _observed(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        try:
            route = route_template(scope, self.routes)
            method = str(scope["method"])
            metrics.HTTP_REQUESTS.labels(route=route, method=method, status=str(status)).inc()
            metrics.HTTP_DURATION.labels(route=route, method=method).observe(seconds)
            caller = scope.get("state", {}).get(PRINCIPAL_KEY)
            user = caller.user_id if isinstance(caller, Principal) else None
            fields = {
                "route": route,
                "method": method,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "user_id": user,
                "request_id": request_id,
            }
            log.info(
                "%s %s %s %.1f ms user=%s request_id=%s",
                method, route, status, seconds * 1000, user or "-", request_id,
                extra={"request": fields},
            )  # fmt: skip
        except Exception:  # watching never breaks an answer
            logging.getLogger("plantrail.http").exception("could not observe a request")
