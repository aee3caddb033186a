"""The client's own pages and the emergency (break-glass) read of a plan.

A client signs in with the key of their client access link (``routes_auth``) and sees their
plan as it stands (``/web/client``), signs it (``client``, ``agreed``) through the API's
command path, downloads it as a PDF (the same copy as ``GET /plans/{id}/client-copy``) and
reads who has seen it (the same accounting as ``GET /plans/{id}/disclosures``).

A clinician or supervisor who opens a plan outside their reach gets the plan-not-found page,
which offers the emergency-access form (to everyone of those roles, whether the plan exists or
not, so the form reveals nothing); sending it with a reason reads the plan once through the
gateway with that reason, exactly as ``X-Break-Glass-Reason`` does over the API.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plantrail.api.packet.responses import client_copy_pdf
from plantrail.api.rendering.templating import SECURITY_HEADERS, page
from plantrail.api.routing.access import BREAK_GLASS_READ, CLIENT_PAGES
from plantrail.api.routing.common import PlanId, context
from plantrail.api.routing.context import access_entry
from plantrail.api.routing.requests import checked_break_glass_reason
from plantrail.api.web.routes_pages import plan_page
from plantrail.api.web.routes_writes import checked_form, new_form_id, page_version
from plantrail.domain import commands as cmd
from plantrail.domain.errors import InvalidInput
from plantrail.domain.parsing import parse_command
from plantrail.projections.access.disclosures import disclosures
from plantrail.projections.access.policy import Principal
from plantrail.projections.assembly import recorder_of
from plantrail.projections.document import plan_document

router = APIRouter(include_in_schema=False)

Client = Annotated[Principal, Depends(CLIENT_PAGES)]
Emergency = Annotated[Principal, Depends(BREAK_GLASS_READ)]


def _plan_of(caller: Principal) -> UUID:
    assert caller.plan_id is not None  # a client caller always has their link's plan
    return caller.plan_id


@router.get("/client", name="web_client_plan")
async def client_plan_page(request: Request, caller: Client) -> HTMLResponse:
    ctx = context(request)
    entry = access_entry(request)
    today = ctx.service.clock().date()
    document = await anyio.to_thread.run_sync(
        lambda: ctx.gateway.current(
            caller,
            _plan_of(caller),
            entry,
            lambda state: plan_document(state, today=today),
            view="client-page",
        ),
        limiter=ctx.limiter,
    )
    agreed = [
        s for s in document["signatures"]
        if s["role"] == "client" and s["meaning"] == "agreed" and s["status"] == "current"
    ]  # fmt: skip
    return page(
        request,
        "client_plan.html",
        title="Your treatment plan",
        plan=document,
        agreed=agreed,
        can_sign=not agreed and document["status"] != "discharged",
        form_id=new_form_id(),
        signed=request.query_params.get("signed") == "1",
        asked=request.query_params.get("asked") == "1",
    )


@router.post("/client/sign", name="web_client_sign")
async def client_sign(request: Request, caller: Client) -> Response:
    form = await checked_form(request)
    if form.get("agree") != "yes":
        raise InvalidInput.on("agree", "tick the box to say you agree with the plan")
    command = parse_command(
        cmd.CaptureSignature,
        {"role": "client", "meaning": "agreed", "signer_name": caller.name},
    )
    await _client_write(request, caller, command, form)
    return RedirectResponse("/web/client?signed=1#h-sig", status_code=303, headers=SECURITY_HEADERS)


@router.post("/client/amendments", name="web_client_amendment")
async def client_amendment(request: Request, caller: Client) -> Response:
    """The client asks for a change to their plan (45 CFR 164.526): received today, under their
    name, through the same command path as ``POST /plans/{id}/amendments``."""
    form = await checked_form(request)
    ctx = context(request)
    command = parse_command(
        cmd.RequestAmendment,
        {
            "concerns": form.get("concerns", ""),
            "requested_change": form.get("requested_change", ""),
            "reason": form.get("reason", ""),
            "received_on": ctx.service.clock().date(),
            "requested_by": f"{caller.name} (the client, through their access link)",
        },
    )
    await _client_write(request, caller, command, form)
    return RedirectResponse(
        "/web/client?asked=1#h-amend", status_code=303, headers=SECURITY_HEADERS
    )


@router.post("/client/amendments/{amendment_id}/disagreement", name="web_client_disagreement")
async def client_disagreement(request: Request, amendment_id: str, caller: Client) -> Response:
    """The client's own statement of disagreement with a denial (164.526(d)(1)(iii))."""
    form = await checked_form(request)
    command = parse_command(
        cmd.FileDisagreementStatement,
        {"amendment_id": amendment_id, "statement": form.get("text", "")},
    )
    await _client_write(request, caller, command, form)
    return RedirectResponse(
        f"/web/client#amendment-{amendment_id}", status_code=303, headers=SECURITY_HEADERS
    )


async def _client_write(
    request: Request, caller: Principal, command: cmd.PlanCommand, form: dict[str, str]
) -> None:
    ctx = context(request)
    await anyio.to_thread.run_sync(
        lambda: ctx.gateway.execute(
            caller,
            _plan_of(caller),
            command,
            {},
            if_match=page_version(form),
            idempotency_key=form.get("form_id") or None,
            entry=access_entry(request),
        ),
        limiter=ctx.limiter,
    )


@router.get("/client/copy.pdf", name="web_client_copy")
async def client_copy_page(request: Request, caller: Client) -> Response:
    body, _ = await client_copy_pdf(request, caller, _plan_of(caller), "letter")
    return Response(
        body,
        media_type="application/pdf",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": 'attachment; filename="my-treatment-plan.pdf"',
        },
    )


@router.get("/client/disclosures", name="web_client_disclosures")
def client_disclosures_page(request: Request, caller: Client) -> HTMLResponse:
    ctx = context(request)
    plan_id = _plan_of(caller)
    ctx.gateway.disclosure_reach(caller, plan_id, access_entry(request))
    names = {u.user_id: u.name for u in ctx.accounts.list_users()}
    found = disclosures(recorder_of(ctx.service).engine, str(plan_id), names=names, limit=5000)
    return page(
        request,
        "client_disclosures.html",
        title="Who has seen your plan",
        rows=found["disclosures"],
        more=found["next_after"] is not None,
    )


@router.post("/plans/{plan_id}/break-glass", name="web_break_glass")
async def break_glass_page(request: Request, plan_id: PlanId, caller: Emergency) -> Response:
    form = await checked_form(request)
    entry = access_entry(request)
    entry.break_glass_requested = checked_break_glass_reason(form.get("reason", ""))
    return await plan_page(request, plan_id, caller, emergency=True)
