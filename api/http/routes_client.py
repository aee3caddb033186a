"""The client's rights over their plan (45 CFR 164.524 and 164.528): client access links, the
client's PDF copy, and the accounting of who has read the plan.

A plan's clinician issues, lists and revokes the client's access links; the link's key
authenticates the client (``client_access``), whose reach is that one plan as it stands
(``GET /plans/{id}``), its PDF copy, its disclosures and signing it. Everything goes through
the gateway's reach like every other read, and every request is one access-log row.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from plantrail.api.http.client_schemas import (
    ClientAccessBody,
    ClientAccessIssued,
    ClientAccessList,
    ClientGrantOut,
    DisclosuresView,
)
from plantrail.api.packet.responses import client_copy_pdf
from plantrail.api.routing.access import CLIENT_COPY, DISCLOSURES, ISSUE_CLIENT_ACCESS
from plantrail.api.routing.common import PlanId, context
from plantrail.api.routing.context import access_entry
from plantrail.api.routing.problems import problem_responses
from plantrail.projections.access.client_access import sign_in_path
from plantrail.projections.access.disclosures import MAX_LIMIT, disclosures
from plantrail.projections.access.policy import Principal
from plantrail.projections.assembly import recorder_of

router = APIRouter(prefix="/plans/{plan_id}", tags=["client"])

Issuer = Annotated[Principal, Depends(ISSUE_CLIENT_ACCESS)]
CopyReader = Annotated[Principal, Depends(CLIENT_COPY)]
DisclosureReader = Annotated[Principal, Depends(DISCLOSURES)]
GrantId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="The link's grant id")]


@router.post(
    "/client-access",
    status_code=201,
    summary="Issue the client an expiring, revocable access link to their plan",
    responses=problem_responses(401, 403, 404, 413, 422, 503),
)
def issue_client_access(
    request: Request,
    plan_id: PlanId,
    caller: Issuer,
    body: ClientAccessBody | None = None,
) -> ClientAccessIssued:
    ctx = context(request)
    entry = access_entry(request)
    found = ctx.gateway.own_plan(caller, plan_id, entry, "client-access:issue")
    grant, token = ctx.accounts.clients.issue(
        plan_id=plan_id,
        client_id=found.client_id or "",
        client_name=found.client_name or "",
        issued_by=caller.user_id,
        days=(body or ClientAccessBody()).expires_in_days,
    )
    entry.outcome = "ok"
    return ClientAccessIssued(
        **grant.as_dict(ctx.accounts.clients.clock_us()),
        token=token,
        sign_in_path=sign_in_path(token),
    )


@router.get(
    "/client-access",
    summary="The plan's client access links (never their keys)",
    responses=problem_responses(401, 403, 404, 422, 503),
)
def list_client_access(request: Request, plan_id: PlanId, caller: Issuer) -> ClientAccessList:
    ctx = context(request)
    ctx.gateway.own_plan(caller, plan_id, access_entry(request), "client-access:list")
    now = ctx.accounts.clients.clock_us()
    grants = [ClientGrantOut(**g.as_dict(now)) for g in ctx.accounts.clients.grants(plan_id)]
    return ClientAccessList(plan_id=str(plan_id), grants=grants)


@router.post(
    "/client-access/{grant_id}/revoke",
    summary="Revoke a client access link at once",
    responses=problem_responses(401, 403, 404, 413, 422, 503),
)
def revoke_client_access(
    request: Request, plan_id: PlanId, grant_id: GrantId, caller: Issuer
) -> ClientGrantOut:
    ctx = context(request)
    entry = access_entry(request)
    ctx.gateway.own_plan(caller, plan_id, entry, "client-access:revoke")
    grant = ctx.accounts.clients.revoke(plan_id, grant_id, caller.user_id)
    entry.outcome = "ok"
    return ClientGrantOut(**grant.as_dict(ctx.accounts.clients.clock_us()))


@router.get(
    "/client-copy",
    summary="The plan as it stands, as a PDF (the client's copy: plan and signatures)",
    response_class=Response,
    responses={
        200: {"description": "The PDF", "content": {"application/pdf": {}}},
        **problem_responses(401, 403, 404, 422, 503),
    },
)
async def client_copy(
    request: Request,
    plan_id: PlanId,
    caller: CopyReader,
    paper: Annotated[Literal["letter", "a4"], Query()] = "letter",
) -> Response:
    body, version = await client_copy_pdf(request, caller, plan_id, paper)
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="plan-{str(plan_id)[:8]}-v{version}.pdf"',
            "Cache-Control": "no-store",
            "ETag": f'"{version}"',
        },
    )


@router.get(
    "/disclosures",
    summary="Who has read or changed the plan, and when (an accounting of access)",
    responses=problem_responses(401, 403, 404, 422, 503),
)
def plan_disclosures(
    request: Request,
    plan_id: PlanId,
    caller: DisclosureReader,
    after: Annotated[int, Query(ge=0, le=2**62, description="Rows after this one")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows at most")] = 500,
) -> DisclosuresView:
    ctx = context(request)
    ctx.gateway.disclosure_reach(caller, plan_id, access_entry(request))
    names = {u.user_id: u.name for u in ctx.accounts.list_users()}
    found = disclosures(
        recorder_of(ctx.service).engine, str(plan_id), names=names, after=after, limit=limit
    )
    return DisclosuresView.model_validate(found)
