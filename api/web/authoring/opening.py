"""Opening a plan in the pages: for a new client or one already in the clinician's caseload,
with the Medicare elements (service type, session length, review interval, plan end). The
plan is opened through ``PlanGateway.open_plan``, the API's path, so an MRN already recorded
with other demographics is refused the same way, naming the field."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plantrail.api.rendering.templating import AUTHORING_HEADERS, page
from plantrail.api.routing.access import WRITE_PLAN
from plantrail.api.routing.common import context
from plantrail.api.routing.context import access_entry
from plantrail.api.web.authoring.fields import Field, Section, Values, first, form_data
from plantrail.api.web.authoring.routes import (
    ENTRY_KINDS,
    envelope_of,
    form_names,
    place_errors,
    read_form,
)
from plantrail.domain.errors import InvalidInput
from plantrail.projections.access.caseload_views import CaseloadFilters
from plantrail.projections.access.policy import Principal

router = APIRouter(include_in_schema=False)

Writer = Annotated[Principal, Depends(WRITE_PLAN)]

PARTICIPANT_ROWS = 4
DEFAULT_PLAN_DAYS = 180
"""A new plan's default end: six months, well inside Medicare's year."""

SERVICE_TYPES = (
    ("individual", "individual"),
    ("group", "group"),
    ("family", "family"),
    ("couples", "couples"),
)


def sections(
    existing: list[tuple[str, str]], supervisors: list[tuple[str, str]]
) -> tuple[Section, ...]:
    client = Section("Client", (
        Field("existing_client", "A client already in your caseload", "select",
              "Or leave this and type a new client below.",
              options=[("", "a new client (type below)"), *existing]),
        Field("client.id", "Client id (MRN)", "text", "The practice's medical record number.",
              attrs={"autocomplete": "off", "spellcheck": "false"}),
        Field("client.name", "Full name", "text", attrs={"autocomplete": "off"}),
        Field("client.date_of_birth", "Date of birth", "date"),
    ))  # fmt: skip
    guardian = Section(
        "Guardian (required for a client under 18)",
        optional=True,
        fields=
        (
            Field("client.guardian.name", "Guardian's name", "text", attrs={"autocomplete": "off"}),
            Field("client.guardian.relationship", "Relationship", "text",
                  "mother, father, legal guardian, foster parent, ..."),
            Field("client.guardian.phone", "Guardian's phone", "text", attrs={"inputmode": "tel"}),
        ),
    )  # fmt: skip
    plan = Section("Plan", (
        Field("service_type", "Service type", "select", options=SERVICE_TYPES),
        Field("session_minutes", "Session length in minutes", "number",
              "53 or more bills as 90837, 38–52 as 90834, 16–37 as 90832.",
              attrs={"min": "10", "max": "480"}),
        Field("review_interval_days", "Review every (days)", "number",
              "90 unless the payer asks for more often.", attrs={"min": "7", "max": "365"}),
        Field("plan_end_date", "Plan end date", "date",
              "Less than a year after the plan takes effect (Medicare)."),
        Field("supervisor_id", "Supervisor who co-signs", "select",
              options=[("", "your supervisor on record"), *supervisors]),
    ))  # fmt: skip
    participants = Section(
        "Participants (group, family or couples plans)",
        fields=tuple(
            field
            for n in range(PARTICIPANT_ROWS)
            for field in (
                Field(f"participants.{n}.name", f"Participant {n + 1}: name", "text"),
                Field(f"participants.{n}.role", f"Participant {n + 1}: part in treatment", "text",
                      "group member, partner, parent, ..." if n == 0 else None),
                Field(f"participants.{n}.client_id", f"Participant {n + 1}: client id, if any",
                      "text"),
            )
        ),
        hint="Name everyone besides the client who takes part; leave the rows empty for an "
        "individual plan.",
        optional=True,
        columns=3,
    )  # fmt: skip
    return (client, guardian, plan, participants)


Choices = tuple[list[tuple[str, str]], list[tuple[str, str]], dict[str, dict[str, str]]]
"""The caseload's clients as options, the supervisors as options, the clients by MRN."""


