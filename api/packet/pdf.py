"""The packet as a PDF (ADR 0010): reportlab's platypus lays out the parts; a two-pass canvas
prints "page X of Y" and the packet's digest in every page's footer.

Reproducible: reportlab's invariant mode fixes the file id and leaves out its timestamps and
comments, and the document dates are the packet's generation time, so the same packet gives
the same bytes. The manifest (``Packet.manifest``: what ``verify-packet`` needs to rebuild the
packet) is written into the document information as ``/PlantrailPacket``.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, date
from typing import Any

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer

from plantrail.api.packet import parts as lay
from plantrail.api.packet.styles import (
    FONT,
    H2,
    HASH,
    MUTED,
    RULE,
    SMALL,
    SUBTITLE,
    TITLE,
    register_fonts,
    text,
)
from plantrail.projections.packet import FORMAT_1, PARTS, Packet

__all__ = ["MANIFEST_KEY", "PAPER", "read_manifest", "render_pdf"]

MANIFEST_KEY = "/PlantrailPacket"
PAPER = {"letter": LETTER, "a4": A4}
_MARGIN = 16 * mm


def _canvas_class(packet: Packet) -> type[Canvas]:
    cover = packet.parts["cover"]
    client = cover["client"]
    head = f"Audit packet · {client['name']} ({client['id']}) · {cover['from']} to {cover['to']}"
    stamp = packet.request.generated_at.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")

    class PacketCanvas(Canvas):
        """Keeps every page until the end so each footer can say how many pages there are."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["invariant"] = 1
            super().__init__(*args, **kwargs)
            self._doc.setDateFormatter(lambda *_: stamp)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._furniture(number, total)
                super().showPage()
            super().save()

        def _furniture(self, number: int, total: int) -> None:
            width, height = self._pagesize
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(_MARGIN, height - _MARGIN + 8, width - _MARGIN, height - _MARGIN + 8)
            self.line(_MARGIN, _MARGIN - 6, width - _MARGIN, _MARGIN - 6)
            self.setFillColor(MUTED)
            self.setFont(FONT, 7)
            if number > 1:
                self.drawString(_MARGIN, height - _MARGIN + 11, head)
            self.drawString(_MARGIN, _MARGIN - 15, f"Packet digest {packet.digest}")
            self.drawRightString(width - _MARGIN, _MARGIN - 15, f"page {number} of {total}")
            self.restoreState()

    return PacketCanvas


def _cover(packet: Packet, checkpoint: Mapping[str, Any] | None, width: float) -> list[Any]:
    c = packet.parts["cover"]
    client = c["client"]
    out: list[Any] = [
        Paragraph("Treatment plan audit packet", TITLE),
        Paragraph(
            f"{text(client['name'])} · {text(client['id'])} · period {c['from']} to {c['to']}",
            SUBTITLE,
        ),
        *lay.facts(
            [
                (
                    "Client",
                    f"{text(client['name'])} (record {text(client['id'])}, "
                    f"born {client['date_of_birth']})",
                ),
                ("Clinician", text(_with_licence(c["clinician"]))),
                ("Supervisor", text(_with_licence(c["supervisor"])) or "—"),
                ("Practice", text(c["practice"]) or "—"),
                ("Period of service", f"{c['from']} to {c['to']}"),
                (
                    "Plan",
                    f"{c['plan_id']} · {text(c['status'])} · effective "
                    f"{c['plan_effective_date']}, ends {c['plan_end_date']}",
                ),
                (
                    "Generated",
                    f"{lay.when(c['generated_at'])} by {text(lay.person(c['generated_by']))} "
                    f"({text(c['generated_by'].get('role') or '')})",
                ),
                (
                    "Dates of service asked about",
                    str(c["dates_of_service"]) if c["dates_of_service"] else "none",
                ),
                *_summary(c),
            ],
            [0.25 * width, 0.75 * width],
        ),
        Paragraph("Verification", H2),
        *lay.facts(
            [
                (
                    "Plan id, version",
                    f"{c['plan_id']}, version {c['version']} "
                    "(the chart as it stood at the generation time)",
                ),
                ("Chain head hash", Paragraph(text(c["chain_head"] or "—"), HASH)),
                ("Last signed checkpoint", _checkpoint_text(checkpoint)),
                ("Packet digest", Paragraph(text(packet.digest), HASH)),
                (
                    "How to check",
                    "plantrail verify-packet THIS.pdf --db URL rebuilds every part from the "
                    "record and compares the digests below."
                    if packet.format == FORMAT_1
                    else "plantrail verify-packet THIS.pdf --db URL rebuilds every part and "
                    "every page from the record and compares them with this file.",
                ),
            ],
            [0.25 * width, 0.75 * width],
        ),
        Spacer(0, 6),
        *lay.table(
            ["Part", "SHA-256 of the part"],
            [
                [
                    text(f"{i}. {PARTS[name]}" if i else PARTS[name]),
                    Paragraph(packet.digests[name], HASH),
                ]
                for i, name in enumerate(PARTS)
            ],
            [0.45 * width, 0.55 * width],
        ),
    ]
    return out


