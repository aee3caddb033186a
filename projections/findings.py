"""Audit findings of one plan (docs/domain.md, Projections 8), each with a stable code.

Expected clinical problems are data, not exceptions: every finding is ``{"code", "severity",
"message", "item_id", "label"}``. Codes never change meaning once released (the caseload read
models and practices' dashboards key on them); a practice tunes thresholds, severities and which
codes it wants through a ``RuleProfile``. ``FINDINGS`` below documents every code: what it
means, how it is computed, when it clears and which profile setting moves it; the docs are
generated from it.

Deadline findings (review overdue, plan age, missing scores) concern active plans only; a draft
is still being written and a discharged plan is closed. Signature findings start once the
clinician has signed. Findings about the plan's structure apply whatever its status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from plantrail.domain import events as ev
from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import Measurement, PlanState, Signature
from plantrail.domain.values import OPEN_OBJECTIVE_STATUSES
from plantrail.projections.document import (
    amendment_overdue,
    last_completed_review,
    next_review_due,
)
from plantrail.projections.history import is_late
from plantrail.projections.profile import RuleProfile, Severity
from plantrail.projections.reviews import JudgedReview, judged_reviews

# The revision log's own wording of one event, so that a finding quotes the log exactly; only
# the few flagged events are worded here (see ``_FlaggedRevisions``).
from plantrail.projections.revisions import describe_event, describe_opening, needs_rationale
from plantrail.projections.signatures import (
    ContentChange,
    rfc3339,
    signer_text,
    unsigned_changes,
)

__all__ = [
    "FINDINGS",
    "FindingKind",
    "PlanScan",
    "describe",
    "flagged_entry",
    "listed_changes",
    "plan_findings",
    "revision_flags",
    "scan_plan",
    "unsigned_changes_message",
]


@dataclass(frozen=True)
class FindingKind:
    """One documented finding code."""

    code: str
    severity: Severity
    title: str
    computed: str
    """How it is computed and when it clears."""
    setting: str | None = None
    """The ``RuleProfile`` field that moves its threshold, if any."""


FINDINGS: dict[str, FindingKind] = {
    k.code: k
    for k in (
        FindingKind(
            "REVIEW_OVERDUE",
            "error",
            "Review overdue",
            "Active plan whose next review is due before today (the last completed review's next "
            "review date, else the activation date plus the review interval; a practice interval "
            "caps it). Clears when a review is completed.",
            "review_interval_days, review_grace_days",
        ),
        FindingKind(
            "PLAN_TOO_OLD",
            "error",
            "Plan older than a year",
            "Active plan whose effective date is more than the maximum age before today "
            "(Medicare: a plan under a year old). Clears when the plan is discharged and "
            "replaced by a new plan.",
            "plan_max_age_days",
        ),
        FindingKind(
            "PLAN_RENEWAL_DUE",
            "warning",
            "Plan ends before the next review",
            "Active plan whose plan end date comes before its next review is due (computed as "
            "for the overdue review): the item due is the plan's renewal, not a review, so the "
            "plan view and the caseload show the renewal date as what is next. Clears when the "
            "plan is discharged (and replaced by a new plan) or a review sets a next review date "
            "on or before the plan end.",
            "review_interval_days",
        ),
        FindingKind(
            "AMENDMENT_OVERDUE",
            "error",
            "Amendment request not acted on in time",
            "A client's request to amend the plan (45 CFR 164.526) is still open after its due "
            "date: 60 days after the written request was received, or the date of its one "
            "extension of at most 30 days. Reported whatever the plan's status. Clears when the "
            "request is accepted or denied (a late decision is recorded and shown as late).",
        ),
        FindingKind(
            "CLIENT_SIGNATURE_MISSING",
            "error",
            "Client signature missing",
            "Signed plan without any unrevoked client or guardian signature. Clears when the "
            "client (or guardian) signs.",
        ),
        FindingKind(
            "CLIENT_SIGNATURE_SUPERSEDED",
            "warning",
            "Client signature superseded",
            "The client's (or guardian's) latest signature binds to content that a later change "
            "replaced, and no client signature is current; the message names the superseding "
            "version. Clears when the client signs the plan as it stands.",
        ),
        FindingKind(
            "UNSIGNED_CHANGES",
            "error",
            "Changes the clinician has not signed",
            "Signed plan whose content changed after the version its clinician last signed "
            "(every later version that changed the plan language, with the items changed), or "
            "whose clinician signatures are all revoked: the plan in effect is not the plan the "
            "clinician attested (docs/audits.md, Signature coverage). Judged on the plan in "
            "effect, so a change dated after a date of service does not count against it. "
            "Clears when the clinician signs the plan as it stands.",
            "unsigned_change_grace_days",
        ),
        FindingKind(
            "COSIGNATURE_PENDING",
            "warning",
            "Co-signature pending",
            "A requested co-signature (for example a supervisor's approval) not yet given. "
            "Clears when the named user signs with the requested role and meaning.",
        ),
        FindingKind(
            "SIGNATURE_WITHOUT_CREDENTIALS",
            "error",
            "Signature without credentials",
            "Unrevoked clinician or supervisor signature with no credentials (Medicare wants a "
            "signature with credentials). A signature cannot be edited: clears when it is "
            "revoked and signed again with credentials.",
        ),
        FindingKind(
            "OBJECTIVE_WITHOUT_BASELINE",
            "warning",
            "Objective without baseline",
            "Open objective with no measure or no baseline value. Clears when the objective is "
            "revised with a baseline or is no longer open.",
        ),
        FindingKind(
            "OBJECTIVE_WITHOUT_TARGET",
            "warning",
            "Objective without target",
            "Open objective with no measure or no target value. Clears like the baseline finding.",
        ),
        FindingKind(
            "OBJECTIVE_WITHOUT_TARGET_DATE",
            "warning",
            "Objective without target date",
            "Open objective with no target date (not time-bound). Clears when one is set.",
        ),
        FindingKind(
            "MAINTAIN_THRESHOLD_BREACHED",
            "warning",
            "Maintained measure breached its threshold",
            "An objective whose measure must be kept within a range (direction maintain) has, as "
            "its latest score, one on the wrong side of its threshold, whatever its status (a "
            "met maintain objective is met only while its scores stay in range). Clears when a "
            "later score is back in range, the breaching score is voided, or the objective is "
            "no longer relevant.",
        ),
        FindingKind(
            "SAFETY_PLAN_MISSING",
            "error",
            "Safety plan missing",
            "The plan has a diagnosis of suicidal ideation (ICD-10-CM R45.851) or of a suicide "
            "attempt (T14.91) but no safety plan section. Clears when a safety plan is set or "
            "the diagnosis is removed.",
        ),
        FindingKind(
            "DIAGNOSIS_WITHOUT_PROBLEM",
            "warning",
            "Diagnosis without a linked problem",
            "Diagnosis on the plan that no problem names among its diagnosis codes. Clears when "
            "a problem is linked to it or the diagnosis is removed.",
        ),
        FindingKind(
            "NO_DISCHARGE_CRITERIA",
            "warning",
            "No discharge criteria",
            "The plan has no discharge criteria. Clears when they are set.",
        ),
        FindingKind(
            "INTERVENTION_WITHOUT_OBJECTIVE",
            "warning",
            "Intervention linked to no objective",
            "Active intervention that serves no objective. Clears when it is linked to one or "
            "discontinued.",
        ),
        FindingKind(
            "REVIEW_COPIED_FORWARD",
            "warning",
            "Review copied forward",
            "The latest completed reviews changed nothing in the plan language (after "
            "normalising whitespace, case, punctuation and dates), or with detector 2 only "
            "trivially (nearly copied forward: small edits of statements, nothing clinically "
            "meaningful), as many times in a row as the threshold. Clears at the next review "
            "that updates the plan.",
            "copy_forward_streak_threshold",
        ),
        FindingKind(
            "OBJECTIVE_STALLED",
            "warning",
            "Objective not met, plan unchanged",
            "Objective assessed not_met at consecutive reviews with neither it nor any "
            "intervention serving it revised since the first of them: try differently, not "
            "harder. Clears when the objective or one of its interventions is revised (or added, "
            "or discontinued), or its status changes.",
            "stalled_reviews",
        ),
        FindingKind(
            "MEASUREMENT_MISSING",
            "warning",
            "No measurement since the last review",
            "Active plan, open objective measured by an instrument, and no score for that "
            "instrument administered since the last completed review (or the first clinician "
            "signature), once the grace period has passed. Clears when a score is recorded.",
            "measurement_grace_days",
        ),
        FindingKind(
            "RATIONALE_MISSING",
            "error",
            "Revision without rationale",
            "Revision, status change, discontinuation, removal or voiding of an active plan that "
            "carries no rationale and that no later RationaleRecorded explains (histories from "
            "before the rule, or imported). Clears when a rationale is recorded for it.",
        ),
        FindingKind(
            "RATIONALE_REQUESTED",
            "warning",
            "Rationale requested",
            "A supervisor asked for the rationale of an entry and none was recorded after the "
            "request. Clears when a rationale is recorded for that entry.",
        ),
        FindingKind(
            "LATE_ENTRY",
            "info",
            "Late entry without a reason",
            "Entry whose effective date is more than the late-entry days before it was recorded "
            "(labelled a delayed entry) and that states no reason: neither its own rationale "
            "nor a later RationaleRecorded. Clears when the reason for the delay is recorded.",
            "late_entry_days",
        ),
    )
}
"""Every finding code, in the order findings are reported."""


class _Collector:
    def __init__(self, profile: RuleProfile) -> None:
        self.profile = profile
        self.found: list[dict[str, Any]] = []

    def add(
        self, code: str, message: str, item_id: str | None = None, label: str | None = None
    ) -> None:
        if code in self.profile.disabled:
            return
        severity = self.profile.severities.get(code, FINDINGS[code].severity)
        self.found.append(
            {
                "code": code,
                "severity": severity,
                "message": message,
                "item_id": item_id,
                "label": label,
            }
        )


def _signature_label(s: Signature) -> str:
    return (
        f"Signature of {signer_text(s.signer_name, s.signer_credentials)} ({s.role}, {s.meaning})"
    )


def _deadlines(state: PlanState, profile: RuleProfile, today: date, out: _Collector) -> None:
    due = next_review_due(state, profile.review_interval_days)
    late = (today - due).days
    if late > profile.review_grace_days:
        out.add("REVIEW_OVERDUE", f"The review due on {due.isoformat()} is {late} days overdue")
    age = (today - state.effective_date).days
    if age > profile.plan_max_age_days:
        out.add(
            "PLAN_TOO_OLD",
            f"The plan took effect on {state.effective_date.isoformat()}, {age} days ago "
            f"(more than {profile.plan_max_age_days}): write a new plan",
        )
    end = state.plan_end_date
    if end < due:
        when = (
            f"ends on {end.isoformat()}"
            if end >= today
            else f"ended on {end.isoformat()} ({(today - end).days} days ago)"
        )
        out.add(
            "PLAN_RENEWAL_DUE",
            f"The plan {when}, before the next review due on {due.isoformat()}: "
            "the renewal is due, not a review; renew or discharge",
        )


def _amendments(state: PlanState, today: date, out: _Collector) -> None:
    for a in state.amendments.values():
        if amendment_overdue(a, today):
            extended = " (extended)" if a.extended_version is not None else ""
            out.add(
                "AMENDMENT_OVERDUE",
                f"{a.label} from {a.requested_by}, received {a.received_on.isoformat()}, was due "
                f"for a decision by {a.due_date.isoformat()}{extended} and is "
                f"{(today - a.due_date).days} days overdue",
                a.id,
                a.label,
            )


LISTED_CHANGES = 12
"""Changes worded in full in a message; the rest are named by version (every one of them)."""


def listed_changes(changes: Sequence[ContentChange]) -> str:
    """'version 19 (in effect 2025-06-05): Objective 2.1; version 23 (…): …'; past
    ``LISTED_CHANGES``, the others by version only, so a long-unsigned plan stays readable."""
    worded = "; ".join(
        f"version {c.version}"
        + (f" (in effect {c.effective_date})" if c.effective_date else "")
        + f": {', '.join(c.items)}"
        for c in changes[:LISTED_CHANGES]
    )
    rest = changes[LISTED_CHANGES:]
    if not rest:
        return worded
    versions = ", ".join(str(c.version) for c in rest)
    return f"{worded}; and {len(rest)} more: versions {versions}"


def unsigned_changes_message(signature: Signature | None, changes: Sequence[ContentChange]) -> str:
    """The words of an ``UNSIGNED_CHANGES`` finding."""
    listed = listed_changes(changes)
    if signature is None:
        return f"Every clinician signature was revoked; not attested: {listed}"
    return (
        f"{signer_text(signature.signer_name, signature.signer_credentials)} signed version "
        f"{signature.signed_version} on {signature.effective_date.isoformat()}; changed since "
        f"and not signed: {listed}"
    )


def _coverage(
    state: PlanState,
    events: Sequence[PlanEvent],
    profile: RuleProfile,
    today: date,
    out: _Collector,
) -> None:
    if "UNSIGNED_CHANGES" in profile.disabled:
        return  # the scan of the events is the only cost here: skip it when nobody asks
    signature, changes = unsigned_changes(state, events)
    if not changes:
        return
    first = min((c.effective_date for c in changes if c.effective_date), default="")
    if first and (today - date.fromisoformat(first)).days < profile.unsigned_change_grace_days:
        return
    label = "Clinician signature"
    out.add(
        "UNSIGNED_CHANGES",
        unsigned_changes_message(signature, changes),
        signature.id if signature is not None else None,
        label,
    )


def _signatures(state: PlanState, out: _Collector) -> None:
    if state.activated_version is not None:
        client = [
            s
            for s in state.signatures.values()
            if s.role in ("client", "guardian") and s.revoked_version is None
        ]
        if not any(s.status == "current" for s in client):
            if client:
                latest = max(client, key=lambda s: s.signed_version)
                out.add(
                    "CLIENT_SIGNATURE_SUPERSEDED",
                    f"{_signature_label(latest)} of version {latest.signed_version} was superseded "
                    f"by version {latest.superseded_by_version}; the client has not signed the "
                    "plan as it stands",
                    latest.id,
                    _signature_label(latest),
                )
            else:
                out.add(
                    "CLIENT_SIGNATURE_MISSING",
                    f"{state.client.name} has not signed the plan",
                )
    for request in state.signature_requests.values():
        if request.signature_id is None:
            out.add(
                "COSIGNATURE_PENDING",
                f"{request.signer_name} has not yet given the {request.role} signature "
                f"({request.meaning}) requested by {request.requested_by} on "
                f"{request.effective_date.isoformat()}",
                request.id,
                f"Co-signature request to {request.signer_name}",
            )
    for s in state.signatures.values():
        if (
            s.role in ("clinician", "supervisor")
            and not s.signer_credentials
            and s.revoked_version is None
        ):
            out.add(
                "SIGNATURE_WITHOUT_CREDENTIALS",
                f"{_signature_label(s)} at version {s.signed_version} shows no credentials",
                s.id,
                _signature_label(s),
            )


SUICIDE_RISK_CODES = ("R45.851", "T14.91")
"""ICD-10-CM codes that record suicidal ideation or a suicide attempt (and their extensions)."""


def objective_scores(state: PlanState, objective_id: str) -> list[Measurement]:
    """The objective's non-voided scores in clinical order: linked to it, or unlinked scores
    of its instrument (as the review page's charts read them)."""
    objective = state.objectives[objective_id]
    instrument = objective.measure.instrument if objective.measure else None
    scores = [
        m
        for m in state.measurements.values()
        if m.voided_version is None
        and (
            m.objective_id == objective_id
            if m.objective_id is not None
            else instrument is not None and m.instrument.casefold() == instrument.casefold()
        )
    ]
    return sorted(scores, key=lambda m: (m.administered_on, m.recorded_at))


def _maintained(state: PlanState, out: _Collector) -> None:
    for o in state.objectives.values():
        measure = o.measure
        if measure is None or measure.direction != "maintain" or o.status == "no_longer_relevant":
            continue
        scores = objective_scores(state, o.id)
        if scores and measure.breaches(scores[-1].score):
            latest = scores[-1]
            side = "at most" if measure.keep == "at_most" else "at least"
            out.add(
                "MAINTAIN_THRESHOLD_BREACHED",
                f"{o.label} ({o.status}) is to be kept {side} {measure.threshold:g} "
                f"{measure.instrument}, but {latest.label} on "
                f"{latest.administered_on.isoformat()} scored {latest.score:g}",
                o.id,
                o.label,
            )


def _structure(state: PlanState, out: _Collector) -> None:
    for o in state.objectives.values():
        if o.status not in OPEN_OBJECTIVE_STATUSES:
            continue
        if o.measure is None or o.measure.baseline is None:
            out.add("OBJECTIVE_WITHOUT_BASELINE", f"{o.label} has no baseline", o.id, o.label)
        held = o.measure.threshold if o.measure and o.measure.direction == "maintain" else None
        if o.measure is None or (o.measure.target is None and held is None):
            out.add("OBJECTIVE_WITHOUT_TARGET", f"{o.label} has no target value", o.id, o.label)
        if o.target_date is None:
            out.add("OBJECTIVE_WITHOUT_TARGET_DATE", f"{o.label} has no target date", o.id, o.label)
    _maintained(state, out)
    risk = [
        d.code
        for d in state.diagnoses.values()
        if d.removed_version is None and d.code.upper().startswith(SUICIDE_RISK_CODES)
    ]
    if risk and state.safety_plan is None:
        out.add(
            "SAFETY_PLAN_MISSING",
            f"Diagnosis {', '.join(risk)} records suicidal ideation or an attempt, but the plan "
            "has no safety plan",
        )
    linked = {code for p in state.problems.values() for code in p.diagnosis_codes}
    for d in state.diagnoses.values():
        if d.removed_version is None and d.code not in linked:
            out.add(
                "DIAGNOSIS_WITHOUT_PROBLEM",
                f"Diagnosis {d.code} ({d.description}) is not reflected by any problem",
                d.code,
                f"Diagnosis {d.code}",
            )
    if not state.discharge_criteria:
        out.add("NO_DISCHARGE_CRITERIA", "The plan has no discharge criteria")
    for i in state.interventions.values():
        if i.status == "active" and not any(oid in state.objectives for oid in i.objective_ids):
            out.add(
                "INTERVENTION_WITHOUT_OBJECTIVE",
                f"{i.label} ({i.modality}) serves no objective",
                i.id,
                i.label,
            )


def _reviews(
    state: PlanState,
    judged: Sequence[JudgedReview],
    final: PlanState | None,
    profile: RuleProfile,
    today: date,
    out: _Collector,
) -> None:
    if judged and final is not None:
        last = judged[-1].event
        review = final.reviews.get(last.review_id)
        label = review.label if review else None
        verdict = judged[-1].verdict
        streak = verdict["streak"]
        if streak >= profile.copy_forward_streak_threshold:
            in_a_row = f"{streak} copied-forward review{'s' if streak > 1 else ''} in a row"
            if verdict["verdict"] == "nearly_copied_forward":
                edits = "; ".join(f"{e['item']}: {e['description']}" for e in verdict["edits"])
                message = (
                    f"{label} on {last.effective_date.isoformat()} changed only the wording of "
                    f"the plan, nothing clinically meaningful ({edits}) ({in_a_row}, near "
                    "copies included)"
                )
            else:
                message = (
                    f"{label} on {last.effective_date.isoformat()} changed nothing in the plan "
                    f"({in_a_row})"
                )
            if last.continuation_reason is not None:
                message += (
                    "; the clinician stated why continuing unchanged is right: "
                    f"«{last.continuation_reason}»"
                )
            out.add("REVIEW_COPIED_FORWARD", message, last.review_id, label)
    needed = profile.stalled_reviews
    for o in state.objectives.values():
        if o.status != "not_met":
            continue
        verdicts = [
            (a.status, review.event.originator_version)
            for review in judged
            for a in review.event.assessments
            if a.objective_id == o.id
        ][-needed:]
        if len(verdicts) < needed or any(status != "not_met" for status, _ in verdicts):
            continue
        since = verdicts[0][1]
        revised = (o.revised_version or 0) > since or any(
            o.id in i.objective_ids and i.changed_version > since
            for i in state.interventions.values()
        )
        if not revised:
            out.add(
                "OBJECTIVE_STALLED",
                f"{o.label} was not met at {needed} consecutive reviews and neither it nor its "
                "interventions were revised: try differently, not harder",
                o.id,
                o.label,
            )
    if state.status != "active":
        return
    last_review = last_completed_review(state)
    since_day = (
        (last_review.completed_effective_date or last_review.effective_date)
        if last_review
        else state.activated_on or state.effective_date
    )
    if today - since_day <= timedelta(days=profile.measurement_grace_days):
        return
    measured = {
        m.instrument.casefold()
        for m in state.measurements.values()
        if m.voided_version is None and m.administered_on > since_day
    }
    what = "the last review" if last_review else "the plan was signed"
    for o in state.objectives.values():
        measure = o.measure
        if (
            o.status in OPEN_OBJECTIVE_STATUSES
            and measure is not None
            and measure.instrument.casefold() not in measured
        ):
            out.add(
                "MEASUREMENT_MISSING",
                f"No {measure.instrument} score for {o.label} since {what} on "
                f"{since_day.isoformat()}",
                o.id,
                o.label,
            )


def revision_flags(
    event: PlanEvent, needs: bool, later: Sequence[ev.RationaleRecorded], late_entry_days: int
) -> tuple[bool, bool, bool]:
    """The three flags of a revision-log entry (missing rationale, rationale requested, late
    entry without a reason) given ``needs`` (``needs_rationale`` on the plan just before it) and
    the ``RationaleRecorded`` notes that explain it. Shared with the period findings, which
    learn the notes of a growing history only as it grows."""
    answered = [n.originator_version for n in later if n.kind == "rationale"]
    requested = [n.originator_version for n in later if n.kind == "rationale_request"]
    missing = (
        not event.rationale and not answered and not isinstance(event, ev.PlanOpened) and needs
    )
    asked = bool(requested) and not any(v > max(requested) for v in answered)
    unexplained = not (event.rationale or later) and is_late(event, late_entry_days)
    return missing, asked, unexplained


def flagged_entry(
    event: PlanEvent, described: tuple[str, str | None, str | None], flags: tuple[bool, bool, bool]
) -> dict[str, Any]:
    """The flagged revision-log entry of ``event``, worded by ``describe_event``."""
    summary, item_id, label = described
    missing, asked, unexplained = flags
    return {
        "version": event.originator_version,
        "summary": summary,
        "item_id": item_id,
        "label": label,
        "recorded_at": rfc3339(event.recorded_at),
        "effective_date": event.effective_date.isoformat(),
        "missing_rationale": missing,
        "rationale_requested": asked,
        "unexplained_late_entry": unexplained,
    }


def describe(state: PlanState | None, event: PlanEvent) -> tuple[str, str | None, str | None]:
    """The revision log's wording of ``event`` on the plan just before it."""
    if isinstance(event, ev.PlanOpened):
        return describe_opening(event)
    assert state is not None  # the fold shows every later event with its plan
    return describe_event(state, event)


class _FlaggedRevisions:
    """The revision-log entries (``revision_log``) that findings report: a missing or requested
    rationale, or a late entry without a reason. It watches a fold (each event with the plan just
    before it) and words only the flagged events: wording every event cost more than all the
    rest of a plan's findings. The flags are computed exactly as ``revision_log`` computes them
    (an equivalence test holds them together)."""

    def __init__(self, events: Sequence[PlanEvent], late_entry_days: int) -> None:
        self.late_entry_days = late_entry_days
        self.notes: dict[int, list[ev.RationaleRecorded]] = defaultdict(list)
        for event in events:
            if isinstance(event, ev.RationaleRecorded):
                self.notes[event.explains_version].append(event)
        self.entries: list[dict[str, Any]] = []

    def __call__(self, state: PlanState | None, event: PlanEvent) -> None:
        later = self.notes.get(event.originator_version)
        if not later and not event.rationale:
            # The common case, nothing explains the entry: the flags below without the lists.
            missing = not isinstance(event, ev.PlanOpened) and needs_rationale(state, event)
            flags = (missing, False, is_late(event, self.late_entry_days))
        else:
            flags = revision_flags(
                event, needs_rationale(state, event), later or [], self.late_entry_days
            )
        if any(flags):
            self.entries.append(flagged_entry(event, describe(state, event), flags))


@dataclass(frozen=True)
class PlanScan:
    """What one fold of a plan's history yields for its findings: the final state, the judged
    reviews and the flagged revision-log entries."""

    state: PlanState | None
    reviews: list[JudgedReview] = field(default_factory=list)
    flagged: list[dict[str, Any]] = field(default_factory=list)


def scan_plan(events: Sequence[PlanEvent], profile: RuleProfile) -> PlanScan:
    """Fold ``events`` once, judging the reviews and flagging the revision log on the way."""
    flagged = _FlaggedRevisions(events, profile.late_entry_days)
    state, judged = judged_reviews(events, before=flagged, profile=profile)
    return PlanScan(state, judged, flagged.entries)


def _log(flagged: Sequence[dict[str, Any]], out: _Collector) -> None:
    for entry in flagged:
        where = f"Version {entry['version']} ({entry['summary']})"
        if entry["missing_rationale"]:
            out.add(
                "RATIONALE_MISSING",
                f"{where} revised the active plan without a rationale",
                entry["item_id"],
                entry["label"],
            )
        if entry["rationale_requested"]:
            out.add(
                "RATIONALE_REQUESTED",
                f"A rationale was requested for version {entry['version']} "
                f"({entry['summary']}) and not yet given",
                entry["item_id"],
                entry["label"],
            )
        if entry["unexplained_late_entry"]:
            out.add(
                "LATE_ENTRY",
                f"{where} was recorded on {entry['recorded_at'][:10]} for "
                f"{entry['effective_date']} without a reason for the delay",
                entry["item_id"],
                entry["label"],
            )


def plan_findings(
    state: PlanState,
    events: Sequence[PlanEvent],
    profile: RuleProfile,
    today: date,
    *,
    scan: PlanScan | None = None,
) -> list[dict[str, Any]]:
    """Every finding of the plan ``state`` (folded from ``events``) as of ``today``, in the
    order of ``FINDINGS``. ``scan`` is ``scan_plan(events, profile)`` when the caller has it."""
    scan = scan or scan_plan(events, profile)
    out = _Collector(profile)
    if state.status == "active":
        _deadlines(state, profile, today, out)
    _amendments(state, today, out)
    _coverage(state, events, profile, today, out)
    _signatures(state, out)
    _structure(state, out)
    _reviews(state, scan.reviews, scan.state, profile, today, out)
    _log(scan.flagged, out)
    order = {code: rank for rank, code in enumerate(FINDINGS)}
    return sorted(out.found, key=lambda f: order[f["code"]])
