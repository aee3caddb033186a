"""A whole audit request answered at once: the claims an auditor lists, a verdict for each,
a packet per plan the claims fall in, a summary and a cover letter, in one zip.

The orchestration the command line (``plantrail audit-request``) and the HTTP job
(``POST /audit-requests``) share, so both give the same zip for the same request. Everything is
read through ``PlanGateway`` as the caller (ADR 0018): the verdicts with the audit read
(``audit_plan_ids`` / ``audit_events``: an auditor and an admin audit every plan, a supervisor
their reach), each packet with the packet read (``events``, the plan document's reach, so an
admin gets the verdicts but no packet), and every packet generated is its own access-log entry.

**The file** is CSV with the columns ``mrn,date,cpt`` (that header is optional); ``cpt`` may
hold several codes separated by spaces or semicolons, or be empty. A row that cannot be
answered (no MRN, a malformed date or CPT code, a client not in the caller's reach) becomes a
line of the summary with its reason; only a file that is not CSV, or has no readable claim at
all, is refused. **Which packets**: per client, the claims' dates are checked against every
plan of the client (``service_date_lines``: the plan in clinical effect that day); each plan
that some claim's date falls in gets one packet, for the period from the first to the last of
those dates, listing them. A date no plan covers gets its verdict and no packet.

docs/audits.md, "A whole audit request", walks through it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from reportlab.platypus import Flowable, Paragraph, Spacer

from plantrail.api.packet import parts as lay
from plantrail.api.packet.pdf import _MARGIN, PAPER, document
from plantrail.api.packet.service import packet_pdf
from plantrail.api.packet.styles import BODY, SMALL, SUBTITLE, TITLE, register_fonts, text
from plantrail.domain.errors import InvalidInput, NotFound
from plantrail.domain.service import PlanService
from plantrail.projections.access.access_log import AccessEntry
from plantrail.projections.access.gateway import PlanGateway
from plantrail.projections.access.policy import Principal
from plantrail.projections.packet import PacketRequest
from plantrail.projections.profile import RuleProfile
from plantrail.projections.service_dates import (
    CPT_CODE,
    MAX_SERVICE_DATES,
    ServiceDate,
    service_date_lines,
)

__all__ = [
    "CSV_HEADER",
    "MAX_CLAIMS",
    "AuditRequestAnswer",
    "Claim",
    "answer_audit_request",
    "parse_claims",
    "summary_csv",
]

CSV_HEADER = ("mrn", "date", "cpt")
"""The columns of an audit request, in this order; a first row that reads so is the header."""
MAX_CLAIMS = MAX_SERVICE_DATES
"""Claims in one request: the limit of one audit of dates of service."""
VERDICTS = ("OK", "NOT OK", "NOT CHECKED")
"""A claim's verdict: its date was covered; it was not (the reason says why); it could not be
checked (a bad row, or a client out of the caller's reach)."""
AUDIT_ACTION = "audit-request:dates-of-service"
SUMMARY_COLUMNS = (
    "row",
    "mrn",
    "date",
    "cpt",
    "verdict",
    "plan_id",
    "plan_version",
    "packet",
    "reason",
)
# Zip members carry this time, not the clock's: the same request gives the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Claim:
    """One row of the request: a client's date of service and the codes billed for it."""

    row: int
    """The row's line in the file (from 1), as the summary names it."""
    mrn: str
    day: date | None
    cpt_codes: tuple[str, ...] = ()
    problem: str | None = None
    """Why the row cannot be checked; None for a readable claim."""
    raw_date: str = ""


def _claim(number: int, cells: list[str]) -> Claim:
    mrn = cells[0] if cells else ""
    raw_date = cells[1] if len(cells) > 1 else ""
    if len(cells) < 2 or len(cells) > 3:
        return Claim(
            number, mrn, None, problem="expected 2 or 3 columns: mrn,date,cpt", raw_date=raw_date
        )
    if not mrn:
        return Claim(number, mrn, None, problem="no MRN", raw_date=raw_date)
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw_date):
            raise ValueError
        day = date.fromisoformat(raw_date)
    except ValueError:
        return Claim(
            number, mrn, None, problem=f"{raw_date!r} is not a date (YYYY-MM-DD)", raw_date=raw_date
        )
    codes = [c.upper() for c in re.split(r"[\s;]+", cells[2]) if c] if len(cells) > 2 else []
    for code in codes:
        if not CPT_CODE.fullmatch(code):
            return Claim(
                number,
                mrn,
                day,
                problem=f"{code!r} is not a CPT code (five characters)",
                raw_date=raw_date,
            )
    return Claim(number, mrn, day, tuple(codes), raw_date=raw_date)


