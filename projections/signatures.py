"""Signature status (docs/domain.md, Projections 7): every signature and open co-signature
request.

A signature is ``current`` while the plan content equals what was signed, ``superseded`` after a
later change (naming the version that superseded it) and ``revoked`` after ``SignatureRevoked``;
a co-signature request nobody has given yet is ``pending``. 21 CFR 11.50 wants the signer's
name, the time and the meaning on every rendering of a signature, so each row carries them, and a
ready-made ``manifestation`` line for screens and printouts.

Signature coverage (docs/audits.md, "Signature coverage"): a signature binds to the content it
signed (21 CFR 11.70), so it covers every version of the plan from the content change it signed
up to the next change of content. ``content_changes`` lists those changes from the events and
``coverage`` says, for each, whose signatures cover it: the clinician's attestation, the
client's (or guardian's) agreement and any co-signature; ``unsigned_changes`` is what the
clinician has not signed of the plan in effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from plantrail.domain import events as ev
from plantrail.domain.plan import Objective, PlanState, Signature, SignatureRequest

__all__ = [
    "ContentChange",
    "content_changes",
    "coverage",
    "covering_clinician_signature",
    "request_row",
    "rfc3339",
    "signature_status",
    "signer_text",
    "unsigned_changes",
    "unsigned_warning",
]


def rfc3339(moment: datetime) -> str:
    """``2026-03-14T09:30:00Z``: UTC, with ``Z`` (microseconds only when there are some)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def signer_text(name: str, credentials: str | None) -> str:
    """'Dana Reyes, LCSW', or the bare name when no credentials were given."""
    return f"{name}, {credentials}" if credentials else name


def _manifestation(signature: Signature) -> str:
    text = (
        f"{signer_text(signature.signer_name, signature.signer_credentials)} "
        f"({signature.role}, {signature.meaning}) signed {rfc3339(signature.signed_at)}"
    )
    if signature.revoked_version is not None:
        return f"{text}; revoked at version {signature.revoked_version}"
    if signature.superseded_by_version is not None:
        return f"{text}; superseded by version {signature.superseded_by_version}"
    return text


def signature_row(signature: Signature) -> dict[str, Any]:
    """One captured signature with its current status."""
    return {
        "id": signature.id,
        "role": signature.role,
        "meaning": signature.meaning,
        "signer_name": signature.signer_name,
        "signer_credentials": signature.signer_credentials,
        "signer_id": signature.signer_id,
        "signed_at": rfc3339(signature.signed_at),
        "signed_version": signature.signed_version,
        "content_hash": signature.content_hash,
        "status": signature.status,
        "superseded_by_version": signature.superseded_by_version,
        "revoked_version": signature.revoked_version,
        "request_id": signature.request_id,
        "manifestation": _manifestation(signature),
    }


def request_row(state: PlanState, request: SignatureRequest) -> dict[str, Any]:
    """One co-signature request: ``pending`` until the named user signs, then ``fulfilled``."""
    signature = state.signatures.get(request.signature_id) if request.signature_id else None
    return {
        "id": request.id,
        "role": request.role,
        "meaning": request.meaning,
        "signer_id": request.signer_id,
        "signer_name": request.signer_name,
        "requested_by": request.requested_by,
        "requested_on": request.effective_date.isoformat(),
        "requested_version": request.added_version,
        "status": "pending" if request.signature_id is None else "fulfilled",
        "signature_id": request.signature_id,
        "signed_at": rfc3339(signature.signed_at) if signature else None,
    }


def signature_status(state: PlanState) -> list[dict[str, Any]]:
    """Every signature (current, superseded or revoked) in the order given, then every pending
    co-signature request, each with name, credentials, time and meaning."""
    rows = [signature_row(s) for s in state.signatures.values()]
    for request in state.signature_requests.values():
        if request.signature_id is not None:
            continue  # fulfilled: the signature itself is listed above
        rows.append(
            {
                "id": request.id,
                "role": request.role,
                "meaning": request.meaning,
                "signer_name": request.signer_name,
                # Not known until the person signs; shown as such rather than left out.
                "signer_credentials": None,
                "signer_id": request.signer_id,
                "signed_at": None,
                "requested_on": request.effective_date.isoformat(),
                "requested_by": request.requested_by,
                "signed_version": None,
                "content_hash": None,
                "status": "pending",
                "superseded_by_version": None,
                "revoked_version": None,
                "request_id": request.id,
                "manifestation": (
                    f"{request.signer_name} ({request.role}, {request.meaning}) pending since "
                    f"{request.effective_date.isoformat()}, requested by {request.requested_by}"
                ),
            }
        )
    return rows


