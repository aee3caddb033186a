"""The plan document (docs/api.md, "The plan document"): one plan state as JSON-ready data.

Every item carries the entry kind of the entry that last shaped it, because Medicare PIM 3.3.2.5
wants amendments, corrections and delayed entries labelled wherever the entry is shown; the
document also lists every such label by version (``entry_labels``).

Dates are ISO strings, times RFC 3339 UTC with ``Z``. Pure: no store access.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from plantrail.domain.content import content_hash
from plantrail.domain.plan import Amendment, Item, PlanState, Review
from plantrail.domain.values import Record
from plantrail.projections.signatures import request_row, rfc3339, signature_row

__all__ = [
    "RENEWAL_NOTE",
    "amendment_overdue",
    "amendment_row",
    "due_row",
    "iso",
    "last_completed_review",
    "next_due",
    "next_review_due",
    "plan_document",
    "rfc3339",
]


SINCE_OMITTED = (0, 3, 0)
"""Fields a value gained in this release or later appear in documents only when set."""


def record_json(record: Record) -> dict[str, Any]:
    """A value's JSON, with the fields it gained in 0.3.0 or later only when they are set, so
    that the document, the packet and its digests of every plan written before them stay
    byte-identical (a packet handed out earlier still verifies: docs/audits.md)."""
    data = record.model_dump(mode="json")
    for name, release in record.field_since.items():
        if tuple(int(n) for n in release.split(".")) >= SINCE_OMITTED and data.get(name) is None:
            data.pop(name, None)
    return data


def iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def last_completed_review(state: PlanState) -> Review | None:
    """The review completed most recently (by version), if any."""
    done = state.completed_reviews
    return max(done, key=lambda r: r.completed_version or 0) if done else None


def next_review_due(state: PlanState, interval_days: int | None = None) -> date:
    """When the next review is due: the last completed review's next review date, else the
    activation date (or the plan's effective date) plus the review interval.

    ``interval_days`` overrides the plan's own interval (a practice's rule profile); the due date
    is then never later than the review date plus that interval."""
    interval = timedelta(days=interval_days or state.review_interval_days)
    last = last_completed_review(state)
    if last is None:
        return (state.activated_on or state.effective_date) + interval
    base = last.completed_effective_date or last.effective_date
    planned = last.next_review_date or base + interval
    return min(planned, base + interval) if interval_days else planned


RENEWAL_NOTE = "plan ends before the next review; renew or discharge"
"""What the plan view and the caseload say when the due item is the plan's renewal."""


def next_due(state: PlanState, interval_days: int | None = None) -> tuple[str, date]:
    """The next thing due on the plan: ``("review", day)``, or ``("renewal", plan end date)``
    when the plan ends before its next review is due, because a review scheduled after the plan
    has lapsed cannot happen: the clinician must renew (write the next plan) or discharge."""
    review = next_review_due(state, interval_days)
    if state.plan_end_date < review:
        return "renewal", state.plan_end_date
    return "review", review


def due_row(kind: str, day: date) -> dict[str, Any]:
    """``next_due`` as the plan document and the caseload rows show it."""
    return {
        "kind": kind,
        "date": day.isoformat(),
        "note": RENEWAL_NOTE if kind == "renewal" else None,
    }


def _entry(state: PlanState, item: Item) -> dict[str, Any]:
    row: dict[str, Any] = {
        "effective_date": item.effective_date.isoformat(),
        "added_version": item.added_version,
        "changed_version": item.changed_version,
        "entry_kind": state.entry_kinds.get(item.changed_version, "original"),
    }
    if not isinstance(item, Amendment):
        key = getattr(item, "id", None) or getattr(item, "code", None)
        # The amendment requests that concern this item (45 CFR 164.526(c)(1): identify the
        # records affected), so the item is never shown without them.
        row["amendment_ids"] = [a.id for a in state.amendments.values() if key in a.item_ids]
    return row


def amendment_overdue(amendment: Amendment, today: date) -> bool:
    """An open request past its due date (received on + 60 days, or the extended date)."""
    return amendment.status == "open" and today > amendment.due_date


