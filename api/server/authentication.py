"""Who is calling: a bearer token, a web session's cookie, or nobody, resolved to the same
``Principal`` before any route runs, so the JSON API, the pages and FHIR share one access
policy, one data path and one access log (docs/api.md, "Users and authentication").

Look-ups run on the app's few blocking threads: the first use of a token costs an Argon2
verification (~0.15 s of CPU), and on PostgreSQL each look-up is a round trip the event loop
should not wait for."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Scope

from plantrail.api.fhir.responses import outcome as fhir_outcome
from plantrail.api.routing.context import SESSION_KEY
from plantrail.api.routing.problems import problem
from plantrail.api.routing.requests import SESSION_COOKIE, WEB, cookie
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.access.policy import Principal
from plantrail.projections.access.web_sessions import WebSessions

UNAUTHENTICATED = {"WWW-Authenticate": 'Bearer realm="plantrail"'}
FHIR = "/fhir"
FHIR_METADATA = "/fhir/metadata"
FHIR_PUBLIC = {
    FHIR_METADATA: "fhir:metadata",
    "/fhir/OperationDefinition/CarePlan-everything": "fhir:operation-definition",
}
"""What a FHIR client reads before it authenticates: the CapabilityStatement and the
definitions it names (docs/fhir.md), with the access-log action of each."""


def is_page(scope: Scope) -> bool:
    """A request for the pages (``/web``), which sign in with a session instead of a token."""
    path: str = scope["path"]
    return path == WEB or path.startswith(WEB + "/")


class Authentication:
    """Resolves a request's credentials to its caller."""

    def __init__(
        self,
        accounts: Callable[[], Accounts],
        sessions: Callable[[], WebSessions | None],
        limiter: Callable[[], anyio.CapacityLimiter],
    ) -> None:
        self.accounts = accounts
        self.sessions = sessions
        self.limiter = limiter

    async def of_token(self, token: str) -> Principal | None:
        """The caller a bearer token names, or None (unknown, revoked, user disabled)."""
        return await anyio.to_thread.run_sync(
            self.accounts().authenticate, token, limiter=self.limiter()
        )

    async def of_session(self, scope: Scope) -> Principal | None:
        """The caller of a live web session (its cookie), or None."""
        sessions = self.sessions()
        session_id = cookie(scope, SESSION_COOKIE)
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


def unauthenticated(scope: Scope, token: str | None) -> ASGIApp:
    """The 401 for a request without a valid token (an OperationOutcome under ``/fhir``)."""
    detail = (
        "send Authorization: Bearer <token>"
        if token is None
        else "the token is unknown, revoked or its user is disabled"
    )
    if scope["path"].startswith(FHIR + "/"):
        return fhir_outcome(401, detail, headers=UNAUTHENTICATED)
    return problem(401, detail, headers=UNAUTHENTICATED)
