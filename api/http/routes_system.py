"""Service endpoints: liveness and readiness (no authentication), the metrics (admins) and who
the caller is."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from plantrail.api.routing import metrics
from plantrail.api.routing.access import ANY_USER, ENTRANCE, HEALTH, METRICS, READY
from plantrail.api.routing.context import access_entry
from plantrail.api.routing.problems import problem, problem_responses
from plantrail.api.routing.schemas import Health, Me, Ready
from plantrail.projections.access.policy import Principal
from plantrail.projections.access.readiness import Check, Readiness, ready_bound
from plantrail.projections.store.deadlines import GRACE

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
    summary="Liveness: 200 while the server process answers (the store is not asked)",
    dependencies=[Depends(HEALTH)],
)
async def health() -> Health:
    """Cheap on purpose: an orchestrator restarts a process that fails it, and a restart
    does not mend a full disk or a stalled database. Whether the store can take a write is
    ``/ready``."""
    return Health(status="ok")


@router.get(
    "/ready",
    summary="Readiness: 200 when the store and the access log can take a write, else 503",
    dependencies=[Depends(READY)],
    response_model=Ready,
    responses=problem_responses(503),
)
async def ready(request: Request) -> Any:
    """The checks of ``projections/access/readiness.py``, in a worker thread; the answer comes
    within the database bound (``PLANTRAIL_DB_TIMEOUT``) and a little grace, even when a check
    is still waiting (it is left to finish on its own)."""
    readiness: Readiness = request.app.state.readiness
    bound = ready_bound()
    checks: list[Check] | None = None
    with anyio.move_on_after(bound + 2 * GRACE):
        checks = await anyio.to_thread.run_sync(readiness.check, bound, abandon_on_cancel=True)
    if checks is None:
        checks = [Check("write", False, bound, "the database did not answer in time")]
    failed = [check for check in checks if not check.ok]
    metrics.READY.set(0 if failed else 1)
    found = {
        check.name: {"ok": check.ok, "seconds": check.seconds, "detail": check.detail}
        for check in checks
    }
    if failed:
        detail = "; ".join(f"{check.name}: {check.detail}" for check in failed)
        return problem(503, f"not ready: {detail}", checks=found)
    return JSONResponse({"status": "ready", "checks": found})


@router.get(
    "/metrics",
    summary="The server's metrics in the Prometheus text format (admins)",
    response_class=Response,
    responses={
        200: {"content": {metrics.CONTENT_TYPE: {"schema": {"type": "string"}}}},
        **problem_responses(401, 403),
    },
)
async def metrics_page(
    request: Request, caller: Annotated[Principal, Depends(METRICS)]
) -> Response:
    access_entry(request).action = "view:metrics"
    page = await anyio.to_thread.run_sync(metrics.exposition, request.app.state.metrics_state)
    return Response(page, media_type=metrics.CONTENT_TYPE)


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