def parse_claims(text_: str) -> list[Claim]:
    """The claims of a request file (see module docstring); a row that cannot be read is a
    ``Claim`` with its ``problem``. Refuses (``InvalidInput``) text that is not CSV, that holds
    no readable claim, or more than ``MAX_CLAIMS`` rows."""
    if "\x00" in text_:
        raise InvalidInput.on("claims", "the file is not CSV text (it holds NUL bytes)")
    reader = csv.reader(io.StringIO(text_, newline=""), strict=True)
    try:
        # A row is named by the line it ends on (``line_num``): the line an auditor finds it
        # on, also when a quoted cell spans lines.
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        raise InvalidInput.on("claims", f"the file is not readable CSV: {error}") from None
    claims: list[Claim] = []
    for number, row in rows:
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if (
            not claims
            and tuple(c.lower() for c in cells) == CSV_HEADER[: len(cells)]
            and (len(cells) >= 2)
        ):
            continue  # the header row
        claims.append(_claim(number, cells))
    if not any(c.problem is None for c in claims):
        raise InvalidInput.on(
            "claims",
            "no readable claim: the file must be CSV with rows mrn,date,cpt "
            "(e.g. MRN-20602,2025-05-08,90837)",
        )
    if len(claims) > MAX_CLAIMS:
        raise InvalidInput.on("claims", f"{len(claims)} rows; at most {MAX_CLAIMS} in one request")
    return claims


@dataclass
class PacketMade:
    """One packet of the answer (or why it could not be made)."""

    mrn: str
    plan_id: UUID
    start: date
    end: date
    claims: list[Claim]
    name: str = ""
    digest: str = ""
    version: int = 0
    pdf: bytes = b""
    problem: str | None = None


@dataclass
class AuditRequestAnswer:
    """What a request gave: a summary line per claim, the packets, and the zip holding them."""

    lines: list[dict[str, str]]
    packets: list[PacketMade]
    zip_bytes: bytes = b""
    counts: dict[str, int] = field(default_factory=dict)


def _packet_name(mrn: str, plan_id: UUID, start: date, end: date) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", mrn)
    return f"packets/{safe}-{str(plan_id)[:8]}-{start.isoformat()}-{end.isoformat()}.pdf"


