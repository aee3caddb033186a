"""The client's copy of their plan as a PDF: the audit packet's plan and signature sections,
laid out by the same functions (``parts.plan_part``, ``parts.signatures_part``), for the plan as
it stands (45 CFR 164.524: the copy in the form the client asks for; a PDF prints everywhere).

Reproducible like the packet (reportlab's invariant mode, dates from the generation time): the
same plan version and generation second give the same bytes.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Spacer
from reportlab.platypus.flowables import Flowable

from plantrail.api.packet import parts as lay
from plantrail.api.packet.pdf import _MARGIN, PAPER, document
from plantrail.api.packet.styles import (
    FONT,
    H1,
    MUTED,
    RULE,
    SMALL,
    SUBTITLE,
    TITLE,
    register_fonts,
    text,
)
from plantrail.domain.plan import PlanState
from plantrail.projections.document import plan_document
from plantrail.projections.signatures import request_row, signature_row

_OWN_SECTIONS = ("measurements", "reviews", "signatures", "signature_requests", "entry_labels")


def _retitled(flowables: list[Any], title: str) -> list[Any]:
    """A packet part without its packet number: the copy is not a packet."""
    out = list(flowables)
    for index, item in enumerate(out):
        if isinstance(item, Paragraph) and item.style is H1:
            out[index] = Paragraph(text(title), H1)
            break
    return out


def client_copy_parts(state: PlanState, *, today: date) -> dict[str, Any]:
    """What the copy shows of ``state``, as plain data (taken under the plan's read, so the
    layout, which is slow, runs after it)."""
    document = plan_document(state, today=today)
    for name in _OWN_SECTIONS:
        document.pop(name, None)
    signatures = [signature_row(s) for s in state.signatures.values()]
    for row in signatures:
        row["after_period"] = False
    return {
        "plan_id": str(state.plan_id),
        "version": state.version,
        "status": state.status,
        "client": {
            "id": state.client.id,
            "name": state.client.name,
            "date_of_birth": state.client.date_of_birth.isoformat(),
        },
        "clinician": state.clinician.name,
        "supervisor": state.supervisor.name if state.supervisor else None,
        "document": document,
        "signatures": signatures,
        "requests": [request_row(state, r) for r in state.signature_requests.values()],
    }


def render_client_copy(
    parts: dict[str, Any], *, generated_at: datetime, paper: str = "letter"
) -> bytes:
    """The PDF of the plan (``client_copy_parts``) for its client."""
    register_fonts()
    size = PAPER[paper]
    client = parts["client"]
    stamp = generated_at.astimezone(UTC)
    footer = (
        f"Treatment plan of {client['name']} · version {parts['version']} · generated "
        f"{stamp.strftime('%Y-%m-%d %H:%M UTC')}"
    )
    pdf_date = stamp.strftime("D:%Y%m%d%H%M%S+00'00'")

    class CopyCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["invariant"] = 1
            super().__init__(*args, **kwargs)
            self._doc.setDateFormatter(lambda *_: pdf_date)

    def furniture(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(_MARGIN, _MARGIN - 6, size[0] - _MARGIN, _MARGIN - 6)
        canvas.setFillColor(MUTED)
        canvas.setFont(FONT, 7)
        canvas.drawString(_MARGIN, _MARGIN - 15, footer)
        canvas.drawRightString(size[0] - _MARGIN, _MARGIN - 15, f"page {doc.page}")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = document(
        buffer,
        size,
        title=f"Treatment plan: {client['name']}, version {parts['version']}",
        author=parts["clinician"],
        subject=f"Treatment plan {parts['plan_id']} version {parts['version']}",
        on_page=furniture,
    )
    width = size[0] - 2 * _MARGIN
    story: list[Flowable] = [
        Paragraph("Your treatment plan", TITLE),
        Paragraph(
            f"{text(client['name'])} · record {text(client['id'])} · as it stands on "
            f"{stamp.date().isoformat()}",
            SUBTITLE,
        ),
        *lay.facts(
            [
                ("Client", f"{text(client['name'])}, born {client['date_of_birth']}"),
                ("Clinician", text(parts["clinician"])),
                ("Supervisor", text(parts["supervisor"] or "none named")),
                (
                    "Plan",
                    f"{parts['plan_id']} · version {parts['version']} · {text(parts['status'])}",
                ),
                (
                    "Your rights",
                    "You may ask your clinician to amend this plan (45 CFR 164.526) and for a "
                    "list of who has read it (an accounting of access).",
                ),
            ],
            [0.22 * width, 0.78 * width],
        ),
        *_retitled(
            lay.plan_part(
                {
                    "effective_on": stamp.date().isoformat(),
                    "in_effect": True,
                    "document": parts["document"],
                },
                width,
            ),
            "The plan",
        ),
        *_retitled(
            lay.signatures_part(
                {"signatures": parts["signatures"], "requests": parts["requests"]}, width
            ),
            "Signatures",
        ),
        Spacer(0, 8),
        Paragraph("End of the plan.", SMALL),
    ]
    doc.build(story, canvasmaker=CopyCanvas)
    return buffer.getvalue()
