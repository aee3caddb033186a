"""The revision log (docs/domain.md, Projections 3): every change with who, both times, what,
and why.

A supervisor reads it to follow a supervisee's reasoning: each entry has the actor, the recorded
time and the clinical effective date, the entry kind (amendments, corrections and delayed entries
are labelled, Medicare PIM 3.3.2.5), whether it is a late entry, one human sentence ("Objective
1.2 target changed from 4 to 7 activities a week"), and its rationales: the event's own plus any
``RationaleRecorded`` that explains it later. A revision of an active plan with no rationale, then
or later, is flagged ``missing_rationale``; a supervisor's request for a rationale that nobody
has answered is flagged ``rationale_requested``.

Summaries need the labels and the values before the change, so the log folds the events as it
goes and words each event against the state just before it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from plantrail.domain import events as ev
from plantrail.domain.plan import PlanState, apply, start
from plantrail.domain.values import Assessment
from plantrail.projections.diff import field_summary, fmt, quote, words
from plantrail.projections.history import is_late
from plantrail.projections.signatures import rfc3339, signer_text

__all__ = ["describe_event", "describe_opening", "needs_rationale", "revision_log"]

Subject = tuple[str, str | None, str | None]
"""(summary, item id, item label) of one event."""


def needs_rationale(state: PlanState | None, event: ev.PlanEvent) -> bool:
    """Whether the domain contract (docs/domain.md, "Events") requires a rationale for ``event``
    on the plan as it stood before it: revisions, status changes, discontinuations, removals and
    voiding of an active plan."""
    if state is None or state.status != "active":
        return False
    if type(event) in ev.REQUIRES_RATIONALE_WHEN_ACTIVE:
        return True
    if isinstance(event, ev.TimelineSet):
        return state.timeline is not None
    if isinstance(event, ev.DischargeCriteriaSet):
        return bool(state.discharge_criteria)
    if isinstance(event, ev.SafetyPlanSet):
        return state.safety_plan is not None
    return False


def _assessed(a: Assessment) -> str:
    """'met', 'confirmed met', 'reopened as open (was met): <rationale>'."""
    if a.outcome == "confirmed":
        return "confirmed met"
    if a.outcome == "reopened":
        why = f": {quote(a.rationale, 80)}" if a.rationale else ""
        return f"reopened as {words(a.status)} (was met){why}"
    return words(a.status)


def _labels(state: PlanState) -> dict[str, str]:
    labels = {p.id: p.label for p in state.problems.values()}
    labels.update({g.id: g.label for g in state.goals.values()})
    labels.update({o.id: o.label for o in state.objectives.values()})
    labels.update({i.id: i.label for i in state.interventions.values()})
    return labels


def _revised(
    state: PlanState,
    section: str,
    label: str,
    before: dict[str, Any],
    changes: dict[str, Any],
) -> str:
    """'; '-joined sentences for each field a revise event set (None means unchanged)."""
    labels = _labels(state)
    after = {**before, **{k: v for k, v in changes.items() if v is not None}}
    parts: list[str] = []
    for field, value in changes.items():
        if value is None or value == before.get(field):
            continue
        old = before.get(field)
        if isinstance(value, dict) and isinstance(old, dict):
            for key in value:
                if value[key] != old.get(key):
                    parts.append(
                        field_summary(
                            section, label, f"{field}.{key}", old.get(key), value[key], item=after
                        )
                    )
        else:
            parts.append(
                field_summary(section, label, field, old, value, item=after, labels=labels)
            )
    return "; ".join(parts) or f"{label} revised (no visible change)"


def describe_opening(e: ev.PlanOpened) -> Subject:
    return (
        f"Plan opened for {e.client.name} ({e.client.id}) by "
        f"{signer_text(e.clinician.name, e.clinician.credentials)}: {e.service_type}, "
        f"{e.session_minutes}-minute sessions, review every {e.review_interval_days} days, "
        f"ends {e.plan_end_date.isoformat()}",
        None,
        None,
    )


def describe_event(state: PlanState, e: ev.PlanEvent) -> Subject:
    """The sentence for ``e`` against ``state``, the plan just before it."""
    if isinstance(e, ev.DiagnosisAdded):
        primary = " (primary)" if e.primary else ""
        return f"Diagnosis {e.code} added: {e.description}{primary}", e.code, f"Diagnosis {e.code}"
    if isinstance(e, ev.DiagnosisRemoved):
        return f"Diagnosis {e.code} removed", e.code, f"Diagnosis {e.code}"
    if isinstance(e, ev.ProblemAdded):
        return f"{e.label} added: {quote(e.statement)}", e.problem_id, e.label
    if isinstance(e, ev.ProblemRevised):
        p = state.problems.get(e.problem_id)
        label = p.label if p else "A problem"
        before: dict[str, Any] = (
            {"statement": p.statement, "diagnosis_codes": p.diagnosis_codes} if p else {}
        )
        changes: dict[str, Any] = {"statement": e.statement, "diagnosis_codes": e.diagnosis_codes}
        return _revised(state, "problems", label, before, changes), e.problem_id, label
    if isinstance(e, ev.ProblemResolved):
        p = state.problems.get(e.problem_id)
        label = p.label if p else "A problem"
        return f"{label} resolved", e.problem_id, label
    if isinstance(e, ev.GoalAdded):
        return f"{e.label} added: {quote(e.statement)}", e.goal_id, e.label
    if isinstance(e, ev.GoalRevised):
        g = state.goals.get(e.goal_id)
        label = g.label if g else "A goal"
        before = (
            {"statement": g.statement, "problem_ids": g.problem_ids, "client_words": g.client_words}
            if g
            else {}
        )
        changes = {
            "statement": e.statement,
            "problem_ids": e.problem_ids,
            "client_words": e.client_words,
        }
        return _revised(state, "goals", label, before, changes), e.goal_id, label
    if isinstance(e, ev.GoalStatusMarked):
        g = state.goals.get(e.goal_id)
        label = g.label if g else "A goal"
        was = g.status if g else None
        return field_summary("goals", label, "status", was, e.status), e.goal_id, label
    if isinstance(e, ev.ObjectiveAdded):
        goal = state.goals.get(e.goal_id)
        under = f" under {goal.label}" if goal else ""
        measure = ""
        if e.measure is not None:
            m = e.measure
            unit = f" {m.unit}" if m.unit else ""
            measure = f"; {m.instrument} from {fmt(m.baseline)} to {fmt(m.target)}{unit}"
        by = f", by {e.target_date.isoformat()}" if e.target_date else ""
        return f"{e.label} added{under}: {quote(e.statement)}{measure}{by}", e.objective_id, e.label
    if isinstance(e, ev.ObjectiveRevised):
        o = state.objectives.get(e.objective_id)
        label = o.label if o else "An objective"
        before = (
            {
                "statement": o.statement,
                "measure": o.measure.model_dump() if o.measure else None,
                "target_date": o.target_date.isoformat() if o.target_date else None,
            }
            if o
            else {}
        )
        changes = {
            "statement": e.statement,
            "measure": e.measure.model_dump() if e.measure else None,
            "target_date": e.target_date.isoformat() if e.target_date else None,
        }
        return _revised(state, "objectives", label, before, changes), e.objective_id, label
    if isinstance(e, ev.ObjectiveStatusMarked):
        o = state.objectives.get(e.objective_id)
        label = o.label if o else "An objective"
        text = field_summary("objectives", label, "status", o.status if o else None, e.status)
        evidence = f": {quote(e.evidence)}" if e.evidence else ""
        return text + evidence, e.objective_id, label
    if isinstance(e, ev.InterventionAdded):
        labels = _labels(state)
        targets = ", ".join(labels.get(i, i) for i in e.objective_ids) or "no objective"
        return (
            f"{e.label} added: {e.modality}, {quote(e.technique, 60)}, {e.frequency}, "
            f"for {targets}",
            e.intervention_id,
            e.label,
        )
    if isinstance(e, ev.InterventionRevised):
        i = state.interventions.get(e.intervention_id)
        label = i.label if i else "An intervention"
        before = (
            {
                "modality": i.modality,
                "technique": i.technique,
                "frequency": i.frequency,
                "objective_ids": i.objective_ids,
            }
            if i
            else {}
        )
        changes = {
            "modality": e.modality,
            "technique": e.technique,
            "frequency": e.frequency,
            "objective_ids": e.objective_ids,
        }
        return _revised(state, "interventions", label, before, changes), e.intervention_id, label
    if isinstance(e, ev.InterventionDiscontinued):
        i = state.interventions.get(e.intervention_id)
        label = i.label if i else "An intervention"
        return f"{label} discontinued", e.intervention_id, label
    if isinstance(e, ev.MeasurementRecorded):
        linked = state.objectives.get(e.objective_id or "")
        target = f" for {linked.label}" if linked else ""
        return (
            f"{e.label}: {e.instrument} {fmt(e.score)} administered "
            f"{e.administered_on.isoformat()}{target}",
            e.measurement_id,
            e.label,
        )
    if isinstance(e, ev.MeasurementVoided):
        voided = state.measurements.get(e.measurement_id)
        if voided is None:
            return "A measurement voided", e.measurement_id, None
        return (
            f"{voided.label} ({voided.instrument} {fmt(voided.score)} on "
            f"{voided.administered_on.isoformat()}) voided",
            voided.id,
            voided.label,
        )
    if isinstance(e, ev.StrengthNoted):
        return f"Strength noted: {quote(e.text)}", e.strength_id, None
    if isinstance(e, ev.BarrierNoted):
        return f"Barrier noted: {quote(e.text)}", e.barrier_id, None
    if isinstance(e, ev.TimelineSet):
        now = f"{e.estimated_sessions} sessions, {e.session_frequency}"
        if state.timeline is None:
            return f"Timeline set: {now}", None, "Timeline"
        t = state.timeline
        return (
            f"Timeline changed from {t.estimated_sessions} sessions, {t.session_frequency} "
            f"to {now}",
            None,
            "Timeline",
        )
    if isinstance(e, ev.DischargeCriteriaSet):
        if not state.discharge_criteria:
            text = "Discharge criteria set: " + "; ".join(quote(c, 60) for c in e.criteria)
        else:
            text = field_summary(
                "discharge_criteria", "Discharge criteria", "", state.discharge_criteria, e.criteria
            )
        return text, None, "Discharge criteria"
    if isinstance(e, ev.SafetyPlanSet):
        verb = "set" if state.safety_plan is None else "revised"
        return (
            f"Safety plan {verb}: {len(e.warning_signs)} warning signs, "
            f"{len(e.coping_strategies)} coping strategies, {len(e.contacts)} contacts "
            f"({'; '.join(c.name for c in e.contacts)}), "
            f"{len(e.means_restriction)} means restriction steps",
            None,
            "Safety plan",
        )
    if isinstance(e, ev.RationaleRecorded):
        what = {
            "rationale": "Rationale",
            "rationale_request": "Rationale requested",
            "comment": "Comment",
        }
        return f"{what[e.kind]} for version {e.explains_version}: {quote(e.text)}", None, None
    if isinstance(e, ev.ReviewStarted):
        return f"{e.label} started ({words(e.reason)})", e.review_id, e.label
    if isinstance(e, ev.ReviewCompleted):
        r = state.reviews.get(e.review_id)
        label = r.label if r else "A review"
        labels = _labels(state)
        assessed = ", ".join(
            f"{labels.get(a.objective_id, a.objective_id)} {_assessed(a)}" for a in e.assessments
        )
        nxt = f"; next review {e.next_review_date.isoformat()}" if e.next_review_date else ""
        why = (
            f"; continued unchanged because {quote(e.continuation_reason)}"
            if e.continuation_reason
            else ""
        )
        return (
            f"{label} completed: {assessed or 'no open objectives'}{nxt}{why}",
            e.review_id,
            label,
        )
    if isinstance(e, ev.SignatureRequested):
        return (
            f"Co-signature requested of {e.signer_name} ({e.role}, {e.meaning})",
            e.request_id,
            None,
        )
    if isinstance(e, ev.SignatureCaptured):
        return (
            f"Signature of {signer_text(e.signer_name, e.signer_credentials)} "
            f"({e.role}, {e.meaning})",
            e.signature_id,
            None,
        )
    if isinstance(e, ev.SignatureRevoked):
        s = state.signatures.get(e.signature_id)
        who = (
            f" of {signer_text(s.signer_name, s.signer_credentials)} ({s.role}, {s.meaning})"
            if s
            else ""
        )
        return f"Signature{who} revoked", e.signature_id, None
    if isinstance(e, ev.PlanDischarged):
        return f"Plan discharged: {quote(e.reason)}", None, None
    if isinstance(e, ev.PlanRenewed):
        why = (
            f"; continued unchanged because {quote(e.continuation_reason)}"
            if e.continuation_reason
            else ""
        )
        return (
            f"Plan renewed until {e.plan_end_date.isoformat()} "
            f"(was {e.previous_end_date.isoformat()}){why}",
            None,
            None,
        )
    if isinstance(e, _AMENDMENT_EVENTS):
        return _describe_amendment(state, e)
    return f"{e.event_type}", None, None


_AMENDMENT_EVENTS = (
    ev.AmendmentRequested,
    ev.AmendmentDeadlineExtended,
    ev.AmendmentAccepted,
    ev.AmendmentDenied,
    ev.DisagreementStatementFiled,
    ev.RebuttalFiled,
)

_DENIAL_BASES = {
    "not_created_by_practice": "not created by the practice",
    "not_in_designated_record_set": "not part of the designated record set",
    "not_available_for_inspection": "not available for inspection",
    "accurate_and_complete": "accurate and complete",
}


def _describe_amendment(state: PlanState, e: ev.PlanEvent) -> Subject:
    """The amendment request events (45 CFR 164.526) in words."""
    if isinstance(e, ev.AmendmentRequested):
        return (
            f"{e.label} received {e.received_on.isoformat()} from {e.requested_by} about "
            f"{quote(e.concerns, 60)}: {quote(e.requested_change)}",
            e.amendment_id,
            e.label,
        )
    amendment_id = str(getattr(e, "amendment_id", ""))
    a = state.amendments.get(amendment_id)
    label = a.label if a else "An amendment request"
    if isinstance(e, ev.AmendmentDeadlineExtended):
        was = f" from {a.due_date.isoformat()}" if a else ""
        text = f"{label}: deadline extended{was} to {e.new_due_date.isoformat()}: {quote(e.reason)}"
    elif isinstance(e, ev.AmendmentAccepted):
        text = (
            f"{label} accepted, amended in version {e.carried_out_in_version}; "
            f"notified: {quote(e.notified, 60)}"
        )
    elif isinstance(e, ev.AmendmentDenied):
        text = (
            f"{label} denied ({_DENIAL_BASES.get(e.denial_basis, e.denial_basis)}): "
            f"{quote(e.denial_text)}"
        )
    elif isinstance(e, ev.DisagreementStatementFiled):
        text = f"{label}: statement of disagreement filed: {quote(e.statement)}"
    elif isinstance(e, ev.RebuttalFiled):
        text = f"{label}: rebuttal filed: {quote(e.rebuttal)}"
    else:  # pragma: no cover - every amendment event is worded above
        text = f"{label}: {e.event_type}"
    return text, amendment_id, label


def _note(event: ev.PlanEvent, text: str, kind: str) -> dict[str, Any]:
    return {
        "version": event.originator_version,
        "kind": kind,
        "text": text,
        "by": {"name": event.actor.name, "role": event.actor.role},
        "recorded_at": rfc3339(event.recorded_at),
    }


def revision_log(
    events: Sequence[ev.PlanEvent], *, late_entry_days: int = 7
) -> list[dict[str, Any]]:
    """Every event of one plan, in version order, as the revision log."""
    notes: dict[int, list[ev.RationaleRecorded]] = defaultdict(list)
    for event in events:
        if isinstance(event, ev.RationaleRecorded):
            notes[event.explains_version].append(event)
    state: PlanState | None = None
    log: list[dict[str, Any]] = []
    for event in events:
        if isinstance(event, ev.PlanOpened):
            (summary, item_id, label), required = describe_opening(event), False
            state = start(event)
        elif state is None:
            continue  # a filtered history can lack its opening: nothing to word it against
        else:
            summary, item_id, label = describe_event(state, event)
            required = needs_rationale(state, event)
            apply(state, event)
        later = notes.get(event.originator_version, [])
        rationales = [_note(event, event.rationale, "rationale")] if event.rationale else []
        rationales += [_note(n, n.text, n.kind) for n in later]
        answered = [n.originator_version for n in later if n.kind == "rationale"]
        requested = [n.originator_version for n in later if n.kind == "rationale_request"]
        log.append(
            {
                "version": event.originator_version,
                "type": event.event_type,
                "actor": event.actor.model_dump(mode="json"),
                "recorded_at": rfc3339(event.recorded_at),
                "effective_date": event.effective_date.isoformat(),
                "entry_kind": event.entry_kind,
                "late_entry": is_late(event, late_entry_days),
                "item_id": item_id,
                "label": label,
                "summary": summary,
                "rationales": rationales,
                "requires_rationale": required,
                "missing_rationale": required and not event.rationale and not answered,
                # An open request: a supervisor asked why, and no rationale came after the asking.
                "rationale_requested": bool(requested)
                and not any(v > max(requested) for v in answered),
            }
        )
    return log
