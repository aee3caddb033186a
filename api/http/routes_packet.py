"""``GET /plans/{id}/packet``: the audit packet for a period, as a PDF or as a page.

The plan is read through the gateway like every other view, so only the plan's clinician, the
clinician's supervisors and auditors reach it (``READ_PLANS`` and the plan's reach), and each
packet generated is one access-log record whose action names the period.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime

from plantrail.api.http.auth import READ_PLANS
from plantrail.api.http.common import PlanId, context
from plantrail.api.http.context import access_entry
from plantrail.api.http.errors import problem_responses
from plantrail.api.http.routes_views import rule_profile
from plantrail.api.packet.html import render_html
from plantrail.api.packet.pdf import render_pdf
from plantrail.api.packet.service import make_packet
from plantrail.api.web.templating import SECURITY_HEADERS
from plantrail.domain.errors import InvalidInput
from plantrail.projections.accounts import Principal
from plantrail.projections.packet import PacketRequest
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
) -> Response:
    return await packet_response(
        request, caller, plan_id, from_, to, _service_dates(dates), format_, paper, generated_at
    )


async def packet_response(
    request: Request,
    caller: Principal,
    plan_id: UUID,
    from_: date,
    to: date,
    dates: tuple[ServiceDate, ...],
    format_: Literal["pdf", "html"],
    paper: Literal["letter", "a4"],
    generated_at: datetime | None,
) -> Response:
    """The packet as the response: the one path the API and the web pages generate it by."""
    ctx = context(request)
    entry = access_entry(request)
    now = ctx.service.clock()
    if generated_at is not None and generated_at > now:
        raise InvalidInput.on("generated_at", "must not be in the future")
    packet_request = PacketRequest(
        plan_id=plan_id,
        start=from_,
        end=to,
        generated_at=_second(generated_at or now),
        generated_by={"user_id": caller.user_id, "name": caller.name, "role": caller.role},
        dates=dates,
        practice=ctx.settings.practice,
    )

    def build() -> tuple[bytes, str]:
        events = ctx.gateway.events(caller, plan_id, entry, view="packet")
        # The access log names the period (and the format) of every packet generated.
        entry.action = f"packet:{from_.isoformat()}..{to.isoformat()}:{format_}"
        packet, block = make_packet(ctx.service, packet_request, events, rule_profile(ctx))
        if format_ == "html":
            return render_html(packet, checkpoint=block).encode(), packet.digest
        return render_pdf(packet, checkpoint=block, paper=paper), packet.digest

    body, digest = await anyio.to_thread.run_sync(build, limiter=ctx.limiter)
    name = f"packet-{str(plan_id)[:8]}-{from_.isoformat()}-{to.isoformat()}"
    if format_ == "html":
        return Response(
            body,
            media_type="text/html; charset=utf-8",
            headers={**SECURITY_HEADERS, "Packet-Digest": digest},
        )
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.pdf"',
            "Cache-Control": "no-store",
            "Packet-Digest": digest,
        },
    )


def _second(moment: datetime) -> datetime:
    """Packets are stamped to the second: what the cover prints is what the rebuild uses."""
    return moment.replace(microsecond=0)
