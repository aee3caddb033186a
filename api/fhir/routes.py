"""The FHIR read endpoints. Each reads through ``PlanGateway`` with the authenticated caller,
exactly as the JSON API does: the same reach rule, the same byte-identical 404 for a plan out
of reach and for no plan, one access-log record per request."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime

from plantrail.api.fhir.responses import FhirResponse, fhir
from plantrail.api.routing.access import READ_PLANS, PublicAccess
from plantrail.api.routing.common import context
from plantrail.api.routing.context import AppContext, access_entry
from plantrail.domain.errors import InvalidInput, NotFound
from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import PlanState, fold
from plantrail.projections.access.policy import Principal
from plantrail.projections.fhir import (
    capability_statement,
    care_plan,
    everything,
    history,
    plan_resources,
)
from plantrail.projections.fhir.capability import READ_ONLY_TYPES, everything_definition
from plantrail.projections.fhir.ids import patient_id
from plantrail.projections.fhir.search import SEARCHABLE_TYPES, matches, parse, search_bundle
from plantrail.projections.fhir.search import Query as SearchQuery
from plantrail.projections.period_findings import effective_by, recorded_by

_JSON_FORMATS = ("json", "application/json", "application/fhir+json", "application/json+fhir")


def json_only(request: Request) -> None:
    """This server speaks FHIR JSON only: ``_format`` or ``Accept`` asking for anything else
    (XML, Turtle) is 406, never a JSON answer with 200."""
    wanted = request.query_params.getlist("_format")
    if any(value.split(";")[0].strip() not in _JSON_FORMATS for value in wanted):
        raise HTTPException(406, "this server answers FHIR JSON only (_format=json)")
    accept = request.headers.get("accept", "").strip()
    if accept:
        kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
        if not any(k in ("*/*", "application/*") or k.endswith("json") for k in kinds):
            raise HTTPException(406, "this server answers application/fhir+json only")


router = APIRouter(dependencies=[Depends(json_only)])

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
OPERATION_DEFINITION = PublicAccess("fhir-operation-definition")


def base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}/fhir"


def _last_modified(state: PlanState) -> dict[str, str]:
    return {"Last-Modified": format_datetime(state.last_recorded_at.astimezone(UTC), usegmt=True)}


def _not_modified(request: Request, etag: str) -> bool:
    """Does ``If-None-Match`` name this version? Weak comparison (RFC 9110 13.1.2); a bare
    version id, as some FHIR clients send ``meta.versionId``, is taken as that version."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False

    def opaque(tag: str) -> str:
        return tag.strip().removeprefix("W/").strip('"')

    wanted = {opaque(tag) for tag in header.split(",")}
    return "*" in wanted or opaque(etag) in wanted


def _versioned(
    request: Request, resource: dict[str, Any], version: str, headers: dict[str, str]
) -> Response:
    """``resource`` with its ETag and Last-Modified; 304 with no body when the client's
    ``If-None-Match`` already names this version."""
    etag = f'W/"{version}"'
    if _not_modified(request, etag):
        return Response(status_code=304, headers={"ETag": etag, **headers})
    return fhir(resource, headers={"ETag": etag, **headers})


def _resource_headers(resource: dict[str, Any]) -> dict[str, str]:
    stamp = datetime.fromisoformat(resource["meta"]["lastUpdated"].replace("Z", "+00:00"))
    return {"Last-Modified": format_datetime(stamp.astimezone(UTC), usegmt=True)}


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
) -> Response:
    ctx = context(request)

    def read() -> PlanState:
        events = _events(ctx, caller, plan_id, request, "fhir:careplan")
        return _at_point(events, at, effective_on)[1]

    state = await anyio.to_thread.run_sync(read, limiter=ctx.limiter)
    return _versioned(request, care_plan(state), str(state.version), _last_modified(state))


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
) -> Response:
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
    return _versioned(request, care_plan(state), str(state.version), _last_modified(state))


@router.get("/OperationDefinition/CarePlan-everything")
def everything_operation(
    request: Request, _: Annotated[None, Depends(OPERATION_DEFINITION)]
) -> FhirResponse:
    """$everything's OperationDefinition, the one the CapabilityStatement names: public, as
    the CapabilityStatement is."""
    return fhir(everything_definition(base_url=base_url(request)))


async def _everything_parameters(request: Request) -> tuple[datetime | None, date | None]:
    """``_at`` and ``effective-on`` of a POSTed $everything: a Parameters resource (or none)."""
    raw = await request.body()
    if not raw.strip():
        return None, None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput.on("body", "is not JSON (a Parameters resource)") from None
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidInput.on("body", "must be a Parameters resource")
    at: datetime | None = None
    effective_on: date | None = None
    for parameter in body.get("parameter") or []:
        name = parameter.get("name") if isinstance(parameter, dict) else None
        try:
            if name == "_at":
                value = parameter.get("valueInstant") or parameter.get("valueDateTime")
                at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
                if at.tzinfo is None:
                    raise ValueError
            elif name == "effective-on":
                effective_on = date.fromisoformat(str(parameter.get("valueDate")))
            else:
                raise InvalidInput.on(str(name)[:40], "is not a parameter of $everything")
        except ValueError:
            raise InvalidInput.on(str(name), "is not a valid instant or date") from None
    return at, effective_on