def _labels(state: PlanState) -> dict[str, str]:
    labels = {d.code: f"Diagnosis {d.code}" for d in state.diagnoses.values()}
    for items in (state.problems, state.goals, state.objectives, state.interventions):
        labels.update({i.id: i.label for i in items.values()})
    labels.update({m.id: m.label for m in state.measurements.values()})
    labels.update({r.id: r.label for r in state.reviews.values()})
    return labels


def amendment_row(state: PlanState, amendment: Amendment, today: date) -> dict[str, Any]:
    """One amendment request with its deadline, decision and statements, as the document shows
    it."""
    a = amendment
    labels = _labels(state)
    return {
        "id": a.id,
        "label": a.label,
        "status": a.status,
        "concerns": a.concerns,
        "item_ids": list(a.item_ids),
        "items": [{"id": i, "label": labels.get(i)} for i in a.item_ids],
        "requested_change": a.requested_change,
        "reason": a.reason,
        "received_on": a.received_on.isoformat(),
        "requested_by": a.requested_by,
        "recorded_by": a.recorded_by,
        "original_due_date": a.original_due_date.isoformat(),
        "due_date": a.due_date.isoformat(),
        "overdue": amendment_overdue(a, today),
        "extension": (
            {
                "version": a.extended_version,
                "given_on": iso(a.extended_on),
                "new_due_date": a.due_date.isoformat(),
                "reason": a.extension_reason,
            }
            if a.extended_version is not None
            else None
        ),
        "decision": (
            {
                "status": a.status,
                "version": a.decided_version,
                "decided_on": iso(a.decided_on),
                "decided_by": a.decided_by,
                "late": a.decided_on is not None and a.decided_on > a.due_date,
                "carried_out_in_version": a.carried_out_in_version,
                "notified": a.notified,
                "denial_basis": a.denial_basis,
                "denial_text": a.denial_text,
            }
            if a.decided_version is not None
            else None
        ),
        "disagreement_statement": (
            {
                "version": a.disagreement_version,
                "filed_on": iso(a.disagreement_on),
                "statement": a.disagreement_statement,
            }
            if a.disagreement_version is not None
            else None
        ),
        "rebuttal": (
            {"version": a.rebuttal_version, "filed_on": iso(a.rebuttal_on), "rebuttal": a.rebuttal}
            if a.rebuttal_version is not None
            else None
        ),
        **_entry(state, a),
    }


def _review(state: PlanState, review: Review) -> dict[str, Any]:
    labels = {o.id: o.label for o in state.objectives.values()}
    return {
        "id": review.id,
        "label": review.label,
        "reason": review.reason,
        "status": "completed" if review.completed_version is not None else "in_progress",
        "started_at": rfc3339(review.started_at),
        "completed_at": rfc3339(review.completed_at) if review.completed_at else None,
        "completed_version": review.completed_version,
        "completed_effective_date": iso(review.completed_effective_date),
        "assessments": [
            {
                "objective_id": a.objective_id,
                "label": labels.get(a.objective_id),
                "status": a.status,
                "note": a.note,
                "previous_status": a.previous_status,
                "outcome": a.outcome,
                "rationale": a.rationale,
            }
            for a in review.assessments
        ],
        "progress_summary": review.progress_summary,
        "client_input": review.client_input,
        "next_review_date": iso(review.next_review_date),
        # Only when given (0.3.0): a document of an older history reads as it always did.
        **(
            {"continuation_reason": review.continuation_reason}
            if review.continuation_reason is not None
            else {}
        ),
        **_entry(state, review),
    }


def safety_plan_row(state: PlanState) -> dict[str, Any] | None:
    """The crisis or safety plan section as the plan document shows it (None when not set)."""
    safety = state.safety_plan
    if safety is None:
        return None
    return {
        "warning_signs": list(safety.warning_signs),
        "coping_strategies": list(safety.coping_strategies),
        "contacts": [c.model_dump(mode="json") for c in safety.contacts],
        "means_restriction": list(safety.means_restriction),
        "set_version": safety.set_version,
        "effective_date": safety.effective_date.isoformat(),
    }


