"""The two writes the pages allow: a supervisor's co-signature of the plan, and a note on a
past entry (the clinician's rationale, or a supervisor's request for one). Both go through the
API's command path (``PlanGateway.execute``: role rule, reach, engine rules), with the version
the page showed as If-Match, so nobody signs or explains a plan that changed under their eyes,
and with the form's one-time id as the idempotency key, so a double submit records once."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plantrail.api.rendering.templating import SECURITY_HEADERS, page
from plantrail.api.routing.access import SIGN_OR_NOTE, WRITE_PLAN
from plantrail.api.routing.common import PlanId, context
from plantrail.api.routing.context import access_entry
from plantrail.api.web.forms import form_of, require_session_token
from plantrail.domain import commands as cmd
from plantrail.domain.errors import InvalidInput, NotFound
from plantrail.domain.parsing import parse_command
from plantrail.domain.plan import PlanState
from plantrail.projections.access.policy import Principal

router = APIRouter(include_in_schema=False)

Signer = Annotated[Principal, Depends(SIGN_OR_NOTE)]
Writer = Annotated[Principal, Depends(WRITE_PLAN)]


def new_form_id() -> str:
    """A fresh id for one rendered form: its submission's idempotency key."""
    return secrets.token_urlsafe(16)


async def checked_form(request: Request) -> dict[str, str]:
    form = await form_of(request)
    require_session_token(request, form.get("csrf_token"))
    return form


def page_version(form: dict[str, str], name: str = "version") -> int:
    value = form.get(name, "")
    if not value.isdigit() or not 1 <= int(value) <= 2**31 - 1:
        raise InvalidInput.on(name, "the page's plan version is missing; reload the page")
    return int(value)


async def _run(
    request: Request,
    caller: Principal,
    plan_id: UUID,
    command: cmd.PlanCommand,
    form: dict[str, str],
    *,
    envelope: dict[str, object] | None = None,
) -> None:
    ctx = context(request)
    await anyio.to_thread.run_sync(
        lambda: ctx.gateway.execute(
            caller,
            plan_id,
            command,
            envelope or {},
            if_match=page_version(form),
            idempotency_key=form.get("form_id") or None,
            entry=access_entry(request),
        ),
        limiter=ctx.limiter,
    )


@router.post("/plans/{plan_id}/co-signature", name="web_cosign")
async def cosign(request: Request, plan_id: PlanId, caller: Signer) -> Response:
    form = await checked_form(request)
    command = parse_command(
        cmd.CaptureSignature,
        {
            "role": "supervisor",
            "meaning": "approved",
            "signer_name": caller.name,
            "signer_credentials": caller.credentials,
            "signer_id": caller.user_id,
        },
    )
    await _run(request, caller, plan_id, command, form)
    return RedirectResponse(
        f"/web/plans/{plan_id}?signed=1#h-sig", status_code=303, headers=SECURITY_HEADERS
    )


@router.post("/plans/{plan_id}/notes", name="web_note")
async def note(request: Request, plan_id: PlanId, caller: Signer) -> Response:
    form = await checked_form(request)
    kind = "rationale_request" if caller.role == "supervisor" else "rationale"
    explains = page_version(form, "explains_version")
    command = parse_command(
        cmd.RecordRationale,
        {"text": form.get("text", ""), "explains_version": explains, "kind": kind},
    )
    await _run(request, caller, plan_id, command, form)
    return RedirectResponse(
        f"/web/plans/{plan_id}/history#v{explains}", status_code=303, headers=SECURITY_HEADERS
    )


# ---------------------------------------------------- amendment requests (45 CFR 164.526)
@router.post("/plans/{plan_id}/amendments", name="web_amendment_request")
async def request_amendment(request: Request, plan_id: PlanId, caller: Writer) -> Response:
    """The clinician records a client's request as received (ADR 0012)."""
    form = await checked_form(request)
    fields = ("concerns", "requested_change", "reason", "received_on", "requested_by")
    command = parse_command(cmd.RequestAmendment, {f: form.get(f, "") for f in fields})
    await _run(request, caller, plan_id, command, form)
    return RedirectResponse(
        f"/web/plans/{plan_id}#h-amend", status_code=303, headers=SECURITY_HEADERS
    )


