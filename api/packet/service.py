"""Making a packet from the store and checking one against it: the steps the HTTP route and
the CLI share, so both produce the same bytes for the same request."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from plantrail.api.packet.checkpoint_block import checkpoint_block
from plantrail.api.packet.pdf import PAPER, read_manifest, render_pdf
from plantrail.domain.errors import InvalidInput, PlanNotFound
from plantrail.domain.events import PlanEvent
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import recorder_of
from plantrail.projections.packet import (
    FORMATS,
    PACKET_FORMAT,
    PARTS,
    Packet,
    PacketRequest,
    build_packet,
    differing_parts,
    packet_digest,
)
from plantrail.projections.profile import RuleProfile

__all__ = ["PacketCheck", "compare_pages", "make_packet", "packet_pdf", "verify_packet"]


def make_packet(
    service: PlanService,
    request: PacketRequest,
    events: Sequence[PlanEvent],
    profile: RuleProfile,
    *,
    format_: str = PACKET_FORMAT,
) -> tuple[Packet, dict[str, Any] | None]:
    """The packet for ``request`` from the plan's ``events`` (read by the caller through its
    access path), and the cover's checkpoint block."""
    chain = recorder_of(service).chain_hashes(request.plan_id, events[-1].originator_version)
    packet = build_packet(
        request, events, chain, profile, late_entry_days=service.late_entry_days, format_=format_
    )
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
    """Anything wrong with the file itself (its manifest, its pages, appended updates)."""
    pages: list[int] = field(default_factory=list)
    """The pages (from 1) whose content differs from the packet the record gives."""
    format: str = PACKET_FORMAT

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "version": self.version,
            "digest": self.digest,
            "format": self.format,
            "matches": self.matches,
            "differing_parts": [{"part": p, "title": PARTS[p]} for p in self.differing],
            "differing_pages": self.pages,
            "problems": self.problems,
        }


def _reader(pdf: bytes) -> PdfReader | None:
    try:
        return PdfReader(io.BytesIO(pdf))
    except (PdfReadError, ValueError, OSError):
        return None


def _page_text(reader: PdfReader | None, index: int) -> str | None:
    """The text of one page, or None when the page cannot be read (a damaged stream)."""
    if reader is None:
        return None
    try:
        return " ".join((reader.pages[index].extract_text() or "").split())
    except Exception:
        return None


def _page_drawing(reader: PdfReader | None, index: int) -> bytes | None:
    if reader is None:
        return None
    try:
        contents = reader.pages[index].get_contents()
        return contents.get_data() if contents is not None else b""
    except Exception:
        return None


def _page_count(reader: PdfReader | None) -> int:
    try:
        return len(reader.pages) if reader is not None else 0
    except Exception:
        return 0


def _paper(reader: PdfReader | None) -> str:
    """The paper the packet was laid out on, from its first page's size."""
    try:
        box = reader.pages[0].mediabox if reader is not None else None
    except Exception:
        box = None
    if box is not None:
        for name, (width, height) in PAPER.items():
            if abs(float(box.width) - width) < 1 and abs(float(box.height) - height) < 1:
                return name
    return "letter"


def _words_apart(given: str, expected: str) -> str:
    """Where two page texts part, a few words either side, for the report."""
    a, b = given.split(), expected.split()
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    shown, record = " ".join(a[at : at + 8]), " ".join(b[at : at + 8])
    return f"reads {shown!r} where the record gives {record!r}"


def compare_pages(given: bytes, expected: bytes) -> tuple[list[int], list[str]]:
    """The pages of ``given`` whose content differs from ``expected`` (the packet rebuilt from
    the record, byte-reproducible), and what is wrong; ([], []) when the bytes are the same.

    Packets are byte-reproducible (ADR 0010), so any byte that differs is a difference; the
    pages' text and drawing say where. A file with more than one end-of-file marker, or bytes
    after it, had something appended (a PDF incremental update can replace what a page shows
    without touching the original bytes) and is refused whatever its pages read."""
    if given == expected:
        return [], []
    problems: list[str] = []
    appended = given.count(b"%%EOF") > expected.count(b"%%EOF")
    if appended or not given.rstrip().endswith(b"%%EOF"):
        problems.append(
            "something was appended to the file after it was written (an incremental update "
            "or trailing data): a reader may be shown pages other than the packet's"
        )
    ours, theirs = _reader(given), _reader(expected)
    count, wanted = _page_count(ours), _page_count(theirs)
    if count != wanted:
        problems.append(f"the file has {count} pages; the packet the record gives has {wanted}")
    pages: list[int] = []
    for index in range(max(count, wanted)):
        number = index + 1
        if index >= count or index >= wanted:
            pages.append(number)
            continue
        text, record = _page_text(ours, index), _page_text(theirs, index)
        if text is None:
            pages.append(number)
            problems.append(f"page {number} cannot be read: its content is damaged")
        elif text != record:
            pages.append(number)
            problems.append(
                f"page {number} differs from the record: it {_words_apart(text, record or '')}"
            )
        elif _page_drawing(ours, index) != _page_drawing(theirs, index):
            pages.append(number)
            problems.append(f"page {number} is drawn differently from the packet the record gives")
    if not problems:
        problems.append(
            "the file's bytes differ from the packet the record gives outside its pages' "
            "content (document information, fonts or structure)"
        )
    return pages, problems


def verify_packet(
    service: PlanService, pdf: bytes, events_of: Callable[[UUID], list[PlanEvent]]
) -> PacketCheck:
    """Rebuild the packet a PDF describes from the store and compare it part by part and page
    by page; the plan's history is read by ``events_of`` (the caller's read through the
    gateway).

    The rebuild uses the request, rule profile and format written into the packet and the
    chart as it stood at the packet's generation time, so entries recorded since do not count
    as changes; an entry edited, removed or forged in the store does. The rebuilt PDF is laid
    out again on the packet's paper with the cover's checkpoint block as the store gives it
    now, and must be the same file: a page edited after the packet was made is named."""
    manifest = read_manifest(pdf)
    format_ = manifest.get("format") if manifest is not None else None
    if manifest is None or format_ not in FORMATS:
        raise InvalidInput.on("packet", "this file is not a plantrail audit packet")
    assert isinstance(format_, str)
    request = PacketRequest.from_parameters(manifest)
    try:
        profile = RuleProfile.recorded(manifest.get("profile"))
    except ValueError:
        raise InvalidInput.on("packet", "its rule profile is altered") from None
    written: dict[str, str] = manifest.get("parts") or {}
    problems = []
    if set(written) != set(PARTS) or packet_digest(written, format_) != manifest.get("digest"):
        problems.append("the manifest's part digests do not add up to its packet digest")
    events = events_of(request.plan_id)
    if not events:
        raise PlanNotFound(request.plan_id)
    packet, block = make_packet(service, request, events, profile, format_=format_)
    packet = replace(packet, written_profile=manifest.get("profile") or {})
    differing = differing_parts(written, packet)
    version_changed = packet.version != manifest.get("version")
    if version_changed:
        problems.append(f"the record now has version {packet.version} at the generation time")
    rebuilt = render_pdf(packet, checkpoint=block, paper=_paper(_reader(pdf)))
    pages, page_problems = compare_pages(pdf, rebuilt)
    problems += page_problems
    return PacketCheck(
        plan_id=str(request.plan_id),
        version=int(manifest.get("version") or 0),
        digest=str(manifest.get("digest")),
        matches=not differing and not problems,
        differing=differing,
        problems=problems,
        pages=pages,
        format=format_,
    )
