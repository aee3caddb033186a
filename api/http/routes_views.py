"""Read-only views of one plan: event history, revision log, diff, review history, findings and
integrity check. Each goes through the gateway with the caller, so each is reach-checked and
logged under its own view name."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from plantrail.api.http.auth import READ_PLANS
from plantrail.api.http.common import ETAG_HEADER, PlanId, context, etag
from plantrail.api.http.context import AppContext, access_entry
from plantrail.api.http.errors import problem_responses
from plantrail.api.http.findings_query import AsOf, EffectiveOn, From, To
from plantrail.api.http.schemas import (
    DiffView,
    EventsView,
    FindingsView,
    ReviewsView,
    RevisionsView,
    VerifyView,
)
from plantrail.domain.errors import InvalidInput, StorageError
from plantrail.domain.plan import PlanState, fold
from plantrail.projections.accounts import Principal
from plantrail.projections.history import event_history
from plantrail.projections.integrity.verify import verify
from plantrail.projections.store.factory import recorder_of

router = APIRouter(prefix="/plans/{plan_id}", tags=["plan views"])

Reader = Annotated[Principal, Depends(READ_PLANS)]

RESPONSES = {
    200: {"description": "The view", "headers": ETAG_HEADER},
    **problem_responses(401, 403, 404, 422, 503),
}

POINT_PATTERN = (
    r"^([0-9]{1,10}|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2}))$"
)
_INSTANT = TypeAdapter(AwareDatetime)


def _late_days(ctx: AppContext) -> int:
    return ctx.service.late_entry_days


def events_and_state(
    ctx: AppContext, caller: Principal, plan_id: UUID, request: Request, view: str
) -> tuple[list[Any], PlanState]:
    events = ctx.gateway.events(caller, plan_id, access_entry(request), view=view)
    state = fold(events)
    assert state is not None  # the gateway only returns a plan's events when it exists
    return events, state


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
            "events": event_history(events, _late_days(ctx)),
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
            "revisions": revision_log(events, late_entry_days=_late_days(ctx)),
        }
    )


def point(name: str, value: str) -> tuple[int | None, datetime | None]:
    if value.isdigit():
        number = int(value)
        if not 1 <= number <= 2**31 - 1:
            raise InvalidInput.on(name, "must be a version of at least 1")
        return number, None
    try:
        return None, _INSTANT.validate_python(value)
    except ValidationError:
        raise InvalidInput.on(
            name, "must be a version number or an RFC 3339 instant with a time zone"
        ) from None


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
)
def plan_reviews(
    request: Request, response: Response, plan_id: PlanId, caller: Reader
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
            "reviews": review_history(events, late_entry_days=_late_days(ctx)),
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
) -> FindingsView:
    from plantrail.api.http.findings_query import findings_query, queried_findings

    ctx = context(request)
    query = findings_query(as_of, effective_on, from_, to)
    events = ctx.gateway.events(caller, plan_id, access_entry(request), view="findings")
    version, findings = queried_findings(
        plan_id, events, rule_profile(ctx), query, ctx.service.clock().date()
    )
    if query.plain:
        # Not a fact of the plan's history but of who read it: the record as it stands now.
        findings = findings + ctx.break_glass.findings(str(plan_id))
    etag(response, version)
    return FindingsView.model_validate(
        {"plan_id": str(plan_id), "version": version, "findings": findings, **query.echo()}
    )


def rule_profile(ctx: AppContext) -> Any:
    """The practice's rule profile (default thresholds unless the app was given one)."""
    if ctx.settings.profile is None:
        from plantrail.projections.profile import RuleProfile

        ctx.settings.profile = RuleProfile()
    return ctx.settings.profile


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