# ------------------------------------------------------------------------ signature coverage
@dataclass(frozen=True)
class ContentChange:
    """One version that changed the plan's signable content (``domain/content.py``)."""

    version: int
    effective_date: str
    items: tuple[str, ...]
    """What it changed, in words ("Objective 2.1", "Discharge criteria")."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "effective_date": self.effective_date,
            "items": list(self.items),
        }


_SECTIONS: dict[type[ev.PlanEvent], str] = {
    ev.StrengthNoted: "Strengths",
    ev.BarrierNoted: "Barriers",
    ev.TimelineSet: "Timeline",
    ev.DischargeCriteriaSet: "Discharge criteria",
    ev.SafetyPlanSet: "Safety plan",
}
_ITEMS: dict[type[ev.PlanEvent], tuple[str, str]] = {
    ev.ProblemAdded: ("problems", "problem_id"),
    ev.ProblemRevised: ("problems", "problem_id"),
    ev.ProblemResolved: ("problems", "problem_id"),
    ev.GoalAdded: ("goals", "goal_id"),
    ev.GoalRevised: ("goals", "goal_id"),
    ev.GoalStatusMarked: ("goals", "goal_id"),
    ev.ObjectiveAdded: ("objectives", "objective_id"),
    ev.ObjectiveRevised: ("objectives", "objective_id"),
    ev.ObjectiveStatusMarked: ("objectives", "objective_id"),
    ev.InterventionAdded: ("interventions", "intervention_id"),
    ev.InterventionRevised: ("interventions", "intervention_id"),
    ev.InterventionDiscontinued: ("interventions", "intervention_id"),
}
_OPEN = Objective.model_fields["status"].default


def _track(statuses: dict[str, str], e: ev.PlanEvent) -> None:
    if isinstance(e, ev.ObjectiveAdded):
        statuses[e.objective_id] = _OPEN
    elif isinstance(e, ev.ObjectiveStatusMarked):
        statuses[e.objective_id] = e.status
    elif isinstance(e, ev.ReviewCompleted):
        for a in e.assessments:
            statuses[a.objective_id] = a.status


def _label(state: PlanState, section: str, item_id: str) -> str:
    item = getattr(state, section).get(item_id)
    return str(item.label) if item is not None else item_id


_STATUS_EVENTS = (ev.ObjectiveAdded, ev.ObjectiveStatusMarked, ev.ReviewCompleted)


def content_changes(
    state: PlanState, events: Sequence[ev.PlanEvent], *, after: int = 0
) -> list[ContentChange]:
    """The versions among ``events`` (one plan's, in version order, folding to ``state``) that
    changed its signable content, each with the items it changed; only those after version
    ``after``. The same events the fold counts as changes (``plan.apply``): a review changes
    content only when it sets an objective's status to a new one."""
    statuses: dict[str, str] = {}
    out: list[ContentChange] = []
    for e in events:
        if e.originator_version <= after:
            # Only what a later review's verdict is compared with: the objectives' statuses.
            # A period's findings ask this on every day, so the rest is skipped (the rule's
            # whole cost).
            if isinstance(e, _STATUS_EVENTS):
                _track(statuses, e)
            continue
        items: tuple[str, ...] = ()
        if isinstance(e, ev.DiagnosisAdded | ev.DiagnosisRemoved):
            items = (f"Diagnosis {e.code}",)
        elif (section := _SECTIONS.get(type(e))) is not None:
            items = (section,)
        elif (where := _ITEMS.get(type(e))) is not None:
            item_id = str(getattr(e, where[1]))
            items = (_label(state, where[0], item_id),)
            if isinstance(e, ev.ObjectiveAdded):
                statuses[item_id] = _OPEN
            elif isinstance(e, ev.ObjectiveStatusMarked):
                statuses[item_id] = e.status
        elif isinstance(e, ev.ReviewCompleted):
            moved = []
            for a in e.assessments:
                if statuses.get(a.objective_id, a.status) != a.status:
                    moved.append(_label(state, "objectives", a.objective_id))
                statuses[a.objective_id] = a.status
            items = tuple(moved)
        if items:
            out.append(ContentChange(e.originator_version, e.effective_date.isoformat(), items))
    return out


def covering_clinician_signature(state: PlanState) -> Signature | None:
    """The clinician's newest unrevoked signature: the attestation the plan in effect rests on."""
    found = [
        s for s in state.signatures.values() if s.role == "clinician" and s.revoked_version is None
    ]
    return max(found, key=lambda s: s.signed_version) if found else None


def unsigned_changes(
    state: PlanState, events: Sequence[ev.PlanEvent]
) -> tuple[Signature | None, list[ContentChange]]:
    """The clinician's covering signature and the changes of content after the version it
    signed ([] while it is current). Before the plan is first signed, nothing: a draft is not
    yet in effect. With every clinician signature revoked, every change since the opening."""
    if state.activated_version is None:
        return None, []
    signature = covering_clinician_signature(state)
    if signature is not None and signature.superseded_by_version is None:
        return signature, []
    since = signature.signed_version if signature is not None else 0
    changes = content_changes(state, events, after=since)
    if signature is not None and not changes:
        # The fold marked it superseded by a change this list cannot word (an event type
        # added later): name the version, never hide it.
        changes = [ContentChange(signature.superseded_by_version or 0, "", ("the plan's content",))]
    return signature, changes


def unsigned_warning(state: PlanState) -> str | None:
    """What a co-signer must know before binding to the plan as it stands: the changes since
    the clinician's signature, read from the state alone (each item's last content change);
    None when the clinician's signature covers the plan."""
    if state.activated_version is None:
        return None
    signature = covering_clinician_signature(state)
    if signature is not None and signature.superseded_by_version is None:
        return None
    since = signature.signed_version if signature is not None else 0
    items = [
        str(item.label)
        for section in ("problems", "goals", "objectives", "interventions")
        for item in getattr(state, section).values()
        if item.changed_version > since
    ]
    changed = f" ({', '.join(items)})" if items else ""
    if signature is None:
        return (
            f"Every clinician signature of this plan was revoked; its content{changed} is "
            "unattested."
        )
    return (
        f"The clinician's signature covers version {signature.signed_version}; the plan changed "
        f"from version {signature.superseded_by_version}{changed} and the clinician has not "
        "signed those changes. Your co-signature would bind to content the clinician has not "
        "attested."
    )


def coverage(state: PlanState, events: Sequence[ev.PlanEvent]) -> list[dict[str, Any]]:
    """For every version of the plan's content (the opening and each change of content), the
    versions it spans and the signatures that cover it: a signature covers the content it
    signed, from the change it signed to the next change of content."""
    changes = content_changes(state, events)
    signed = state.activated_version
    if signed is None:
        return []
    # From the content the clinician first signed: a draft's authoring is not yet in effect.
    first_signed = max([1] + [c.version for c in changes if c.version <= signed])
    starts = [first_signed] + [c.version for c in changes if c.version > first_signed]
    rows = []
    for index, first in enumerate(starts):
        last = starts[index + 1] - 1 if index + 1 < len(starts) else None
        # The first row is the plan as the clinician first signed it, whatever built it.
        change = next((c for c in changes if c.version == first), None) if index else None
        covering = [
            s
            for s in state.signatures.values()
            if s.revoked_version is None
            and s.signed_version >= first
            and (last is None or s.signed_version <= last)
        ]

        def names(roles: tuple[str, ...], found: list[Signature] = covering) -> list[str]:
            return [
                f"{signer_text(s.signer_name, s.signer_credentials)} ({rfc3339(s.signed_at)[:10]})"
                for s in found
                if s.role in roles
            ]

        rows.append(
            {
                "from_version": first,
                "to_version": last,
                "effective_date": change.effective_date
                if change
                else (state.activated_on.isoformat() if state.activated_on else None),
                "changes": list(change.items) if change else [],
                "clinician": names(("clinician",)),
                "client": names(("client", "guardian")),
                "cosignatures": names(("supervisor",)),
            }
        )
    return rows
