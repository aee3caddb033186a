"""Handing the clinician's device to the client to sign the plan in session.

``GET /web/plans/{id}/hand-over`` puts the clinician's web session into hand-over mode for that
plan (``WebSessions.hand_over``) and shows the plan in plain words, as the client's own page
does, with a signature form: the client (or, for a minor, the guardian) types their full name
and ticks that they have read the plan and agree to it. While the session is handed over,
every other page of it shows this screen instead (``hand_over_guard``, a dependency of the whole
pages app): someone holding the device cannot reach the caseload or another plan. After the
client signs or declines, the screen asks for the device back; the clinician ends hand-over
mode with their sign-in credential, checked as ``/web/sign-in`` checks it and counted by the
same limiter. Start, decline and end are access-log actions (``web:hand-over-…``).

The signature is the clinician's command on the client's behalf: ``CaptureSignature`` with
role ``client`` (or ``guardian``), meaning ``agreed``, the typed name and no ``signer_id``
(the signer is not a user), sent through ``PlanGateway.execute`` like every write, its
``actor`` the clinician who handed the device over. The role rule already lets the plan's
clinician capture it (``policy.command_denial``: a clinician may record any signature but a
supervisor's), so no rule changes for it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plantrail.api.rendering.templating import SECURITY_HEADERS, page, session_of
from plantrail.api.routing.access import WRITE_PLAN
from plantrail.api.routing.common import PlanId, context
from plantrail.api.routing.context import SESSION_KEY, access_entry
from plantrail.api.web.routes_auth import checked_credential
from plantrail.api.web.routes_writes import checked_form, new_form_id, page_version
from plantrail.domain import commands as cmd
from plantrail.domain.errors import (
    AccessDenied,
    InvalidInput,
    PlanDischargedError,
    StaleVersion,
)
from plantrail.domain.parsing import parse_command
from plantrail.domain.plan import PlanState
from plantrail.projections.access.policy import Principal, can_write_plan
from plantrail.projections.access.web_sessions import ActiveSession, HandOver, WebSessions
from plantrail.projections.document import plan_document

router = APIRouter(include_in_schema=False)

Writer = Annotated[Principal, Depends(WRITE_PLAN)]

STATIC = "/web/static/"


class HandedOver(Exception):
    """A page of a handed-over session other than its hand-over screen was asked for."""

    def __init__(self, plan_id: str) -> None:
        super().__init__(plan_id)
        self.plan_id = plan_id


def screen(plan_id: str) -> str:
    return f"/web/plans/{plan_id}/hand-over"


def hand_over_guard(request: Request) -> None:
    """A dependency of every page: while the session is handed over, anything but its hand-over
    screen (and the style sheet) answers with that screen instead (``HandedOver``)."""
    session = session_of(request)
    if session is None or session.hand_over is None:
        return
    allowed = screen(session.hand_over.plan_id)
    path = request.url.path
    if path == allowed or path.startswith((allowed + "/", STATIC)):
        return
    entry = access_entry(request)
    entry.action, entry.outcome = "web:hand-over-only", "denied"
    raise HandedOver(session.hand_over.plan_id)


def to_screen(request: Request, error: Exception) -> Response:
    """The answer to ``HandedOver``: the hand-over screen."""
    assert isinstance(error, HandedOver)
    return RedirectResponse(screen(error.plan_id), status_code=303, headers=SECURITY_HEADERS)


def _sessions(request: Request) -> WebSessions:
    found = context(request).sessions
    assert found is not None  # the pages are only mounted with sessions
    return found


def _session(request: Request) -> ActiveSession:
    found = session_of(request)
    if found is None:  # pragma: no cover - the middleware sends a page without one to sign-in
        raise AccessDenied("hand-over needs a web session")
    return found


def _read(request: Request, caller: Principal, plan_id: PlanId) -> dict[str, Any]:
    ctx = context(request)
    today = ctx.service.clock().date()

    def read(state: PlanState) -> dict[str, Any]:
        if not can_write_plan(caller, state.clinician.user_id):
            raise AccessDenied("only the plan's clinician hands it to the client to sign")
        guardian = state.client.guardian
        return {
            "plan": plan_document(state, today=today),
            "guardian": guardian.model_dump() if guardian is not None else None,
        }

    return ctx.gateway.current(caller, plan_id, access_entry(request), read, view="hand-over")


def _render(
    request: Request,
    found: dict[str, Any],
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    error: str | None = None,
    signed: bool = False,
) -> HTMLResponse:
    session = _session(request)
    plan = found["plan"]
    return page(
        request,
        "hand_over.html",
        status=status,
        title="Your treatment plan",
        plan=plan,
        guardian=found["guardian"],
        finished=session.hand_over is not None and session.hand_over.finished,
        can_sign=plan["status"] != "discharged",
        form_id=new_form_id(),
        errors=errors or {},
        values={"signer_name": "", "role": "client", **(values or {})},
        error=error,
        signed=signed,
    )


def _mark(request: Request, session: ActiveSession, hand_over: HandOver) -> None:
    """This request's session as it now stands (the page rendered next reads it)."""
    request.scope["state"][SESSION_KEY] = replace(session, hand_over=hand_over)


