"""The packet and the client's copy as HTTP responses: the one path the JSON API and the pages
make each by (the plan read through the gateway off the event loop, the layout after it)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

import anyio.to_thread
from fastapi import Request, Response

from plantrail.api.packet.client_copy import client_copy_parts, render_client_copy
from plantrail.api.packet.html import render_html
from plantrail.api.packet.pdf import render_pdf
from plantrail.api.packet.service import make_packet
from plantrail.api.rendering.templating import SECURITY_HEADERS
from plantrail.api.routing.common import context
from plantrail.api.routing.context import access_entry
from plantrail.api.routing.reads import rule_profile_with
from plantrail.domain.errors import InvalidInput
from plantrail.projections.access.policy import Principal
from plantrail.projections.packet import PacketRequest
from plantrail.projections.service_dates import ServiceDate


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
    *,
    copy_forward_detector: int | None = None,
) -> Response:
    """The packet as the response: the one path the API and the web pages generate it by.
    ``copy_forward_detector`` asks for that detector instead of the practice's; the packet
    records the profile it was made with, so it verifies either way."""
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
        profile = rule_profile_with(ctx, copy_forward_detector)
        packet, block = make_packet(ctx.service, packet_request, events, profile)
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


async def client_copy_pdf(
    request: Request, caller: Principal, plan_id: UUID, paper: Literal["letter", "a4"]
) -> tuple[bytes, int]:
    """The client's copy of the plan as it stands, and its version: the one path the API and
    the client's page make it by (the plan read under its lock, the layout after it)."""
    ctx = context(request)
    entry = access_entry(request)
    now = ctx.service.clock().replace(microsecond=0)

    def build() -> tuple[bytes, int]:
        parts = ctx.gateway.current(
            caller,
            plan_id,
            entry,
            lambda state: client_copy_parts(state, today=now.date()),
            view="client-copy",
        )
        return render_client_copy(parts, generated_at=now, paper=paper), int(parts["version"])

    return await anyio.to_thread.run_sync(build, limiter=ctx.limiter)
