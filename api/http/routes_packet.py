"""``GET /plans/{id}/packet``: the audit packet for a period, as a PDF or as a page.

The plan is read through the gateway like every other view, so only the plan's clinician, the
clinician's supervisors and auditors reach it (``READ_PLANS`` and the plan's reach), and each
packet generated is one access-log record whose action names the period.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime

from plantrail.api.packet.responses import packet_response
from plantrail.api.routing.access import READ_PLANS
from plantrail.api.routing.common import PlanId
from plantrail.api.routing.problems import problem_responses
from plantrail.api.routing.reads import Detector
from plantrail.domain.errors import InvalidInput
from plantrail.projections.access.policy import Principal
from plantrail.projections.service_dates import ServiceDate, parse_service_dates

router = APIRouter(prefix="/plans/{plan_id}", tags=["audits"])

Reader = Annotated[Principal, Depends(READ_PLANS)]

_ITEM = r"[0-9]{4}-[0-9]{2}-[0-9]{2}(:[A-Z0-9]{4,5}([+ ][A-Z0-9]{4,5})*)?"
DATES_PATTERN = rf"^{_ITEM}(,{_ITEM})*$"


def _service_dates(raw: str | None) -> tuple[ServiceDate, ...]:
    """``2026-03-04:90837+90785,2026-03-11``: the lines ``parse_service_dates`` reads, one an
    item; a bad item is named by its place in the list."""
    if not raw:
        return ()
    lines = "\n".join(item.replace(":", " ").replace("+", " ") for item in raw.split(","))
    try:
        return tuple(parse_service_dates(lines))
    except InvalidInput as error:
        raise InvalidInput.on("dates", str(error).replace("line", "item", 1)) from None


@router.get(
    "/packet",
    summary="The audit packet for a period of service dates (PDF, or HTML with format=html)",
    responses={
        200: {
            "description": "The packet",
            "content": {"application/pdf": {}, "text/html": {}},
        },
        **problem_responses(401, 403, 404, 422, 503),
    },
    response_class=Response,
)
async def plan_packet(
    request: Request,
    plan_id: PlanId,
    caller: Reader,
    from_: Annotated[date, Query(alias="from", description="First date of service in the period")],
    to: Annotated[date, Query(description="Last date of service in the period")],
    dates: Annotated[
        str | None,
        Query(
            max_length=20_000,
            pattern=DATES_PATTERN,
            description="Dates of service to check, comma-separated, each optionally with CPT "
            "codes after a colon joined by +: 2026-03-04:90837+90785,2026-03-11",
        ),
    ] = None,
    format_: Annotated[Literal["pdf", "html"], Query(alias="format")] = "pdf",
    paper: Annotated[Literal["letter", "a4"], Query()] = "letter",
    generated_at: Annotated[
        AwareDatetime | None,
        Query(description="Generate as at this instant (default now): the chart as it stood then"),
    ] = None,
    copy_forward_detector: Detector = None,
) -> Response:
    return await packet_response(
        request,
        caller,
        plan_id,
        from_,
        to,
        _service_dates(dates),
        format_,
        paper,
        generated_at,
        copy_forward_detector=copy_forward_detector,
    )