@router.get("/plans/{plan_id}/hand-over", name="web_hand_over")
async def hand_over(request: Request, plan_id: PlanId, caller: Writer) -> Response:
    ctx = context(request)
    session = _session(request)
    found = await anyio.to_thread.run_sync(
        lambda: _read(request, caller, plan_id), limiter=ctx.limiter
    )
    entry = access_entry(request)
    if session.hand_over is None:
        await anyio.to_thread.run_sync(
            _sessions(request).hand_over, session.session_id, str(plan_id), limiter=ctx.limiter
        )
        entry.action = "web:hand-over-start"
        _mark(request, session, HandOver(str(plan_id)))
    else:
        entry.action = "web:hand-over"
    return _render(request, found, signed=request.query_params.get("signed") == "1")


def _handed_over(request: Request, plan_id: PlanId) -> ActiveSession:
    """The session, handed over for this plan (the guard lets no other plan's address here)."""
    session = _session(request)
    if session.hand_over is None or session.hand_over.plan_id != str(plan_id):
        raise InvalidInput.on("plan_id", "this device is not handed over for this plan")
    return session


@router.post("/plans/{plan_id}/hand-over/sign", name="web_hand_over_sign")
async def hand_over_sign(request: Request, plan_id: PlanId, caller: Writer) -> Response:
    """The client's (or guardian's) signature, typed and ticked on the clinician's device."""
    form = await checked_form(request)
    session = _handed_over(request, plan_id)
    ctx = context(request)
    if session.hand_over is not None and session.hand_over.finished:
        return RedirectResponse(screen(str(plan_id)), status_code=303, headers=SECURITY_HEADERS)
    found = await anyio.to_thread.run_sync(
        lambda: _read(request, caller, plan_id), limiter=ctx.limiter
    )
    name = " ".join(form.get("signer_name", "").split())
    role = form.get("role", "client")
    values = {"signer_name": name, "role": role}
    errors: dict[str, str] = {}
    if not name:
        errors["signer_name"] = "type your full name to sign"
    if form.get("agree") != "yes":
        errors["agree"] = "tick the box to say you have read the plan and agree to it"
    if role not in ("client", "guardian") or (role == "guardian" and not found["guardian"]):
        errors["role"] = "say who is signing"
    if errors:
        return _render(request, found, status=422, errors=errors, values=values)
    try:
        command = parse_command(
            cmd.CaptureSignature, {"role": role, "meaning": "agreed", "signer_name": name}
        )
        await anyio.to_thread.run_sync(
            lambda: ctx.gateway.execute(
                caller, plan_id, command, {}, if_match=page_version(form),
                idempotency_key=form.get("form_id") or None, entry=access_entry(request),
            ),
            limiter=ctx.limiter,
        )  # fmt: skip
    except StaleVersion:
        found = await anyio.to_thread.run_sync(
            lambda: _read(request, caller, plan_id), limiter=ctx.limiter
        )
        message = "the plan changed while you read it: please read it again before signing"
        return _render(request, found, status=412, errors={"agree": message}, values=values)
    except (InvalidInput, PlanDischargedError) as error:
        problems = getattr(error, "errors", ()) or ()
        placed = {
            ("signer_name" if p.field == "signer_name" else "agree"): p.message for p in problems
        } or {"agree": str(error)}
        return _render(request, found, status=422, errors=placed, values=values)
    await anyio.to_thread.run_sync(
        _sessions(request).hand_over_finished, session.session_id, limiter=ctx.limiter
    )
    return RedirectResponse(
        screen(str(plan_id)) + "?signed=1", status_code=303, headers=SECURITY_HEADERS
    )


@router.post("/plans/{plan_id}/hand-over/decline", name="web_hand_over_decline")
async def hand_over_decline(request: Request, plan_id: PlanId, caller: Writer) -> Response:
    """ "I do not want to sign now": nothing is recorded on the plan; the device waits for the
    clinician."""
    await checked_form(request)
    session = _handed_over(request, plan_id)
    await anyio.to_thread.run_sync(
        _sessions(request).hand_over_finished, session.session_id,
        limiter=context(request).limiter,
    )  # fmt: skip
    entry = access_entry(request)
    entry.action, entry.plan_id = "web:hand-over-declined", str(plan_id)
    return RedirectResponse(screen(str(plan_id)), status_code=303, headers=SECURITY_HEADERS)


@router.post("/plans/{plan_id}/hand-over/end", name="web_hand_over_end")
async def hand_over_end(request: Request, plan_id: PlanId, caller: Writer) -> Response:
    """The clinician takes the device back with their own sign-in credential (a token, or
    their password), checked and rate-limited exactly as ``/web/sign-in`` does."""
    form = await checked_form(request)
    session = _handed_over(request, plan_id)
    entry = access_entry(request)
    entry.action, entry.plan_id = "web:hand-over-end", str(plan_id)
    back, failure, status = await checked_credential(request, form, expected=session.user_id)
    if back is None:
        ctx = context(request)
        found = await anyio.to_thread.run_sync(
            lambda: _read(request, caller, plan_id), limiter=ctx.limiter
        )
        entry.action = "web:hand-over-end-refused"
        return _render(request, found, status=status, error=failure)
    await anyio.to_thread.run_sync(
        _sessions(request).take_back, session.session_id, limiter=context(request).limiter
    )
    return RedirectResponse(
        f"/web/plans/{plan_id}#h-sig", status_code=303, headers=SECURITY_HEADERS
    )