_STEPS: dict[str, tuple[type[cmd.Command], dict[str, str]]] = {
    "extend": (cmd.ExtendAmendmentDeadline, {"new_due_date": "new_due_date", "reason": "text"}),
    "deny": (cmd.DenyAmendment, {"denial_basis": "denial_basis", "denial_text": "text"}),
    "disagreement": (cmd.FileDisagreementStatement, {"statement": "text"}),
    "rebuttal": (cmd.FileRebuttal, {"rebuttal": "text"}),
}


@router.post("/plans/{plan_id}/amendments/{amendment_id}/{step}", name="web_amendment_step")
async def amendment_step(
    request: Request, plan_id: PlanId, amendment_id: str, step: str, caller: Writer
) -> Response:
    """An extension, a denial, the client's statement of disagreement or the rebuttal, by the
    clinician. Accepting is ``carry-out``: the pages never ask for a version number (the API's
    ``POST /plans/{id}/amendments/{aid}/accept`` still names one)."""
    form = await checked_form(request)
    if step not in _STEPS:
        raise InvalidInput.on("step", f"{step!r} is not a step of an amendment request")
    model, names = _STEPS[step]
    data: dict[str, object] = {field: form.get(name, "") for field, name in names.items()}
    command = parse_command(model, {"amendment_id": amendment_id, **data})
    await _run(request, caller, plan_id, command, form)  # type: ignore[arg-type]
    return RedirectResponse(
        f"/web/plans/{plan_id}#amendment-{amendment_id}", status_code=303, headers=SECURITY_HEADERS
    )


REVISION_FORMS = {
    "problems": "revise-problem",
    "goals": "revise-goal",
    "objectives": "revise-objective",
    "interventions": "revise-intervention",
}
"""The authoring form that revises an item, by the kind of item."""
PLAN_FORMS = (
    ("safety-plan", "the safety plan"),
    ("timeline", "the timeline"),
    ("discharge-criteria", "the discharge criteria"),
)
"""The plan-wide parts a request may concern, each with its form."""


@router.get("/plans/{plan_id}/amendments/{amendment_id}/carry-out", name="web_amendment_carry")
def carry_out_page(
    request: Request, plan_id: PlanId, amendment_id: str, caller: Writer
) -> HTMLResponse:
    """Accepting a request is carrying it out now: the items it concerns, each linked to its
    revision form with ``&amendment=``; that form labels the entry an amendment and, once the
    revision is stored, accepts the request naming the revision's own version."""
    ctx = context(request)

    def read(state: PlanState) -> dict[str, Any]:
        found = state.amendments.get(amendment_id)
        if found is None:
            raise NotFound(f"no amendment request {amendment_id} in this plan")
        items = []
        for item_id in found.item_ids:
            kind = next((k for k in REVISION_FORMS if item_id in getattr(state, k)), None)
            label = getattr(state, kind)[item_id].label if kind else _other_label(state, item_id)
            items.append({"id": item_id, "label": label,
                          "form": REVISION_FORMS[kind] if kind else None})  # fmt: skip
        return {
            "plan": {"plan_id": str(state.plan_id), "client": {"name": state.client.name,
                     "id": state.client.id}, "version": state.version, "status": state.status},
            "amendment": found,
            "items": items,
        }  # fmt: skip

    found = ctx.gateway.current(caller, plan_id, access_entry(request), read, view="author")
    return page(
        request,
        "amendment_carry_out.html",
        title=f"Carry out {found['amendment'].label}",
        plan_forms=PLAN_FORMS,
        **found,
    )


def _other_label(state: PlanState, item_id: str) -> str:
    for items in (state.measurements, state.reviews, state.signatures):
        if item_id in items:
            return str(getattr(items[item_id], "label", item_id))
    if item_id in state.diagnoses:
        return f"diagnosis {item_id}"
    return item_id
