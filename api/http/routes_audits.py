"""``POST /audits``: dates of service checked against the plan in effect on each.

An auditor, a supervisor (for the plans they may read) or an admin brings the dates billed for
one plan or one client and gets one line per date (``projections.service_dates``). The lines
are compliance facts (covered, signed, when, how old, review due) with the findings of that
day; an admin, who reads no plan document, gets them too, because checking that billed services
were covered is a compliance task. Every plan is read through the gateway, which logs the
request under ``audit:dates-of-service``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from plantrail.api.http.findings_query import FindingsQuery, recorded_events
from plantrail.api.routing.access import AccessPolicy
from plantrail.api.routing.common import context
from plantrail.api.routing.context import access_entry
from plantrail.api.routing.problems import problem_responses
from plantrail.api.routing.reads import rule_profile
from plantrail.api.routing.schemas import AuditBody, AuditReport
from plantrail.domain.events import PlanEvent
from plantrail.projections.access.policy import Principal
from plantrail.projections.period_findings import recorded_by
from plantrail.projections.service_dates import ServiceDate, service_date_lines

AUDIT = AccessPolicy(
    "audit",
    {"auditor", "supervisor", "admin"},
    "an audit of dates of service is run by an auditor, a supervisor or an admin",
)
ACTION = "audit:dates-of-service"

router = APIRouter(tags=["audits"])

Auditor = Annotated[Principal, Depends(AUDIT)]


@router.post(
    "/audits",
    summary="Check dates of service against the plan in effect on each",
    responses=problem_responses(401, 403, 404, 422, 503),
)
def run_audit(request: Request, body: AuditBody, caller: Auditor) -> AuditReport:
    ctx = context(request)
    entry = access_entry(request)
    entry.action = ACTION
    gateway = ctx.gateway
    if body.plan_id is not None:
        plan_ids = [body.plan_id]
    else:
        assert body.client_id is not None  # AuditBody asks for exactly one
        plan_ids = gateway.audit_plan_ids(caller, body.client_id, entry)
    query = FindingsQuery(as_of=body.as_of)
    plans: list[list[PlanEvent]] = []
    for plan_id in plan_ids:
        events = gateway.audit_events(caller, plan_id, entry, action=ACTION)
        if body.as_of is not None and body.plan_id is None:
            # A client's plan opened after the instant was not in the record then.
            if shown := recorded_by(events, body.as_of):
                plans.append(shown)
            continue
        plans.append(recorded_events(plan_id, events, query))
    # One access-log entry per request: it names the plan when there is one.
    entry.plan_id = str(plan_ids[0]) if len(plan_ids) == 1 else None
    dates = [
        ServiceDate(d) if isinstance(d, date) else ServiceDate(d.date, tuple(d.cpt_codes))
        for d in body.dates_of_service
    ]
    lines = service_date_lines(plans, dates, rule_profile(ctx))
    return AuditReport.model_validate(
        {"lines": lines, "plan_ids": [str(events[0].originator_id) for events in plans]}
    )
