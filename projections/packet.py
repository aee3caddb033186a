"""The audit packet's content: what a practice hands an auditor for a period of service dates.

The packet is data first and a document second. ``build_packet`` turns a plan's events (as the
chart stood when the packet was generated), the period, the dates of service and the rule
profile into nine *parts* of plain JSON-able data; the PDF and the HTML page
(``plantrail.api.packet``) only lay those parts out. Each part has its own SHA-256 digest over
its canonical JSON, and the packet's digest is the digest of those. The digest and everything
needed to compute the packet again (plan, period, dates, generation time, who, profile, version)
travel inside the PDF, so ``plantrail verify-packet`` can rebuild the parts from the store and
say which part, if any, no longer matches the record.

Nothing here reads a clock or makes a random id: the same events and request always give the
same parts, which is what makes the PDF byte-reproducible.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import orjson

from plantrail.domain import events as ev
from plantrail.domain.errors import InvalidInput, NotFound
from plantrail.domain.plan import PlanState, apply, fold, start
from plantrail.projections.diff import SECTIONS, document_diff
from plantrail.projections.document import amendment_row, plan_document
from plantrail.projections.period_findings import MAX_PERIOD_DAYS, check_period, period_findings
from plantrail.projections.profile import RuleProfile
from plantrail.projections.reviews import review_history
from plantrail.projections.revisions import revision_log
from plantrail.projections.service_dates import ServiceDate, service_date_lines
from plantrail.projections.signatures import coverage, request_row, rfc3339, signature_row

__all__ = [
    "FORMATS",
    "FORMAT_1",
    "MAX_PERIOD_DAYS",
    "PACKET_FORMAT",
    "PARTS",
    "Packet",
    "PacketRequest",
    "build_packet",
    "chart_as_of",
    "differing_parts",
    "digest_of",
    "packet_digest",
]

FORMAT_1 = "plantrail-packet/1"
"""Before signature coverage: rebuilt only to verify packets handed out then."""
PACKET_FORMAT = "plantrail-packet/2"
"""Written into every new packet; a later layout of the parts gets a new format name.