def plan_document(state: PlanState, *, today: date | None = None) -> dict[str, Any]:
    """The whole plan as the API's plan document. ``today`` judges ``review_overdue``
    (default: today's UTC date; pass the view's own date for a view of the past)."""
    due = next_review_due(state)
    due_kind, due_on = next_due(state)
    today = today or datetime.now(UTC).date()
    return {
        "plan_id": str(state.plan_id),
        "version": state.version,
        "content_hash": content_hash(state),
        "content_version": state.content_version,
        "status": state.status,
        "client": record_json(state.client),
        "clinician": state.clinician.model_dump(mode="json"),
        "supervisor": state.supervisor.model_dump(mode="json") if state.supervisor else None,
        "effective_date": state.effective_date.isoformat(),
        "plan_end_date": state.plan_end_date.isoformat(),
        "activated_on": iso(state.activated_on),
        "review_interval_days": state.review_interval_days,
        "next_review_due": due.isoformat(),
        "review_overdue": state.status == "active" and today > due,
        "next_due": due_row(due_kind, due_on) if state.status != "discharged" else None,
        "service_type": state.service_type,
        "session_minutes": state.session_minutes,
        "participants": [p.model_dump(mode="json") for p in state.participants],
        "discharged_on": iso(state.discharged_on),
        "discharge_reason": state.discharged_reason,
        "opened_at": rfc3339(state.opened_at),
        "last_recorded_at": rfc3339(state.last_recorded_at),
        "diagnoses": [
            {
                "code": d.code,
                "description": d.description,
                "primary": d.primary,
                **_entry(state, d),
            }
            for d in state.diagnoses.values()
            if d.removed_version is None
        ],
        "problems": [
            {
                "id": p.id,
                "label": p.label,
                "statement": p.statement,
                "diagnosis_codes": list(p.diagnosis_codes),
                "status": p.status,
                **_entry(state, p),
            }
            for p in state.problems.values()
        ],
        "goals": [
            {
                "id": g.id,
                "label": g.label,
                "statement": g.statement,
                "problem_ids": list(g.problem_ids),
                "client_words": g.client_words,
                "status": g.status,
                **_entry(state, g),
            }
            for g in state.goals.values()
        ],
        "objectives": [
            {
                "id": o.id,
                "label": o.label,
                "goal_id": o.goal_id,
                "statement": o.statement,
                "measure": record_json(o.measure) if o.measure else None,
                "target_date": iso(o.target_date),
                "status": o.status,
                "evidence": o.evidence,
                **_entry(state, o),
            }
            for o in state.objectives.values()
        ],
        "interventions": [
            {
                "id": i.id,
                "label": i.label,
                "modality": i.modality,
                "technique": i.technique,
                "frequency": i.frequency,
                "objective_ids": list(i.objective_ids),
                "status": i.status,
                **_entry(state, i),
            }
            for i in state.interventions.values()
        ],
        "measurements": [
            {
                "id": m.id,
                "label": m.label,
                "instrument": m.instrument,
                "score": m.score,
                "administered_on": m.administered_on.isoformat(),
                "objective_id": m.objective_id,
                "recorded_at": rfc3339(m.recorded_at),
                "voided": m.voided_version is not None,
                "voided_version": m.voided_version,
                **_entry(state, m),
            }
            for m in state.measurements.values()
        ],
        "strengths": [{"id": s.id, "text": s.text, **_entry(state, s)} for s in state.strengths],
        "barriers": [{"id": b.id, "text": b.text, **_entry(state, b)} for b in state.barriers],
        "timeline": state.timeline.model_dump(mode="json") if state.timeline else None,
        "discharge_criteria": list(state.discharge_criteria),
        "safety_plan": safety_plan_row(state),
        "reviews": [_review(state, r) for r in state.reviews.values()],
        "signatures": [signature_row(s) for s in state.signatures.values()],
        "signature_requests": [request_row(state, r) for r in state.signature_requests.values()],
        "amendments": [amendment_row(state, a, today) for a in state.amendments.values()],
        "entry_labels": [
            {"version": version, "entry_kind": kind}
            for version, kind in sorted(state.entry_kinds.items())
        ],
        # Only once renewed (0.3.0), as for the reviews' continuation reasons.
        **(
            {"renewals": [r.model_dump(mode="json") for r in state.renewals]}
            if state.renewals
            else {}
        ),
    }
