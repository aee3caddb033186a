"""The per-route access policy (and the bearer scheme the OpenAPI schema documents).

Every route declares exactly one ``RoutePolicy`` as a dependency (``tests/e2e`` fails on a route
without one). A policy takes the caller the middleware authenticated (or authenticates the bearer
token itself when the app runs without it), records the caller on the request's access-log
entry and refuses, with ``403``, a role that may never use the route (an auditor writing, an
admin reading clinical records); it never looks at a plan. Which plans a caller may
reach is decided per plan, in the data path (``gateway.PlanGateway``).
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from plantrail.api.routing.context import PRINCIPAL_KEY, AppContext, access_entry
from plantrail.api.routing.problems import HTTPProblem
from plantrail.projections.access.access_log import AccessEntry
from plantrail.projections.access.policy import Principal

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    description="A token printed once by `plantrail users add` (Authorization: Bearer pt_…)",
)

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]

UNAUTHENTICATED = {"WWW-Authenticate": 'Bearer realm="plantrail"'}


class RoutePolicy:
    """Base of the access policies a route declares."""

    name: str
    roles: frozenset[str]
    public: bool = False


class PublicAccess(RoutePolicy):
    """No authentication (``GET /health``, ``GET /ready``, the way to the pages)."""

    public = True

    def __init__(self, name: str) -> None:
        self.name = name
        self.roles = frozenset()

    def __call__(self) -> None:
        return None


class AccessPolicy(RoutePolicy):
    """An authenticated route open to ``roles``; anyone else gets 403 with ``refusal``."""

    def __init__(self, name: str, roles: set[str], refusal: str) -> None:
        self.name = name
        self.roles = frozenset(roles)
        self.refusal = refusal

    def __repr__(self) -> str:
        return f"AccessPolicy({self.name!r})"

    async def __call__(self, request: Request, credentials: Credentials) -> Principal:
        # async: the middleware has normally authenticated already, so this is a few attribute
        # look-ups, not worth a hop to the thread pool for every request.
        entry = access_entry(request)
        found = request.scope.get("state", {}).get(PRINCIPAL_KEY)
        caller = found if isinstance(found, Principal) else None
        if caller is None:
            # Normally the middleware authenticated already; this is the path without it.
            context: AppContext = request.app.state.plantrail
            token = credentials.credentials if credentials is not None else None
            if not token or credentials is None or credentials.scheme.lower() != "bearer":
                raise HTTPProblem(
                    401, "send Authorization: Bearer <token>", headers=UNAUTHENTICATED
                )
            caller = await anyio.to_thread.run_sync(context.accounts.authenticate, token)
        if caller is None:
            raise HTTPProblem(
                401,
                "the token is unknown, revoked or its user is disabled",
                headers=UNAUTHENTICATED,
            )
        return self.admit(caller, entry)

    def admit(self, caller: Principal, entry: AccessEntry) -> Principal:
        """``caller`` (authenticated) noted on ``entry``; ``403`` for a role not allowed here.
        Also called directly by the plain hot read (``routes_plans.FastPlanRead``)."""
        entry.user_id, entry.role = caller.user_id, caller.role
        if caller.role not in self.roles:
            entry.outcome = "denied"
            raise HTTPProblem(403, self.refusal)
        return caller


HEALTH = PublicAccess("health")
READY = PublicAccess("ready")
"""``/ready``: a load balancer or orchestrator asks it without a token; it reads no record."""
ENTRANCE = PublicAccess("entrance")
"""``/`` (it leads to the pages) and ``/favicon.ico``: public, they touch no record."""
ANY_USER = AccessPolicy(
    "any-user", {"clinician", "supervisor", "auditor", "admin", "client"}, "not allowed"
)
_NOT_CLINICAL = (
    "an admin manages users and does not read clinical records; a client reads their own plan "
    "as it stands (GET /plans/{id}), its PDF copy and its disclosures"
)
READ_PLANS = AccessPolicy("read-plans", {"clinician", "supervisor", "auditor"}, _NOT_CLINICAL)
READ_CURRENT_PLAN = AccessPolicy(
    "read-current-plan", {"clinician", "supervisor", "auditor", "client"}, _NOT_CLINICAL
)
"""The plan document: also the client's own plan, through their client access link."""
CLIENT_COPY = AccessPolicy(
    "client-copy", {"clinician", "supervisor", "auditor", "client"}, _NOT_CLINICAL
)
DISCLOSURES = AccessPolicy(
    "disclosures",
    {"clinician", "supervisor", "auditor", "admin", "client"},
    "not allowed",
)
"""Who has read a plan: its readers, the admin (the practice's privacy officer answers the
client's request for an accounting) and the client."""
ISSUE_CLIENT_ACCESS = AccessPolicy(
    "client-access",
    {"clinician"},
    "only the plan's clinician issues and revokes the client's access links",
)
BREAK_GLASS_REPORT = AccessPolicy(
    "break-glass-report",
    {"admin", "auditor"},
    "the break-glass report is for admins and auditors",
)
CLIENT_PAGES = AccessPolicy(
    "client-pages",
    {"client"},
    "these pages are a client's own view of their plan; sign in with the client's key",
)
BREAK_GLASS_READ = AccessPolicy(
    "break-glass-read",
    {"clinician", "supervisor"},
    "only a clinician or a supervisor may read a plan outside their reach in an emergency",
)
REVIEW_BREAK_GLASS = AccessPolicy(
    "review-break-glass", {"admin"}, "only an admin reviews break-glass reads"
)
OPEN_PLAN = AccessPolicy(
    "open-plan", {"clinician"}, "only a clinician opens plans (for their own caseload)"
)
WRITE_PLAN = AccessPolicy(
    "write-plan",
    {"clinician"},
    "only the plan's clinician changes it (supervisors sign and comment; auditors and admins "
    "write nothing)",
)
SIGN_OR_NOTE = AccessPolicy(
    "sign-or-note",
    {"clinician", "supervisor"},
    "only the plan's clinician or a supervisor signs, revokes signatures and records notes",
)
REQUEST_AMENDMENT = AccessPolicy(
    "request-amendment",
    {"clinician", "client"},
    "only the plan's clinician records an amendment request or a statement of disagreement, "
    "or the client files their own",
)
"""A client's own request to amend their plan, and their statement of disagreement with a
denial (45 CFR 164.526(a)(1), (d)(1)(iii)); the clinician records them when they come on paper."""
SIGN = AccessPolicy(
    "sign",
    {"clinician", "supervisor", "client"},
    "only the plan's clinician, a supervisor or the client signs the plan",
)
METRICS = AccessPolicy(
    "metrics",
    {"admin"},
    "the server's metrics are for the practice's admin (a token for the metrics scraper: "
    "docs/operations.md, Monitoring)",
)
"""``/metrics``: counts and timings only, no record; still not public, since request rates
per route and the store's health are the practice's business."""