@router.post("/CarePlan/{plan_id}/$everything")
async def care_plan_everything_post(
    request: Request, plan_id: UUID, caller: Reader, at: At = None, effective_on: EffectiveOn = None
) -> FhirResponse:
    """$everything by POST (FHIR operations may be invoked either way), its parameters in the
    query string or in a Parameters body."""
    posted_at, posted_on = await _everything_parameters(request)
    return await care_plan_everything(
        request, plan_id, caller, posted_at or at, posted_on or effective_on
    )


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


def _strict(request: Request) -> bool:
    """``Prefer: handling=strict``: an unknown or unsupported parameter is an error."""
    prefer = request.headers.get("prefer", "")
    return any(
        token.strip().lower() == "handling=strict"
        for part in prefer.split(",")
        for token in part.split(";")
    )


def _client_ids(query: SearchQuery) -> set[str] | None:
    """The Patient ids a CarePlan search's ``patient``/``subject`` criteria allow (every
    criterion must hold, any alternative of each), or None when it names none; lets the
    search skip other clients' plans by their header, before any fold."""
    allowed: set[str] | None = None
    for criterion in query.criteria:
        if criterion.param.name not in ("patient", "subject"):
            continue
        ids = {ident for kind, ident in criterion.alternatives if kind in (None, "Patient")}
        allowed = ids if allowed is None else allowed & ids
    return allowed


@router.get("/{resource_type}")
async def search(request: Request, resource_type: str, caller: Reader) -> FhirResponse:
    """Search one type (https://hl7.org/fhir/R4/search.html) over the plans in the caller's
    reach, with exactly the parameters ``search.PARAMS`` declares for it; a CarePlan with
    ``_at``/``effective-on`` as it stood then. The search is one access-log record."""
    ctx = context(request)
    if resource_type not in SEARCHABLE_TYPES:
        raise NotFound(f"this server has no {resource_type} resources (see /fhir/metadata)")
    entry = access_entry(request)
    entry.action = f"fhir:search-{resource_type.lower()}"
    query = parse(resource_type, request.query_params.multi_items(), strict=_strict(request))

    def care_plans() -> list[dict[str, Any]]:
        allowed = _client_ids(query)
        found = []
        for plan_id in ctx.gateway.visible_plan_ids(caller):
            header = ctx.gateway.header(plan_id)
            if header is None or (
                allowed is not None and _fhir_id(header.client_id) not in allowed
            ):
                continue
            if query.at is not None or query.effective_on is not None:
                state = ctx.gateway.searched_state_at(
                    caller, plan_id, as_of=query.at, effective_on=query.effective_on
                )
            else:
                state = ctx.gateway.searched_state(caller, plan_id)
            if state is None:
                continue
            resource = care_plan(state)
            if matches(resource, query):
                found.append(resource)
        return found

    def others() -> list[dict[str, Any]]:
        # Newest plan first, as a read by id: a Patient on several plans is the newest one's.
        seen: set[str] = set()
        found = []
        for plan_id in reversed(ctx.gateway.visible_plan_ids(caller)):
            events = ctx.gateway.searched_events(caller, plan_id)
            state = fold(events)
            if state is None:
                continue
            for resource in plan_resources(state, events):
                if resource["resourceType"] != resource_type or resource["id"] in seen:
                    continue
                seen.add(resource["id"])
                if matches(resource, query):
                    found.append(resource)
        return found

    def run() -> dict[str, Any]:
        found = care_plans() if resource_type == "CarePlan" else others()
        return search_bundle(found, query, base_url=base_url(request))

    return fhir(await anyio.to_thread.run_sync(run, limiter=ctx.limiter))


def _fhir_id(client_id: str | None) -> str | None:
    return patient_id(client_id) if client_id is not None else None


_PLAN_PREFIX = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@router.get("/{resource_type}/{resource_id}")
async def read_resource(
    request: Request, resource_type: str, resource_id: str, caller: Reader
) -> Response:
    """A Patient, Practitioner, Condition, Goal, Observation, Provenance or Task that a CarePlan
    references, as it stands on the newest plan in the caller's reach that holds it. The
    plans are searched, so this read costs a fold per plan searched: ids that begin with their
    plan's id (Conditions, event Provenance) go to that plan first."""
    ctx = context(request)
    if resource_type not in READ_ONLY_TYPES:
        raise NotFound(f"this server has no {resource_type} resources (see /fhir/metadata)")
    entry = access_entry(request)
    entry.action = f"view:fhir:{resource_type.lower()}"

    def find() -> dict[str, Any]:
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

    resource = await anyio.to_thread.run_sync(find, limiter=ctx.limiter)
    return _versioned(request, resource, resource["meta"]["versionId"], _resource_headers(resource))
