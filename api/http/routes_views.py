"""Read-only views of one plan: event history, revision log, diff, review history, findings and
integrity check. Each goes through the gateway with the caller, so each is reach-checked and
logged under its own view name."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from plantrail.api.http.findings_query import AsOf, EffectiveOn, From, To
from plantrail.api.routing import metrics
from plantrail.api.routing.access import READ_PLANS
from plantrail.api.routing.common import ETAG_HEADER, PlanId, context, etag
from plantrail.api.routing.context import access_entry
from plantrail.api.routing.problems import problem_responses
from plantrail.api.routing.reads import (
    POINT_PATTERN,
    Detector,
    late_days,
    point,
    rule_profile_with,
)
from plantrail.api.routing.schemas import (
    DiffView,
    EventsView,
    FindingsView,
    ReviewsView,
    RevisionsView,
    VerifyView,
)
from plantrail.domain.errors import StorageError
from plantrail.projections.access.policy import Principal
from plantrail.projections.assembly import recorder_of
from plantrail.projections.history import event_history
from plantrail.projections.integrity.verify import verify

router = APIRouter(prefix="/plans/{plan_id}", tags=["plan views"])

Reader = Annotated[Principal, Depends(READ_PLANS)]


RESPONSES = {
    200: {"description": "The view", "headers": ETAG_HEADER},
    **problem_responses(401, 403, 404, 422, 503),
}


@router.get("/events", summary="The full event history", responses=RESPONSES)
def plan_events(
    request: Request, response: Response, plan_id: PlanId, caller: Reader
) -> EventsView:
    ctx = context(request)
    events = ctx.gateway.events(caller, plan_id, access_entry(request), view="events")
    version = events[-1].originator_version
    etag(response, version)
    return EventsView.model_validate(
        {
            "plan_id": str(plan_id),
            "version": version,
            "events": event_history(events, late_days(ctx)),
        }
    )


@router.get(
    "/revisions",
    summary="The revision log: who changed what, when (both times) and why",
    responses=RESPONSES,
)
def plan_revisions(
    request: Request, response: Response, plan_id: PlanId, caller: Reader
) -> RevisionsView:
    from plantrail.projections.revisions import revision_log

    ctx = context(request)
    events = ctx.gateway.events(caller, plan_id, access_entry(request), view="revisions")
    version = events[-1].originator_version
    etag(response, version)
    return RevisionsView.model_validate(
        {
            "plan_id": str(plan_id),
            "version": version,
            "revisions": revision_log(events, late_entry_days=late_days(ctx)),
        }
    )


@router.get(
    "/diff",
    summary="Item-by-item changes between two versions or instants",
    responses=RESPONSES,
)
def plan_diff_view(
    request: Request,
    response: Response,
    plan_id: PlanId,
    caller: Reader,
    from_: Annotated[
        str,
        Query(
            alias="from",
            pattern=POINT_PATTERN,
            description="A version number or an RFC 3339 instant (recorded axis)",
        ),
    ],
    to: Annotated[
        str | None,
        Query(pattern=POINT_PATTERN, description="Same; default the current version"),
    ] = None,
) -> DiffView:
    from plantrail.projections.diff import plan_diff

    ctx = context(request)
    entry = access_entry(request)
    start_version, start_at = point("from", from_)
    end_version, end_at = point("to", to) if to is not None else (None, None)
    before = ctx.gateway.state(
        caller, plan_id, entry, view="diff", version=start_version, as_of=start_at
    )
    after = ctx.gateway.state(
        caller, plan_id, entry, view="diff", version=end_version, as_of=end_at
    )
    etag(response, after.version)
    return DiffView.model_validate(
        {
            **plan_diff(before, after),
            "plan_id": str(plan_id),
            "version": after.version,
            "from_version": before.version,
            "to_version": after.version,
        }
    )


@router.get(
    "/reviews",
    summary="Review history with copy-forward verdicts",
    responses=RESPONSES,
    response_model_exclude_unset=True,  # detector 1's verdicts keep their five fields
)
def plan_reviews(
    request: Request,
    response: Response,
    plan_id: PlanId,
    caller: Reader,
    copy_forward_detector: Detector = None,
) -> ReviewsView:
    from plantrail.projections.reviews import review_history

    ctx = context(request)
    events = ctx.gateway.events(caller, plan_id, access_entry(request), view="reviews")
    version = events[-1].originator_version
    etag(response, version)
    return ReviewsView.model_validate(
        {
            "plan_id": str(plan_id),
            "version": version,
            "reviews": review_history(
                events,
                late_entry_days=late_days(ctx),
                profile=rule_profile_with(ctx, copy_forward_detector),
            ),
        }
    )


@router.get(
    "/findings",
    summary="Audit findings: now, as of an instant, on a clinical date, or over a period",
    responses=RESPONSES,
    response_model_exclude_unset=True,
)
def plan_findings_view(
    request: Request,
    response: Response,
    plan_id: PlanId,
    caller: Reader,
    as_of: AsOf = None,
    effective_on: EffectiveOn = None,
    from_: From = None,
    to: To = None,
    copy_forward_detector: Detector = None,
) -> FindingsView:
    from plantrail.api.http.findings_query import findings_query, queried_findings

    ctx = context(request)
    query = findings_query(as_of, effective_on, from_, to)
    events = ctx.gateway.events(caller, plan_id, access_entry(request), view="findings")
    version, findings = queried_findings(
        plan_id,
        events,
        rule_profile_with(ctx, copy_forward_detector),
        query,
        ctx.service.clock().date(),
    )
    if query.plain:
        # Not a fact of the plan's history but of who read it: the record as it stands now.
        findings = findings + ctx.break_glass.findings(str(plan_id))
    etag(response, version)
    detector = (
        {
            "copy_forward_detector": rule_profile_with(
                ctx, copy_forward_detector
            ).copy_forward_detector
        }
        if query.period
        else {}
    )
    return FindingsView.model_validate(
        {
            "plan_id": str(plan_id),
            "version": version,
            "findings": findings,
            **query.echo(),
            **detector,
        }
    )


@router.get("/verify", summary="Integrity check of this plan's event chain", responses=RESPONSES)
def plan_verify(
    request: Request, response: Response, plan_id: PlanId, caller: Reader
) -> VerifyView:
    ctx = context(request)
    events = ctx.gateway.events(caller, plan_id, access_entry(request), view="verify")
    recorder = recorder_of(ctx.service)
    if recorder.chain_key is None:
        raise StorageError("no chain key is loaded: the chain cannot be checked")
    report = verify(recorder, recorder.chain_key, plan_id=plan_id)
    metrics.verified(report.ok)
    version = events[-1].originator_version
    etag(response, version)
    return VerifyView.model_validate(
        {
            "plan_id": str(plan_id),
            "version": version,
            "ok": report.ok,
            "events_checked": report.events_checked,
            "problems": [
                {"version": p.version, "kind": p.kind, "message": p.message}
                for p in report.problems
            ],
        }
    )