Format 2 adds signature coverage (the ``UNSIGNED_CHANGES`` finding, the coverage table in the
signatures part, the signed version and unsigned changes on each date-of-service line, their
summary on the cover), the review charts worded as on the dates they plot, and pages in words
rather than identifiers. A packet of format 1 is rebuilt by the same builder with those off
(``build_packet(format_=FORMAT_1)``), so it still verifies (ADR 0010)."""
FORMATS = (FORMAT_1, PACKET_FORMAT)

PARTS: dict[str, str] = {
    "cover": "Cover",
    "plan": "The plan in effect on the first date",
    "revisions": "Revisions in the period",
    "reviews": "Reviews in the period",
    "signatures": "Signatures",
    "amendments": "Amendment requests",
    "dates_of_service": "Dates of service",
    "findings": "Findings for the period",
    "events": "Every event in the period",
}
"""Each part of the packet, in the order of the document, with its heading."""


# What a revision can change: the plan's language and structure. Scores, reviews and signatures
# have parts of their own, so the revision diffs leave them out.
_OWN_PARTS = ("measurements", "reviews", "signatures", "signature_requests")
_REVISION_SECTIONS = tuple(section for section in SECTIONS if section not in _OWN_PARTS)
# Events that never change those sections: no document is taken around them.
_NOT_REVISIONS = (
    ev.MeasurementRecorded,
    ev.MeasurementVoided,
    ev.SignatureCaptured,
    ev.SignatureRevoked,
    ev.SignatureRequested,
    ev.RationaleRecorded,
    ev.ReviewStarted,
)
_DOCUMENT_ONLY = (*_OWN_PARTS, "entry_labels", "amendments")


@dataclass(frozen=True)
class PacketRequest:
    """What an auditor asked for and who generated the packet, when."""

    plan_id: UUID
    start: date
    end: date
    generated_at: datetime
    generated_by: Mapping[str, Any]
    """``user_id``, ``name`` and ``role`` of whoever generated it."""
    dates: tuple[ServiceDate, ...] = ()
    practice: str | None = None

    def __post_init__(self) -> None:
        # The same limit as the period's findings, which the packet carries.
        check_period(self.start, self.end)
        if self.generated_at.tzinfo is None:
            raise InvalidInput.on("generated_at", "must carry a time zone")

    def parameters(self) -> dict[str, Any]:
        return {
            "plan_id": str(self.plan_id),
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "dates": [
                {"date": d.date.isoformat(), "cpt_codes": list(d.cpt_codes)} for d in self.dates
            ],
            "generated_at": rfc3339(self.generated_at),
            "generated_by": dict(self.generated_by),
            "practice": self.practice,
        }

    @classmethod
    def from_parameters(cls, data: Mapping[str, Any]) -> PacketRequest:
        """The request written into a packet's manifest (``Packet.manifest``)."""
        try:
            return cls(
                plan_id=UUID(data["plan_id"]),
                start=date.fromisoformat(data["from"]),
                end=date.fromisoformat(data["to"]),
                generated_at=datetime.fromisoformat(data["generated_at"]),
                generated_by=dict(data["generated_by"]),
                dates=tuple(
                    ServiceDate(date.fromisoformat(d["date"]), tuple(d["cpt_codes"]))
                    for d in data["dates"]
                ),
                practice=data.get("practice"),
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidInput.on("packet", "its manifest is incomplete or altered") from None


@dataclass(frozen=True)
class Packet:
    request: PacketRequest
    version: int
    """The plan's version as the chart stood at the generation time."""
    profile: RuleProfile
    parts: dict[str, Any]
    digests: dict[str, str] = field(default_factory=dict)
    digest: str = ""
    format: str = PACKET_FORMAT
    written_profile: Mapping[str, Any] | None = None
    """The rule profile as a packet being verified wrote it in its manifest: a rebuilt packet
    writes it back as it was (settings added since, with their defaults, would change the
    file's bytes)."""

    def manifest(self) -> dict[str, Any]:
        """Everything ``verify-packet`` needs to build the packet again and compare."""
        return {
            "format": self.format,
            **self.request.parameters(),
            "version": self.version,
            "profile": dict(self.written_profile)
            if self.written_profile is not None
            else self.profile.model_dump(mode="json"),
            "digest": self.digest,
            "parts": self.digests,
        }


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def digest_of(parts: Mapping[str, Any], format_: str = PACKET_FORMAT) -> tuple[dict[str, str], str]:
    """Each part's digest, and the packet's: the digest of the named part digests in order."""
    digests = {name: hashlib.sha256(_canonical(parts[name])).hexdigest() for name in PARTS}
    return digests, packet_digest(digests, format_)


def packet_digest(digests: Mapping[str, str], format_: str = PACKET_FORMAT) -> str:
    """The packet's digest from its part digests, in the order of ``PARTS``."""
    lines = "\n".join(f"{name}:{digests[name]}" for name in PARTS)
    return "sha256:" + hashlib.sha256(f"{format_}\n{lines}".encode()).hexdigest()


def _in(day: date, request: PacketRequest) -> bool:
    return request.start <= day <= request.end


def _touches_period(event: ev.PlanEvent, request: PacketRequest) -> bool:
    """Made during the period: in clinical effect within it, or written into the chart within
    it (a late entry for an earlier date is still something that happened in the period)."""
    return _in(event.effective_date, request) or _in(
        event.recorded_at.astimezone(UTC).date(), request
    )


def _person(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    return {
        "user_id": raw.user_id,
        "name": raw.name,
        "credentials": raw.credentials,
        "license_number": raw.license_number,
    }


def _cover(request: PacketRequest, state: PlanState, chain: Mapping[int, str]) -> dict[str, Any]:
    return {
        "plan_id": str(request.plan_id),
        "version": state.version,
        "chain_head": chain.get(state.version),
        "status": state.status,
        "client": {
            "id": state.client.id,
            "name": state.client.name,
            "date_of_birth": state.client.date_of_birth.isoformat(),
        },
        "clinician": _person(state.clinician),
        "supervisor": _person(state.supervisor),
        "practice": request.practice,
        "from": request.start.isoformat(),
        "to": request.end.isoformat(),
        "plan_effective_date": state.effective_date.isoformat(),
        "plan_end_date": state.plan_end_date.isoformat(),
        "generated_at": rfc3339(request.generated_at),
        "generated_by": dict(request.generated_by),
        "dates_of_service": len(request.dates),
    }


def _plan_at_start(events: Sequence[ev.PlanEvent], request: PacketRequest) -> dict[str, Any]:
    """The plan in clinical effect on the period's first date. When none was (the plan was
    signed later in the period), the plan as it took effect instead: the first version the
    clinician signed, which every later revision in the packet changes."""
    state = fold(e for e in events if e.effective_date <= request.start)
    in_effect = state is not None and state.status != "draft"
    if not in_effect:
        activated = fold(events)
        version = activated.activated_version if activated is not None else None
        state = fold(e for e in events if version is not None and e.originator_version <= version)
    body: dict[str, Any] = {
        "effective_on": request.start.isoformat(),
        "in_effect": in_effect,
        "document": None,
    }
    if state is None or state.status == "draft":
        return body
    document = plan_document(state, today=request.start)
    for name in _DOCUMENT_ONLY:
        document.pop(name, None)
    body["document"] = document
    return body


def _plain(document: dict[str, Any]) -> dict[str, Any]:
    """An independent copy of a plan document: the fold goes on changing the state it read."""
    copied: dict[str, Any] = orjson.loads(_canonical(document))
    return copied


def _revisions(
    events: Sequence[ev.PlanEvent], request: PacketRequest, late_entry_days: int
) -> list[dict[str, Any]]:
    """Each revision made during the period, as the revision log words it, with its changes
    item by item (the packet's renderer marks the words that changed)."""
    log = {
        entry["version"]: entry for entry in revision_log(events, late_entry_days=late_entry_days)
    }
    out: list[dict[str, Any]] = []
    state: PlanState | None = None
    for event in events:
        if isinstance(event, ev.PlanOpened):
            state = start(event)
            continue
        if state is None:
            continue
        # A draft is still being written: its additions are authoring, shown as the plan it
        # became; a revision is a change to a plan in effect (the rationale rule's sense).
        if (
            state.status == "draft"
            or isinstance(event, _NOT_REVISIONS)
            or not _touches_period(event, request)
        ):
            apply(state, event)
            continue
        before = _plain(plan_document(state, today=state.plan_end_date))
        apply(state, event)
        after = plan_document(state, today=state.plan_end_date)
        changes = document_diff(before, after, sections=_REVISION_SECTIONS)["changes"]
        if not changes:
            continue
        entry = log.get(event.originator_version, {})
        out.append(
            {
                "version": event.originator_version,
                "type": event.event_type,
                "actor": entry.get("actor"),
                "recorded_at": rfc3339(event.recorded_at),
                "effective_date": event.effective_date.isoformat(),
                "entry_kind": event.entry_kind,
                "late_entry": entry.get("late_entry", False),
                "summary": entry.get("summary"),
                "rationales": entry.get("rationales", []),
                "missing_rationale": entry.get("missing_rationale", False),
                "changes": [
                    {k: c[k] for k in ("label", "path", "kind", "before", "after", "summary")}
                    for c in changes
                ],
            }
        )
    return out


def _reviews(
    events: Sequence[ev.PlanEvent],
    state: PlanState,
    request: PacketRequest,
    late: int,
    profile: RuleProfile,
    period_true: bool = True,
) -> dict[str, Any]:
    """The reviews held in the period with their verdicts and score tables, and per measured
    objective the scores administered in the period (the packet draws them as charts).

    ``period_true`` (format 2 on): each chart's caption (the objective's label, statement,
    measure and target date) is the wording in clinical effect on the period's last day, the
    last date the chart describes, not a later revision's; the scores are the chart's as it
    stood at the generation time (a score entered late for a date in the period is in it)."""
    held = [
        r
        for r in review_history(events, late_entry_days=late, profile=profile)
        if _in(date.fromisoformat(r["effective_date"]), request)
    ]
    document = plan_document(state, today=request.end)
    if period_true:
        in_force = fold(e for e in events if e.effective_date <= request.end)
        if in_force is not None:
            wording = plan_document(in_force, today=request.end)
            document = {**document, "objectives": wording["objectives"]}
    marks = [{"label": r["label"], "date": r["effective_date"]} for r in held]
    charts = []
    for objective in document["objectives"]:
        instrument = (objective["measure"] or {}).get("instrument")
        scores = [
            {"administered_on": m["administered_on"], "score": m["score"]}
            for m in document["measurements"]
            # As on the review page: linked to the objective, or unlinked of its instrument.
            if (
                m["objective_id"] == objective["id"]
                or (m["objective_id"] is None and instrument and m["instrument"] == instrument)
            )
            and not m["voided"]
            and _in(date.fromisoformat(m["administered_on"]), request)
        ]
        if objective["measure"] is None and not scores:
            continue
        charts.append(
            {
                "objective_id": objective["id"],
                "label": objective["label"],
                "statement": objective["statement"],
                "measure": objective["measure"],
                "target_date": objective["target_date"],
                "scores": sorted(scores, key=lambda s: s["administered_on"]),
                "reviews": marks,
            }
        )
    return {"reviews": held, "charts": charts}


def _signatures(
    state: PlanState, events: Sequence[ev.PlanEvent], request: PacketRequest, format_: str
) -> dict[str, Any]:
    rows = [signature_row(s) for s in state.signatures.values()]
    for row in rows:
        signed_on = datetime.fromisoformat(row["signed_at"]).date()
        row["after_period"] = signed_on > request.end
    requests = [request_row(state, r) for r in state.signature_requests.values()]
    if format_ == FORMAT_1:
        return {"signatures": rows, "requests": requests}
    return {"signatures": rows, "requests": requests, "coverage": coverage(state, events)}


def _cover_summary(parts: Mapping[str, Any]) -> dict[str, Any]:
    """What the cover says of the dates of service and the signatures, read from the parts
    themselves so that the cover can never disagree with them."""
    lines = parts["dates_of_service"]
    rows = parts["signatures"]["coverage"]
    uncovered = [r for r in rows if not r["clinician"]]
    return {
        "dates_not_ok": [line["date"] for line in lines if not line["ok"]],
        "dates_unsigned_changes": [line["date"] for line in lines if line.get("unsigned_changes")],
        "unsigned_versions": [r["from_version"] for r in uncovered],
    }


def _amendments(state: PlanState, request: PacketRequest) -> list[dict[str, Any]]:
    """Every amendment request on the chart at the generation time, whatever its date: the
    request, the denial, the statement of disagreement and the rebuttal go with any later
    disclosure of the record (45 CFR 164.526(d)(4)), so the packet never leaves one out. Each
    row is the plan document's, with "overdue" judged on the generation date."""
    today = request.generated_at.astimezone(UTC).date()
    return [amendment_row(state, a, today) for a in state.amendments.values()]


def _events(
    events: Sequence[ev.PlanEvent],
    request: PacketRequest,
    chain: Mapping[int, str],
    late_entry_days: int,
) -> list[dict[str, Any]]:
    log = {e["version"]: e for e in revision_log(events, late_entry_days=late_entry_days)}
    out = []
    for event in events:
        if not _touches_period(event, request):
            continue
        entry = log.get(event.originator_version, {})
        actor = event.actor
        out.append(
            {
                "version": event.originator_version,
                "type": event.event_type,
                "recorded_at": rfc3339(event.recorded_at),
                "effective_date": event.effective_date.isoformat(),
                "actor": f"{actor.name} ({actor.role})",
                "entry_kind": event.entry_kind,
                "summary": entry.get("summary") or event.event_type,
                "chain_hash": chain.get(event.originator_version),
            }
        )
    return out


def chart_as_of(events: Sequence[ev.PlanEvent], moment: datetime) -> list[ev.PlanEvent]:
    """The events recorded by ``moment``: the chart as it stood then (recorded time never
    decreases within a plan, so this is a prefix of the history)."""
    return [e for e in events if e.recorded_at <= moment]


def build_packet(
    request: PacketRequest,
    events: Sequence[ev.PlanEvent],
    chain: Mapping[int, str],
    profile: RuleProfile,
    *,
    late_entry_days: int,
    format_: str = PACKET_FORMAT,
) -> Packet:
    """The packet for ``request`` from the plan's events (all of them: the chart is cut at the
    generation time here) and each version's stored chain hash, laid out as ``format_``
    (``FORMAT_1`` only to rebuild a packet handed out before format 2)."""
    if format_ not in FORMATS:
        raise InvalidInput.on("packet", f"unknown packet format {format_!r}")
    legacy = format_ == FORMAT_1
    rules = (
        profile.model_copy(update={"disabled": profile.disabled | {"UNSIGNED_CHANGES"}})
        if legacy
        else profile
    )
    recorded = chart_as_of(events, request.generated_at)
    state = fold(recorded)
    if state is None:
        raise NotFound(
            f"plan {request.plan_id} had not been opened by {rfc3339(request.generated_at)}"
        )
    parts: dict[str, Any] = {
        "cover": _cover(request, state, chain),
        "plan": _plan_at_start(recorded, request),
        "revisions": _revisions(recorded, request, late_entry_days),
        "reviews": _reviews(recorded, state, request, late_entry_days, profile, not legacy),
        "signatures": _signatures(state, recorded, request, format_),
        "amendments": _amendments(state, request),
        "dates_of_service": service_date_lines(
            [recorded], list(request.dates), rules, coverage=not legacy
        )
        if request.dates
        else [],
        "findings": period_findings(
            recorded, rules, request.start, request.end, run_messages=not legacy
        ),
        "events": _events(recorded, request, chain, late_entry_days),
    }
    if not legacy:
        parts["cover"]["summary"] = _cover_summary(parts)
    digests, digest = digest_of(parts, format_)
    return Packet(request, state.version, profile, parts, digests, digest, format_)


def differing_parts(expected: Mapping[str, str], packet: Packet) -> list[str]:
    """The parts whose digest in a packet's manifest differs from the packet built again."""
    return [name for name in PARTS if expected.get(name) != packet.digests[name]]