def answer_audit_request(
    service: PlanService,
    gateway: PlanGateway,
    caller: Principal,
    claims: Sequence[Claim],
    *,
    new_entry: Callable[[], AccessEntry],
    generated_at: datetime,
    profile: RuleProfile,
    practice: str | None = None,
    paper: str = "letter",
    on_plan: Callable[[int], None] | None = None,
    on_packet: Callable[[PacketMade], None] | None = None,
) -> AuditRequestAnswer:
    """Answer ``claims`` as ``caller``. ``new_entry`` gives a fresh access-log entry: one per
    client looked up (its audit read) and one per packet; the caller of this function appends
    them. ``on_plan`` is told how many packets will be made once the verdicts are in;
    ``on_packet`` after each one (a progress bar, a job's progress)."""
    generated_at = generated_at.astimezone(UTC).replace(microsecond=0)
    by_client: dict[str, list[Claim]] = {}
    for claim in claims:
        if claim.problem is None:
            by_client.setdefault(claim.mrn, []).append(claim)
    verdicts: dict[int, dict[str, Any]] = {}
    refused: dict[int, str] = {c.row: c.problem for c in claims if c.problem is not None}
    wanted: dict[UUID, PacketMade] = {}
    for mrn, own in by_client.items():
        entry = new_entry()
        entry.action = AUDIT_ACTION
        try:
            plan_ids = gateway.audit_plan_ids(caller, mrn, entry)
            histories = [
                gateway.audit_events(caller, plan_id, entry, action=AUDIT_ACTION)
                for plan_id in plan_ids
            ]
        except NotFound:
            entry.status = 404
            for claim in own:
                refused[claim.row] = "no client with this MRN is in your reach"
            continue
        entry.plan_id = str(plan_ids[0]) if len(plan_ids) == 1 else None
        entry.status, entry.outcome = 200, "ok"
        dates = [ServiceDate(c.day, c.cpt_codes) for c in own if c.day is not None]
        for claim, line in zip(own, service_date_lines(histories, dates, profile), strict=True):
            verdicts[claim.row] = line
            if line["plan_id"] is not None:
                plan_id = UUID(line["plan_id"])
                made = wanted.setdefault(plan_id, PacketMade(mrn, plan_id, date.max, date.min, []))
                made.claims.append(claim)
                assert claim.day is not None
                made.start, made.end = min(made.start, claim.day), max(made.end, claim.day)
    packets = list(wanted.values())
    if on_plan is not None:
        on_plan(len(packets))
    generated_by = {"user_id": caller.user_id, "name": caller.name, "role": caller.role}
    for made in packets:
        made.name = _packet_name(made.mrn, made.plan_id, made.start, made.end)
        entry = new_entry()
        try:
            events = gateway.events(caller, made.plan_id, entry, view="packet")
            request = PacketRequest(
                plan_id=made.plan_id,
                start=made.start,
                end=made.end,
                generated_at=generated_at,
                generated_by=generated_by,
                dates=tuple(ServiceDate(c.day, c.cpt_codes) for c in made.claims if c.day),
                practice=practice,
            )
            packet, pdf = packet_pdf(service, request, events, profile, paper=paper)
        except NotFound:
            entry.status = 404
            made.problem = "the plan document is outside your reach: no packet"
        except InvalidInput as error:
            entry.status, entry.outcome = 422, "rejected"
            made.problem = f"no packet: {error}"
        else:
            entry.status, entry.outcome = 200, "ok"
            made.digest, made.version, made.pdf = packet.digest, packet.version, pdf
        finally:
            # The access log names the period (and the format) of every packet generated.
            entry.action = f"packet:{made.start.isoformat()}..{made.end.isoformat()}:pdf"
        if on_packet is not None:
            on_packet(made)
    packet_of = {(p.plan_id, c.row): p for p in packets for c in p.claims}
    lines = []
    for claim in claims:
        found = verdicts.get(claim.row)
        row = {
            "row": str(claim.row),
            "mrn": claim.mrn,
            "date": claim.day.isoformat() if claim.day else claim.raw_date,
            "cpt": " ".join(claim.cpt_codes),
        }
        if found is None:
            row |= {
                "verdict": "NOT CHECKED",
                "plan_id": "",
                "plan_version": "",
                "packet": "",
                "reason": refused.get(claim.row, "not checked"),
            }
        else:
            key = (UUID(found["plan_id"]), claim.row) if found["plan_id"] else None
            made_for = packet_of.get(key) if key else None
            row |= {
                "verdict": "OK" if found["ok"] else "NOT OK",
                "plan_id": found["plan_id"] or "",
                "plan_version": str(found["plan_version"] or ""),
                "packet": made_for.name if made_for and made_for.pdf else "",
                "reason": found["summary"],
            }
        lines.append(row)
    counts = {v: sum(1 for line in lines if line["verdict"] == v) for v in VERDICTS}
    answer = AuditRequestAnswer(lines, packets, counts=counts)
    answer.zip_bytes = _zip(answer, caller, generated_at, practice, paper)
    return answer


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text: one that starts like a formula (an MRN in the
    auditor's own file may) is prefixed with an apostrophe, as OWASP advises against CSV
    injection; dates, codes, verdicts and reasons never start so."""
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def summary_csv(lines: Sequence[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SUMMARY_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({key: _cell(value) for key, value in line.items()} for line in lines)
    return out.getvalue().encode("utf-8")


def cover_letter(
    answer: AuditRequestAnswer,
    caller: Principal,
    generated_at: datetime,
    practice: str | None,
    paper: str,
) -> bytes:
    """The request's cover letter: who answered it and when, every packet with its digest,
    every claim's verdict. Byte-reproducible, as the packets are (ADR 0010)."""
    register_fonts()
    size = PAPER[paper]
    width = size[0] - 2 * _MARGIN
    stamp = generated_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    buffer = io.BytesIO()
    doc = document(
        buffer,
        size,
        title="Answer to an audit request",
        author=caller.name,
        subject=f"Audit request answered {stamp}",
    )
    made = [p for p in answer.packets if p.pdf]
    story: list[Flowable] = [
        Paragraph("Answer to an audit request", TITLE),
        Paragraph(text(f"{practice or 'The practice'} · generated {stamp}"), SUBTITLE),
        *lay.facts(
            [
                ("Generated by", text(f"{caller.name} ({caller.role})")),
                (
                    "Claims",
                    text(
                        f"{len(answer.lines)}: "
                        + ", ".join(f"{answer.counts[v]} {v}" for v in VERDICTS)
                    ),
                ),
                ("Packets", text(str(len(made)))),
            ],
            [width * 0.2, width * 0.8],
        ),
        Spacer(1, 6),
        Paragraph(
            "Each packet is a PDF in the packets folder of this archive; its digest (SHA-256) "
            "is printed on its cover and can be checked against the record with plantrail "
            "verify-packet. summary.csv holds the lines below.",
            BODY,
        ),
        Spacer(1, 6),
        Paragraph("<b>Packets</b>", BODY),
        *lay.table(
            ["Client", "Plan", "Period", "File", "Digest"],
            [
                [
                    text(p.mrn),
                    text(f"{str(p.plan_id)[:8]} v{p.version}" if p.pdf else str(p.plan_id)[:8]),
                    text(f"{p.start.isoformat()} to {p.end.isoformat()}"),
                    text(p.name if p.pdf else "not made"),
                    text(p.digest or (p.problem or "")),
                ]
                for p in answer.packets
            ],
            [width * 0.12, width * 0.12, width * 0.2, width * 0.26, width * 0.3],
            style=SMALL,
        ),
        Spacer(1, 8),
        Paragraph("<b>Claims</b>", BODY),
        *lay.table(
            ["Row", "Client", "Date", "CPT", "Verdict", "Reason"],
            [
                [
                    text(line["row"]),
                    text(line["mrn"]),
                    text(line["date"]),
                    text(line["cpt"]),
                    text(line["verdict"]),
                    text(line["reason"]),
                ]
                for line in answer.lines
            ],
            [width * 0.06, width * 0.12, width * 0.11, width * 0.09, width * 0.1, width * 0.52],
            style=SMALL,
        ),
    ]
    doc.build(story)
    return buffer.getvalue()


def _member(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16  # health data: owner-only when unpacked
    archive.writestr(info, data)


def _zip(
    answer: AuditRequestAnswer,
    caller: Principal,
    generated_at: datetime,
    practice: str | None,
    paper: str,
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _member(archive, "summary.csv", summary_csv(answer.lines))
        _member(
            archive,
            "cover-letter.pdf",
            cover_letter(answer, caller, generated_at, practice, paper),
        )
        for packet in answer.packets:
            if packet.pdf:
                _member(archive, packet.name, packet.pdf)
    return buffer.getvalue()