def _summary(cover: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Format 2: the cover's verdicts, read from the parts (``projections/packet.py``)."""
    summary = cover.get("summary")
    if summary is None:
        return []
    red = "<font color='#a4161a'><b>{}</b></font>"
    dates = cover["dates_of_service"]
    not_ok = summary["dates_not_ok"]
    unsigned = summary["dates_unsigned_changes"]
    rows = []
    if dates:
        verdict = (
            red.format(f"{len(not_ok)} of {dates} NOT OK") + f": {', '.join(not_ok)}"
            if not_ok
            else f"all {dates} OK"
        )
        if unsigned:
            verdict += (
                f"; changes the clinician had not signed were in effect on {', '.join(unsigned)}"
            )
        rows.append(("Dates of service verdict", verdict + " (part 7)"))
    versions = summary["unsigned_versions"]
    rows.append(
        (
            "Clinician signature coverage",
            red.format(
                "content not signed by the clinician from version "
                + ", ".join(str(v) for v in versions)
            )
            + " (part 5)"
            if versions
            else "every version of the plan in effect is signed by the clinician (part 5)",
        )
    )
    return rows


def _with_licence(person: Mapping[str, Any] | None) -> str:
    if not person:
        return ""
    shown = lay.person(person)
    return (
        f"{shown} (licence {person['license_number']})" if person.get("license_number") else shown
    )


def _checkpoint_text(checkpoint: Mapping[str, Any] | None) -> str:
    if not checkpoint:
        return "none found: run <i>plantrail checkpoint</i> and keep the file outside the database"
    if checkpoint.get("problem"):
        return f"<font color='#a4161a'>{text(checkpoint['problem'])}</font>"
    verdict = (
        "<font color='#0b6b2e'><b>verified</b></font>: its signature is good and the plan's "
        f"chain hash at version {checkpoint['version']} matches the record"
        if checkpoint["verified"]
        else "<font color='#a4161a'><b>does not match the record</b></font> at version "
        f"{checkpoint['version']}"
    )
    return (
        f"signed {lay.when(checkpoint['created_at'])} (key {text(checkpoint['key_id'])}), covers "
        f"version {checkpoint['version']}: {verdict}"
    )


def document(
    buffer: io.BytesIO,
    size: tuple[float, float],
    *,
    title: str,
    author: str,
    subject: str,
    keywords: list[str] | None = None,
    on_page: Callable[[Any, Any], None] | None = None,
) -> BaseDocTemplate:
    """A document of one full-page frame inside the margins, with plantrail's metadata and
    reportlab's invariant mode (same input, same bytes): the packet's and the client copy's."""
    doc = BaseDocTemplate(
        buffer,
        pagesize=size,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=title,
        author=author,
        subject=subject,
        creator="plantrail",
        producer="plantrail (reportlab)",
        keywords=keywords or [],
        invariant=1,
    )
    frame = Frame(_MARGIN, _MARGIN, size[0] - 2 * _MARGIN, size[1] - 2 * _MARGIN, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)  # fmt: skip
    pages = {} if on_page is None else {"onPage": on_page}  # reportlab's default: nothing
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], **pages)])
    return doc


def render_pdf(
    packet: Packet, *, checkpoint: Mapping[str, Any] | None = None, paper: str = "letter"
) -> bytes:
    """The packet's PDF bytes; ``checkpoint`` is the cover's checkpoint block (outside the
    digest: it describes a file kept outside the store, not the record)."""
    register_fonts()
    # A format-1 packet is laid out as it was then, so that verify-packet can compare it.
    layout = lay.LAYOUT_1.set(packet.format == FORMAT_1)
    try:
        return _render(packet, checkpoint, paper)
    finally:
        lay.LAYOUT_1.reset(layout)


def _render(packet: Packet, checkpoint: Mapping[str, Any] | None, paper: str) -> bytes:
    size = PAPER[paper]
    buffer = io.BytesIO()
    cover = packet.parts["cover"]
    doc = document(
        buffer,
        size,
        title=f"Audit packet: {cover['client']['name']}, {cover['from']} to {cover['to']}",
        author=lay.person(cover["generated_by"]),
        subject=f"Treatment plan {cover['plan_id']} version {cover['version']}; "
        f"digest {packet.digest}",
        keywords=["plantrail", "audit packet", packet.digest],
    )
    width = size[0] - 2 * _MARGIN
    start, end = date.fromisoformat(cover["from"]), date.fromisoformat(cover["to"])
    p = packet.parts
    story: list[Any] = [
        *_cover(packet, checkpoint, width),
        *lay.plan_part(p["plan"], width, p["amendments"]),
        *lay.revisions_part(p["revisions"], width),
        *lay.reviews_part(p["reviews"], start, end, width),
        *lay.signatures_part(p["signatures"], width),
        *lay.amendments_part(p["amendments"], width),
        *lay.dates_part(p["dates_of_service"], width),
        *lay.findings_part(p["findings"], width),
        *lay.events_part(p["events"], width),
        Spacer(0, 8),
        Paragraph("End of packet.", SMALL),
    ]
    manifest = json.dumps(packet.manifest(), sort_keys=True, separators=(",", ":"))
    doc.build(story, canvasmaker=_canvas_class(packet))
    return _with_manifest(buffer.getvalue(), manifest)


def _with_manifest(pdf: bytes, manifest: str) -> bytes:
    """The PDF with the manifest added to its document information (pypdf rewrites the file
    deterministically: same input, same bytes)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.add_metadata({MANIFEST_KEY: manifest})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def read_manifest(pdf: bytes) -> dict[str, Any] | None:
    """The manifest a packet carries, or None when the file is no plantrail packet."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs a warning for every file that is not a PDF; the caller's error says it once.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        info = PdfReader(io.BytesIO(pdf)).metadata
    except (PdfReadError, ValueError, OSError):
        return None
    raw = info.get(MANIFEST_KEY) if info else None
    if not raw:
        return None
    try:
        found = json.loads(str(raw))
    except ValueError:
        return None
    return found if isinstance(found, dict) else None
