"""Reports across the caller's caseload (each plan within the caller's reach only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from plantrail.api.http.auth import READ_PLANS
from plantrail.api.http.caseload_views import caseload_source
from plantrail.api.http.common import context
from plantrail.api.http.context import access_entry
from plantrail.api.http.errors import problem_responses
from plantrail.api.http.findings_query import (
    AsOf,
    EffectiveOn,
    From,
    To,
    findings_query,
    queried_findings,
)
from plantrail.api.http.routes_views import rule_profile
from plantrail.api.http.schemas import CopyForwardReport, FindingsReport
from plantrail.domain.errors import NotFound
from plantrail.domain.events import PlanOpened
from plantrail.projections.accounts import Principal

router = APIRouter(prefix="/reports", tags=["reports"], responses=problem_responses(401, 403, 503))

Reader = Annotated[Principal, Depends(READ_PLANS)]


@router.get(
    "/copy-forward",
    summary="Plans with copied-forward reviews, and objective statements reused across clients",
)
def copy_forward_report(request: Request, caller: Reader) -> CopyForwardReport:
    access_entry(request).action = "report:copy-forward"
    report = caseload_source(context(request)).copy_forward(caller)
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
        findings = caseload_source(ctx).findings(caller)
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