def _choices(request: Request, caller: Principal) -> Choices:
    """The clients of the caller's caseload (one row each) and the practice's supervisors."""
    ctx = context(request)
    rows = ctx.gateway.caseload(caller, CaseloadFilters())
    clients: dict[str, dict[str, str]] = {}
    for row in rows:
        client = row["client"]
        clients.setdefault(client["id"], client)
    existing = [
        (mrn, f"{c['name']} ({mrn}), born {c['date_of_birth']}")
        for mrn, c in sorted(clients.items(), key=lambda kv: kv[1]["name"])
    ]
    supervisors = [
        (u.user_id, f"{u.name}{', ' + u.credentials if u.credentials else ''}")
        for u in ctx.accounts.list_users()
        if u.role == "supervisor" and not u.disabled
    ]
    return existing, supervisors, clients


def _render(request: Request, caller: Principal, *, values: Values | None = None,
            errors: dict[str, str] | None = None, summary: list[str] | None = None,
            form_id: str | None = None, status: int = 200,
            choices: Choices | None = None) -> HTMLResponse:  # fmt: skip
    ctx = context(request)
    existing, supervisors, _ = choices or _choices(request, caller)
    today = ctx.service.clock().date()
    shown = values or {
        "service_type": ["individual"],
        "session_minutes": ["53"],
        "review_interval_days": ["90"],
        "plan_end_date": [(today + timedelta(days=DEFAULT_PLAN_DAYS)).isoformat()],
        "effective_date": [today.isoformat()],
        "entry_kind": ["original"],
    }
    if values is None and (wanted := request.query_params.get("client")):
        shown["existing_client"] = [wanted]
    response = page(
        request,
        "open_plan.html",
        status=status,
        title="Open a plan",
        sections=sections(existing, supervisors),
        values=shown,
        errors=errors or {},
        summary=summary or [],
        form_id=form_id or secrets.token_urlsafe(16),
        entry_kinds=ENTRY_KINDS,
    )
    response.headers.update(AUTHORING_HEADERS)
    return response


@router.get("/plans/new", name="web_open_plan_form")
async def open_plan_form(request: Request, caller: Writer) -> Response:
    ctx = context(request)
    return await anyio.to_thread.run_sync(lambda: _render(request, caller), limiter=ctx.limiter)


def body_of(values: Values, known: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The open-plan body from the form: an existing client's recorded identity, or the typed
    one; numbers as the form sent them (the command's parsing names a bad one)."""
    data = form_data(sections([], []), values)
    chosen = data.pop("existing_client", None)
    if chosen:
        if chosen not in known:
            raise InvalidInput.on("existing_client", "is not a client of your caseload")
        client = known[chosen]
        found = data.get("client")
        typed: dict[str, Any] = found if isinstance(found, dict) else {}
        data["client"] = {
            "id": client["id"],
            "name": client["name"],
            "date_of_birth": client["date_of_birth"],
            **({"guardian": typed["guardian"]} if typed.get("guardian") else {}),
        }
    return data


@router.post("/plans/new", name="web_open_plan")
async def open_plan(request: Request, caller: Writer) -> Response:
    values = await read_form(request)
    ctx = context(request)
    entry = access_entry(request)
    form_id = first(values, "form_id") or None

    def run() -> Response:
        choices = _choices(request, caller)
        known = choices[2]
        try:
            body = body_of(values, known)
            result = ctx.gateway.open_plan(
                caller, body, envelope_of(values), idempotency_key=form_id, entry=entry
            )
        except InvalidInput as error:
            errors, summary = place_errors(error, form_names(sections([], [])))
            return _render(request, caller, values=values, errors=errors, summary=summary,
                           form_id=form_id, status=422, choices=choices)  # fmt: skip
        return RedirectResponse(
            f"/web/plans/{result.plan_id}?saved=open-plan",
            status_code=303,
            headers=AUTHORING_HEADERS,
        )

    return await anyio.to_thread.run_sync(run, limiter=ctx.limiter)
