"""Reports across the caller's caseload (each plan within the caller's reach only)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request

from plantrail.api.http.client_schemas import (
    BreakGlassReadOut,
    BreakGlassReport,
    BreakGlassReviewBody,
)
from plantrail.api.http.findings_query import (
    AsOf,
    EffectiveOn,
    From,
    To,
    findings_query,
    queried_findings,
)
from plantrail.api.routing.access import BREAK_GLASS_REPORT, READ_PLANS, REVIEW_BREAK_GLASS
from plantrail.api.routing.common import context
from plantrail.api.routing.context import AppContext, access_entry
from plantrail.api.routing.problems import problem_responses
from plantrail.api.routing.reads import rule_profile
from plantrail.api.routing.schemas import CopyForwardReport, FindingsReport
from plantrail.domain.errors import NotFound
from plantrail.domain.events import PlanOpened
from plantrail.projections.access.policy import Principal


def break_glass_findings(ctx: AppContext, caller: Principal) -> list[dict[str, Any]]:
    """``BREAK_GLASS_UNREVIEWED`` on each plan in the caller's reach (the caseload report's
    rows): an emergency read stays a finding until an admin reviews it."""
    unreviewed = ctx.break_glass.reads(unreviewed_only=True)
    if not unreviewed:
        return []
    visible = {str(p) for p in ctx.gateway.visible_plan_ids(caller)}
    rows = []
    for read in unreviewed:
        if read.plan_id not in visible:
            continue
        header = ctx.gateway.header(UUID(read.plan_id))
        if header is None:
            continue
        rows.append(
            {
                "plan_id": read.plan_id,
                "client_name": header.client_name,
                "clinician_id": header.clinician_id,
                **read.finding(),
            }
        )
    return rows


router = APIRouter(prefix="/reports", tags=["reports"], responses=problem_responses(401, 403, 503))

Reader = Annotated[Principal, Depends(READ_PLANS)]


@router.get(
    "/copy-forward",
    summary="Plans with copied-forward reviews, and objective statements reused across clients",
)
def copy_forward_report(request: Request, caller: Reader) -> CopyForwardReport:
    access_entry(request).action = "report:copy-forward"
    report = context(request).gateway.copy_forward_report(caller)
    return CopyForwardReport.model_validate(report)


@router.get(
    "/findings",
    summary="Audit findings across the caseload: now, as of an instant, on a date, or a period",
    responses=problem_responses(422),
    response_model_exclude_unset=True,
)
def findings_report(
    request: Request,
    caller: Reader,
    as_of: AsOf = None,
    effective_on: EffectiveOn = None,
    from_: From = None,
    to: To = None,
) -> FindingsReport:
    query = findings_query(as_of, effective_on, from_, to)
    entry = access_entry(request)
    ctx = context(request)
    if query.plain:
        entry.action = "report:findings"
        findings = ctx.gateway.caseload_findings(caller) + break_glass_findings(ctx, caller)
        return FindingsReport.model_validate({"findings": findings})
    # A point or a period is not what the read models hold: each plan in reach is read
    # through the gateway (one access-log entry for the request, as for the plain report).
    rows: list[dict[str, Any]] = []
    today = ctx.service.clock().date()
    profile = rule_profile(ctx)
    for plan_id in ctx.gateway.visible_plan_ids(caller):
        events = ctx.gateway.events(caller, plan_id, entry, view="findings")
        opening = events[0]
        assert isinstance(opening, PlanOpened)
        try:
            _, found = queried_findings(plan_id, events, profile, query, today)
        except NotFound:
            continue  # not yet opened, or not yet in effect, at the point asked about
        rows.extend(
            {
                "plan_id": str(plan_id),
                "client_name": opening.client.name,
                "clinician_id": opening.clinician.user_id,
                **finding,
            }
            for finding in found
        )
    entry.plan_id, entry.action = None, "report:findings"
    rows.sort(key=lambda r: (r["client_name"], r["plan_id"]))  # stable: each plan's order kept
    return FindingsReport.model_validate({"findings": rows, **query.echo()})


@router.get(
    "/break-glass",
    summary="Emergency (break-glass) reads of plans outside the reader's reach, with reviews",
    responses=problem_responses(422),
)
def break_glass_report(
    request: Request,
    caller: Annotated[Principal, Depends(BREAK_GLASS_REPORT)],
    unreviewed: Annotated[
        bool, Query(description="Only the reads no admin has reviewed yet")
    ] = False,
) -> BreakGlassReport:
    access_entry(request).action = "report:break-glass"
    reads = context(request).break_glass.reads(unreviewed_only=unreviewed)
    return BreakGlassReport.model_validate({"reads": [r.as_dict() for r in reads]})


@router.post(
    "/break-glass/{seq}/review",
    status_code=201,
    summary="Record an admin's review of one break-glass read (once; ends its finding)",
    responses=problem_responses(404, 413, 422),
)
def review_break_glass(
    request: Request,
    seq: Annotated[int, Path(ge=1, le=2**62, description="The read's access-log number")],
    body: BreakGlassReviewBody,
    caller: Annotated[Principal, Depends(REVIEW_BREAK_GLASS)],
) -> BreakGlassReadOut:
    entry = access_entry(request)
    entry.action = "break-glass:review"
    read = context(request).break_glass.review(seq, caller.user_id, body.note)
    entry.plan_id = read.plan_id
    return BreakGlassReadOut.model_validate(read.as_dict())
