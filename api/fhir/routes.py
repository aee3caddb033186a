"""The FHIR read endpoints. Each reads through ``PlanGateway`` with the authenticated caller,
exactly as the JSON API does: the same reach rule, the same byte-identical 404 for a plan out
of reach and for no plan, one access-log record per request."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from typing import Annotated
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime

from plantrail.api.fhir.responses import FhirResponse, fhir
from plantrail.api.routing.access import READ_PLANS, PublicAccess
from plantrail.api.routing.common import context
from plantrail.api.routing.context import AppContext, access_entry
from plantrail.domain.errors import InvalidInput, NotFound
from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import PlanState, fold
from plantrail.domain.validation import check_text
from plantrail.projections.access.policy import Principal
from plantrail.projections.fhir import (
    capability_statement,
    care_plan,
    everything,
    history,
    plan_resources,
    search_set,
)
from plantrail.projections.fhir.capability import READ_ONLY_TYPES
from plantrail.projections.fhir.ids import patient_id
from plantrail.projections.period_findings import effective_by, recorded_by

router = APIRouter()

Reader = Annotated[Principal, Depends(READ_PLANS)]
At = Annotated[
    AwareDatetime | None,
    Query(alias="_at", description="The plan as the chart stood at this instant (RFC 3339)"),
]
EffectiveOn = Annotated[
    date | None,
    Query(alias="effective-on", description="plantrail: the plan as in clinical effect on a date"),
]
SOFTWARE_VERSION = "0.1.0"
METADATA = PublicAccess("fhir-metadata")
"""The CapabilityStatement is public (logged, as ``fhir:metadata``); everything else reads plans."""


def base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}/fhir"


def _last_modified(state: PlanState) -> dict[str, str]:
    return {"Last-Modified": format_datetime(state.last_recorded_at.astimezone(UTC), usegmt=True)}


def _events(
    ctx: AppContext, caller: Principal, plan_id: UUID, request: Request, view: str
) -> list[PlanEvent]:
    return ctx.gateway.events(caller, plan_id, access_entry(request), view=view)


def _at_point(
    events: list[PlanEvent], at: datetime | None, effective_on: date | None
) -> tuple[list[PlanEvent], PlanState]:
    """The events folded into the plan as of ``at`` and/or in effect on ``effective_on``."""
    chosen = recorded_by(events, at) if at is not None else events
    if effective_on is not None:
        chosen = effective_by(chosen, effective_on)
    state = fold(chosen)
    if state is None or (effective_on is not None and effective_on < state.effective_date):
        when = f"at {at.isoformat()}" if at is not None else f"on {effective_on}"
        raise NotFound(f"the plan was not yet recorded or in effect {when}")
    return chosen, state


@router.get("/metadata")
def metadata(request: Request, _: Annotated[None, Depends(METADATA)]) -> FhirResponse:
    """The CapabilityStatement: public, as FHIR clients read it before they authenticate."""
    now = context(request).service.clock()
    return fhir(
        capability_statement(base_url=base_url(request), software_version=SOFTWARE_VERSION, now=now)
    )


@router.get("/CarePlan/{plan_id}")
async def read_care_plan(
    request: Request, plan_id: UUID, caller: Reader, at: At = None, effective_on: EffectiveOn = None
) -> FhirResponse:
    ctx = context(request)

    def read() -> PlanState:
        events = _events(ctx, caller, plan_id, request, "fhir:careplan")
        return _at_point(events, at, effective_on)[1]

    state = await anyio.to_thread.run_sync(read, limiter=ctx.limiter)
    return fhir(care_plan(state), version=state.version, headers=_last_modified(state))


@router.get("/CarePlan/{plan_id}/_history")
async def care_plan_history(request: Request, plan_id: UUID, caller: Reader) -> FhirResponse:
    ctx = context(request)

    def read() -> dict[str, object]:
        events = _events(ctx, caller, plan_id, request, "fhir:history")
        return history(events, base_url=base_url(request))

    return fhir(await anyio.to_thread.run_sync(read, limiter=ctx.limiter))


@router.get("/CarePlan/{plan_id}/_history/{version_id}")
async def care_plan_version(
    request: Request, plan_id: UUID, version_id: str, caller: Reader
) -> FhirResponse:
    ctx = context(request)
    if not re.fullmatch(r"[1-9][0-9]{0,9}", version_id):
        raise NotFound(f"no version {version_id!r} of this CarePlan")

    def read() -> PlanState:
        events = _events(ctx, caller, plan_id, request, "fhir:vread")
        wanted = int(version_id)
        if wanted > events[-1].originator_version:
            raise NotFound(f"no version {wanted} of this CarePlan")
        state = fold(events[:wanted])
        assert state is not None
        return state

    state = await anyio.to_thread.run_sync(read, limiter=ctx.limiter)
    return fhir(care_plan(state), version=state.version, headers=_last_modified(state))


@router.get("/CarePlan/{plan_id}/$everything")
async def care_plan_everything(
    request: Request, plan_id: UUID, caller: Reader, at: At = None, effective_on: EffectiveOn = None
) -> FhirResponse:
    ctx = context(request)

    def read() -> tuple[dict[str, object], int]:
        chosen, state = _at_point(
            _events(ctx, caller, plan_id, request, "fhir:everything"), at, effective_on
        )
        return everything(state, chosen, base_url=base_url(request)), state.version

    bundle, version = await anyio.to_thread.run_sync(read, limiter=ctx.limiter)
    return fhir(bundle, version=version)


_LAST_UPDATED = re.compile(
    r"^(eq|ne|gt|lt|ge|le|sa|eb)?(\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?)$"
)


def _bound(raw: str) -> tuple[str, datetime, datetime]:
    """``_lastUpdated`` as (prefix, start, end) of the instant or day it names."""
    found = _LAST_UPDATED.match(raw)
    if found is None:
        raise InvalidInput.on(
            "_lastUpdated", f"{raw!r} is not a FHIR date or instant with a prefix (ge2026-01-01)"
        )
    prefix, value = found.group(1) or "eq", found.group(2)
    try:
        if "T" in value:
            start = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return prefix, start, start
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput.on("_lastUpdated", f"{raw!r} is not a valid date or instant") from None
    return prefix, datetime.combine(day, time.min, UTC), datetime.combine(day, time.max, UTC)


def _matches(moment: datetime, prefix: str, start: datetime, end: datetime) -> bool:
    return {
        "eq": start <= moment <= end,
        "ne": not start <= moment <= end,
        "gt": moment > end,
        "sa": moment > end,
        "lt": moment < start,
        "eb": moment < start,
        "ge": moment >= start,
        "le": moment <= end,
    }[prefix]


@router.get("/CarePlan")
async def search_care_plans(
    request: Request,
    caller: Reader,
    subject: Annotated[
        str | None,
        Query(max_length=80, description="Patient/{client id} or the client id (MRN)"),
    ] = None,
    last_updated: Annotated[
        list[str] | None,
        Query(alias="_lastUpdated", max_length=40, description="ge2026-01-01, lt2026-06-01…"),
    ] = None,
) -> FhirResponse:
    ctx = context(request)
    entry = access_entry(request)
    entry.action = "fhir:search-careplan"
    if subject:
        # A NUL, another control character or a lone surrogate names no client: the search is
        # refused (400), never answered as an empty match (docs/fhir.md).
        try:
            check_text(subject)
        except ValueError as error:
            raise InvalidInput.on("subject", str(error)) from None
        if "\ufffd" in subject:  # what the query's decoding made of bytes that are not UTF-8
            raise InvalidInput.on("subject", "must be valid UTF-8 (a lone surrogate is not)")
    client_id = subject.removeprefix("Patient/") if subject else None
    bounds = [_bound(raw) for raw in last_updated or []]

    def search() -> list[dict[str, object]]:
        found = []
        for plan_id in ctx.gateway.visible_plan_ids(caller):
            header = ctx.gateway.header(plan_id)
            if header is None or (
                client_id is not None and _fhir_id(header.client_id) != client_id
            ):
                continue
            state = ctx.gateway.searched_state(caller, plan_id)
            if state is None:
                continue
            if all(_matches(state.last_recorded_at, *bound) for bound in bounds):
                found.append(care_plan(state))
        return found

    plans = await anyio.to_thread.run_sync(search, limiter=ctx.limiter)
    return fhir(search_set(plans, base_url=base_url(request), self_url=str(request.url)))


def _fhir_id(client_id: str | None) -> str | None:
    return patient_id(client_id) if client_id is not None else None


_PLAN_PREFIX = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@router.get("/{resource_type}/{resource_id}")
async def read_resource(
    request: Request, resource_type: str, resource_id: str, caller: Reader
) -> FhirResponse:
    """A Patient, Practitioner, Condition, Goal, Observation, Provenance or Task that a CarePlan
    references, as it stands on the newest plan in the caller's reach that holds it. The
    plans are searched, so this read costs a fold per plan searched: ids that begin with their
    plan's id (Conditions, event Provenance) go to that plan first."""
    ctx = context(request)
    if resource_type not in READ_ONLY_TYPES:
        raise NotFound(f"this server has no {resource_type} resources (see /fhir/metadata)")
    entry = access_entry(request)
    entry.action = f"view:fhir:{resource_type.lower()}"

    def find() -> dict[str, object]:
        visible = list(reversed(ctx.gateway.visible_plan_ids(caller)))
        prefix = _PLAN_PREFIX.match(resource_id)
        if prefix is not None:
            own = UUID(prefix.group(0))
            visible.sort(key=lambda plan_id: plan_id != own)  # stable: the rest stay newest first
        for plan_id in visible:
            events = ctx.gateway.searched_events(caller, plan_id)
            state = fold(events)
            if state is None:
                continue
            for resource in plan_resources(state, events):
                if resource["resourceType"] == resource_type and resource["id"] == resource_id:
                    entry.plan_id = str(plan_id)
                    return resource
        entry.outcome = "not_found"
        raise NotFound(f"no {resource_type} with this id is in your reach")

    return fhir(await anyio.to_thread.run_sync(find, limiter=ctx.limiter))
