"""Making a packet from the store and checking one against it: the steps the HTTP route and
the CLI share, so both produce the same bytes for the same request."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from plantrail.api.packet.checkpoint_block import checkpoint_block
from plantrail.api.packet.pdf import read_manifest, render_pdf
from plantrail.domain.errors import InvalidInput, PlanNotFound
from plantrail.domain.events import PlanEvent
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import recorder_of
from plantrail.projections.packet import (
    PACKET_FORMAT,
    PARTS,
    Packet,
    PacketRequest,
    build_packet,
    differing_parts,
    packet_digest,
)
from plantrail.projections.profile import RuleProfile

__all__ = ["PacketCheck", "make_packet", "packet_pdf", "verify_packet"]


def make_packet(
    service: PlanService,
    request: PacketRequest,
    events: Sequence[PlanEvent],
    profile: RuleProfile,
) -> tuple[Packet, dict[str, Any] | None]:
    """The packet for ``request`` from the plan's ``events`` (read by the caller through its
    access path), and the cover's checkpoint block."""
    chain = recorder_of(service).chain_hashes(request.plan_id, events[-1].originator_version)
    packet = build_packet(request, events, chain, profile, late_entry_days=service.late_entry_days)
    block = checkpoint_block(service, request.plan_id, packet.version, chain, request.generated_at)
    return packet, block


def packet_pdf(
    service: PlanService,
    request: PacketRequest,
    events: Sequence[PlanEvent],
    profile: RuleProfile,
    *,
    paper: str = "letter",
) -> tuple[Packet, bytes]:
    packet, block = make_packet(service, request, events, profile)
    return packet, render_pdf(packet, checkpoint=block, paper=paper)


@dataclass(frozen=True)
class PacketCheck:
    """What ``verify-packet`` found."""

    plan_id: str
    version: int
    digest: str
    matches: bool
    differing: list[str] = field(default_factory=list)
    """The parts (``PARTS`` names) whose content no longer matches the record."""
    problems: list[str] = field(default_factory=list)
    """Anything wrong with the file itself (its manifest or its printed digest)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "version": self.version,
            "digest": self.digest,
            "matches": self.matches,
            "differing_parts": [{"part": p, "title": PARTS[p]} for p in self.differing],
            "problems": self.problems,
        }


def _first_page_text(pdf: bytes) -> str:
    try:
        return PdfReader(io.BytesIO(pdf)).pages[0].extract_text() or ""
    except (PdfReadError, ValueError, OSError, IndexError):
        return ""


def verify_packet(
    service: PlanService, pdf: bytes, events_of: Callable[[UUID], list[PlanEvent]]
) -> PacketCheck:
    """Rebuild the packet a PDF describes from the store and compare it part by part; the
    plan's history is read by ``events_of`` (the caller's read through the gateway).

    The rebuild uses the request and rule profile written into the packet and the chart as it
    stood at the packet's generation time, so entries recorded since do not count as changes;
    an entry edited, removed or forged in the store does."""
    manifest = read_manifest(pdf)
    if manifest is None or manifest.get("format") != PACKET_FORMAT:
        raise InvalidInput.on("packet", "this file is not a plantrail audit packet")
    request = PacketRequest.from_parameters(manifest)
    try:
        profile = RuleProfile.recorded(manifest.get("profile"))
    except ValueError:
        raise InvalidInput.on("packet", "its rule profile is altered") from None
    written: dict[str, str] = manifest.get("parts") or {}
    problems = []
    if set(written) != set(PARTS) or packet_digest(written) != manifest.get("digest"):
        problems.append("the manifest's part digests do not add up to its packet digest")
    if str(manifest.get("digest")) not in _first_page_text(pdf).replace("\n", " "):
        problems.append("the digest printed on the pages is not the manifest's")
    events = events_of(request.plan_id)
    if not events:
        raise PlanNotFound(request.plan_id)
    packet, _ = make_packet(service, request, events, profile)
    differing = differing_parts(written, packet)
    version_changed = packet.version != manifest.get("version")
    return PacketCheck(
        plan_id=str(request.plan_id),
        version=int(manifest.get("version") or 0),
        digest=str(manifest.get("digest")),
        matches=not differing and not problems and not version_changed,
        differing=differing,
        problems=problems
        + (
            [f"the record now has version {packet.version} at the generation time"]
            if version_changed
            else []
        ),
    )
