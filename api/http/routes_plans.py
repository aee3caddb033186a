"""The plans collection: open a plan, list the caseload, read one plan (now or in the past)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime
from starlette.types import Scope

from plantrail.api.routing.access import OPEN_PLAN, READ_CURRENT_PLAN, READ_PLANS
from plantrail.api.routing.common import (
    ETAG_HEADER,
    WRITE_RESPONSES,
    IdempotencyKey,
    PlanId,
    context,
    etag,
)
from plantrail.api.routing.context import AppContext, access_entry
from plantrail.api.routing.documents import render_document
from plantrail.api.routing.problems import (
    HTTPProblem,
    domain_problem,
    http_problem,
    problem_responses,
)
from plantrail.api.routing.schemas import (
    WRITE_FIELDS,
    CaseloadView,
    FilterText,
    OpenPlanBody,
    PlanDocument,
    Version,
    WriteResult,
)
from plantrail.domain.errors import AccessDenied, PlantrailError
from plantrail.projections.access.access_log import AccessEntry
from plantrail.projections.access.caseload_views import CaseloadFilters
from plantrail.projections.access.policy import Principal

router = APIRouter(prefix="/plans", tags=["plans"])

Reader = Annotated[Principal, Depends(READ_PLANS)]
CurrentReader = Annotated[Principal, Depends(READ_CURRENT_PLAN)]
Opener = Annotated[Principal, Depends(OPEN_PLAN)]

READ_RESPONSES = problem_responses(401, 403, 404, 422, 503)


@router.post(
    "",
    status_code=201,
    summary="Open a plan in the caller's caseload",
    responses={
        201: {"description": "Opened", "headers": ETAG_HEADER},
        **{k: v for k, v in WRITE_RESPONSES.items() if k not in (404, 409, 412)},
    },
)
def open_plan(
    request: Request,
    response: Response,
    body: OpenPlanBody,
    caller: Opener,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    dumped = body.model_dump(exclude_unset=True)
    envelope = {k: v for k, v in dumped.items() if k in WRITE_FIELDS}
    fields = {k: v for k, v in dumped.items() if k not in WRITE_FIELDS}
    result = context(request).gateway.open_plan(
        caller, fields, envelope, idempotency_key=idempotency_key, entry=access_entry(request)
    )
    etag(response, result.version)
    return WriteResult(plan_id=result.plan_id, version=result.version, id=result.plan_id)


@router.get("", summary="The caseload the caller may see", responses=READ_RESPONSES)
def list_plans(
    request: Request,
    caller: Reader,
    clinician_id: Annotated[FilterText | None, Query(description="Only this clinician's")] = None,
    status: Annotated[
        str | None, Query(pattern="^(draft|active|discharged)$", description="Plan status")
    ] = None,
    flag: Annotated[
        str | None,
        Query(
            pattern="^[a-z_]{1,60}$",
            description="Only plans with this flag or finding code, e.g. copied_forward, "
            "review_overdue",
        ),
    ] = None,
) -> CaseloadView:
    ctx = context(request)
    entry = access_entry(request)
    entry.action = "view:caseload"
    rows = ctx.gateway.caseload(
        caller, CaseloadFilters(clinician_id=clinician_id, status=status, flag=flag)
    )
    return CaseloadView.model_validate({"plans": rows})


@router.get(
    "/{plan_id}",
    summary="The plan now, or as it stood (as_of), was in effect (effective_on), or at a version",
    response_model=PlanDocument,
    responses={200: {"description": "The plan document", "headers": ETAG_HEADER}, **READ_RESPONSES},
)
async def get_plan(
    request: Request,
    plan_id: PlanId,
    caller: CurrentReader,
    as_of: Annotated[
        AwareDatetime | None,
        Query(description="Recorded axis: what the record showed at this instant (RFC 3339)"),
    ] = None,
    effective_on: Annotated[
        date | None, Query(description="Clinical axis: the plan in effect on this date")
    ] = None,
    version: Annotated[Version | None, Query(description="The plan at this version")] = None,
) -> Response:
    ctx = context(request)
    entry = access_entry(request)
    today = ctx.service.clock().date()

    def current() -> Response:
        return current_plan_response(ctx, caller, plan_id, entry, today)

    def past() -> Response:
        state = ctx.gateway.state(
            caller, plan_id, entry, as_of=as_of, effective_on=effective_on, version=version
        )
        day = today if as_of is None else min(today, utc_date(as_of))
        day = day if effective_on is None else min(day, effective_on)
        return document_response(render_document(state, day), state.version)

    now = as_of is None and effective_on is None and version is None
    if caller.role == "client" and not now:
        entry.outcome = "denied"
        raise AccessDenied(
            "a client reads their plan as it stands now; ask the practice for its history"
        )
    # async, with the blocking read on the app's few threads rather than FastAPI's pool of 40.
    return await anyio.to_thread.run_sync(current if now else past, limiter=ctx.limiter)


def current_plan_response(
    ctx: AppContext, caller: Principal, plan_id: UUID, entry: AccessEntry, today: date
) -> Response:
    """The plan now (its kept rendering), through the gateway's reach check (blocking)."""
    plan_version, body = ctx.gateway.current(
        caller,
        plan_id,
        entry,
        lambda state: (state.version, ctx.documents.document(plan_id, state, today)),
    )
    return document_response(body, plan_version)


