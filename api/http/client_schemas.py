"""Bodies and answers of the client's-rights routes: client access links, the accounting of
access (disclosures) and break-glass reads."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from plantrail.api.routing.schemas import Body, Open
from plantrail.projections.access.break_glass import REVIEW_NOTE_MAX
from plantrail.projections.access.client_access import DEFAULT_DAYS, MAX_DAYS


class ClientAccessBody(Body):
    expires_in_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = Field(
        DEFAULT_DAYS, description=f"How long the link works (1–{MAX_DAYS} days)"
    )


class ClientGrantOut(Open):
    grant_id: str
    plan_id: str
    client_id: str
    client_name: str
    issued_by: str
    issued_at: str
    expires_at: str
    revoked_at: str | None = None
    revoked_by: str | None = None
    status: str
    """active | expired | revoked"""


class ClientAccessIssued(ClientGrantOut):
    token: str
    """The client's key (``pc_…``), shown once: send it as ``Authorization: Bearer`` or paste
    it into the client sign-in page."""
    sign_in_path: str
    """The page that opens the plan with the key: ``/web/sign-in#key=<token>`` (in the
    fragment, which browsers never send: no server log holds it)."""


class ClientAccessList(Open):
    plan_id: str
    grants: list[ClientGrantOut]


class Disclosure(Open):
    seq: int
    recorded_at: str
    user_id: str | None = None
    name: str | None = None
    role: str | None = None
    access: str
    """read | write"""
    action: str
    route: str
    break_glass_reason: str | None = None


class DisclosuresView(Open):
    plan_id: str
    disclosures: list[Disclosure]
    next_after: int | None = None
    """Ask again with ``after`` set to this for the next page (None: this is the last)."""


class BreakGlassReviewOut(Open):
    reviewed_by: str
    reviewed_at: str
    note: str


class BreakGlassReadOut(Open):
    seq: int
    recorded_at: str
    user_id: str | None = None
    role: str | None = None
    plan_id: str | None = None
    action: str
    route: str
    status: int
    reason: str
    reviewed: bool
    review: BreakGlassReviewOut | None = None


class BreakGlassReport(Open):
    reads: list[BreakGlassReadOut]


class BreakGlassReviewBody(Body):
    note: Annotated[str, Field(min_length=1, max_length=REVIEW_NOTE_MAX)] = Field(
        description="What the review found (the reason was sound, or what was done about it)"
    )
