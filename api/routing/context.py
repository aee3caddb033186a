"""What the app holds for its lifetime (``AppContext``) and what each request carries (its
access-log entry, created by ``middleware.AccessLogMiddleware``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio
from fastapi import Request

from plantrail.domain.service import PlanService
from plantrail.projections.access.access_log import AccessEntry, AccessLog
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.access.break_glass import BreakGlass
from plantrail.projections.access.web_sessions import WebSessions

if TYPE_CHECKING:
    from plantrail.api.routing.documents import RenderedDocuments
    from plantrail.projections.access.gateway import PlanGateway

BLOCKING_THREADS = 4
"""Worker threads for the blocking work of the hot paths (authentication, plan reads). On one
core more threads only contend: for the plan's lock and the GIL, and for database connections
(the driver keeps a few open and opens a new one, a PostgreSQL backend start, beyond them)."""

ENTRY_KEY = "plantrail_access"
PRACTICE_NAME = "PLANTRAIL_PRACTICE"
"""The environment variable ``plantrail serve --practice`` sets for its workers."""
PRINCIPAL_KEY = "plantrail_principal"
REQUEST_ID_KEY = "plantrail_request_id"
"""The request's id in ``scope["state"]`` (``api/server/observability.py``)."""
SESSION_KEY = "plantrail_web_session"


@dataclass
class Settings:
    late_entry_days: int = 7
    max_body_bytes: int = 1_048_576
    """Largest request body accepted (1 MiB: a whole review with long notes fits many times)."""
    session_idle_seconds: int = 15 * 60
    """A web session ends after this long without a request."""
    session_absolute_seconds: int = 12 * 3600
    """A web session ends this long after sign-in, however active (a working day)."""
    secure_cookies: bool = False
    """Mark the session cookie Secure (set when the server is reached over TLS)."""
    profile: object | None = None
    """The practice's rule profile for findings (``plantrail.projections.profile.RuleProfile``)."""
    practice: str | None = None
    """The practice's name, printed on the cover of every audit packet."""


@dataclass
class AppContext:
    service: PlanService
    accounts: Accounts
    access_log: AccessLog
    gateway: PlanGateway
    documents: RenderedDocuments
    break_glass: BreakGlass
    settings: Settings = field(default_factory=Settings)
    sessions: WebSessions | None = None
    """The web pages' sessions (None for an app built without the pages)."""
    limiter: anyio.CapacityLimiter = field(
        default_factory=lambda: anyio.CapacityLimiter(BLOCKING_THREADS)
    )


def access_entry(request: Request) -> AccessEntry:
    """This request's access-log entry (a detached one when the middleware is not installed)."""
    state = request.scope.setdefault("state", {})
    entry = state.get(ENTRY_KEY)
    if not isinstance(entry, AccessEntry):
        entry = AccessEntry(method=request.method, route=request.url.path)
        state[ENTRY_KEY] = entry
    return entry
