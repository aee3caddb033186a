"""Service endpoints: health (no authentication) and who the caller is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import text

from plantrail.api.routing.access import ANY_USER, ENTRANCE, HEALTH
from plantrail.api.routing.common import context
from plantrail.api.routing.context import access_entry
from plantrail.api.routing.problems import problem_responses
from plantrail.api.routing.schemas import Health, Me
from plantrail.projections.access.policy import Principal
from plantrail.projections.assembly import recorder_of
from plantrail.projections.store.failures import translated

router = APIRouter(tags=["service"])


@router.get("/", include_in_schema=False, dependencies=[Depends(ENTRANCE)])
def root() -> RedirectResponse:
    """A person who opens the server's address in a browser wants the pages, not a 401."""
    return RedirectResponse("/web/", status_code=307)


@router.get("/favicon.ico", include_in_schema=False, dependencies=[Depends(ENTRANCE)])
def favicon() -> Response:
    """Browsers ask for it on every page: an empty answer, not a 401 in the access log."""
    return Response(status_code=204)


@router.get(
    "/health",
    summary="Liveness: 200 once the store answers",
    dependencies=[Depends(HEALTH)],
    responses=problem_responses(503),
)
def health(request: Request) -> Health:
    with (
        translated("reach the store"),
        recorder_of(context(request).service).engine.connect() as conn,
    ):
        conn.execute(text("SELECT 1"))
    return Health(status="ok")


@router.get("/me", summary="The caller's own account", responses=problem_responses(401, 503))
def me(request: Request, caller: Annotated[Principal, Depends(ANY_USER)]) -> Me:
    access_entry(request).action = "view:me"
    return Me(
        user_id=caller.user_id,
        name=caller.name,
        role=caller.role,
        credentials=caller.credentials,
        supervisees=sorted(caller.supervisees),
        plan_id=str(caller.plan_id) if caller.plan_id is not None else None,
    )