_CURRENT_PLAN_PATH = re.compile(
    r"^/plans/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)


class FastPlanRead:
    """The hot read, ``GET /plans/{id}`` of the plan now, without FastAPI's dependency solving
    (docs/performance.md, figure 6): the access-log middleware hands it the request; it answers
    only a canonical plan id with no query and no body (anything else goes through the FastAPI
    route ``get_plan``, which stays the documented one). The same policy
    (``READ_CURRENT_PLAN.admit``), the same gateway read and the same error mapping as the route,
    so the answer is byte for byte the route's; the middleware still waits for its access-log
    row.
    """

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.route = next(r for r in router.routes if getattr(r, "endpoint", None) is get_plan)

    def match(self, scope: Scope) -> UUID | None:
        """The plan of a hot read (and the route noted for the access log), else None."""
        if scope["method"] != "GET" or scope.get("query_string"):
            return None
        found = _CURRENT_PLAN_PATH.match(scope["path"])
        if found is None:
            return None
        scope["route"] = self.route  # for the access-log entry: route template and name
        scope["path_params"] = {"plan_id": found.group(1)}
        return UUID(found.group(1))

    def answer(self, caller: Principal, plan_id: UUID, entry: AccessEntry) -> Response:
        """The response for an authenticated caller (blocking)."""
        try:
            READ_CURRENT_PLAN.admit(caller, entry)
            today = self.ctx.service.clock().date()
            return current_plan_response(self.ctx, caller, plan_id, entry, today)
        except PlantrailError as error:
            return domain_problem(error)
        except HTTPProblem as error:
            return http_problem(error)

    def with_token(
        self,
        authenticate: Callable[[str], Principal | None],
        token: str,
        plan_id: UUID,
        entry: AccessEntry,
    ) -> tuple[Principal | None, Response | None]:
        """Authenticate and answer in one call, so the request takes one hop to a worker
        thread, not two (blocking). No caller: (None, None), and the middleware refuses."""
        caller = authenticate(token)
        if caller is None:
            return None, None
        entry.user_id, entry.role = caller.user_id, caller.role
        return caller, self.answer(caller, plan_id, entry)


def document_response(body: bytes, version: int) -> Response:
    """The plan document's bytes (already serialised as ``PlanDocument``) with its ETag."""
    return Response(body, media_type="application/json", headers={"ETag": f'"{version}"'})


def utc_date(moment: datetime) -> date:
    """The UTC date of ``moment`` (its own date at the very ends of the calendar)."""
    try:
        return moment.astimezone(UTC).date()
    except OverflowError:
        return moment.date()
