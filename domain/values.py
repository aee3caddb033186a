"""Value types shared by events and commands: people, measures, assessments, vocabularies.

These are plain records: the rules that refuse bad input live in ``validation`` and are applied
to commands, so a stored event always stays readable even after a rule is tightened.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

ServiceType = Literal["individual", "group", "family", "couples"]
PlanStatus = Literal["draft", "active", "discharged"]
ProblemStatus = Literal["active", "resolved"]
GoalStatus = Literal["active", "achieved", "retired"]
ObjectiveStatus = Literal["open", "met", "partially_met", "not_met", "no_longer_relevant"]
InterventionStatus = Literal["active", "discontinued"]
EntryKind = Literal["original", "amendment", "correction", "delayed_entry"]
SignerRole = Literal["clinician", "client", "guardian", "supervisor"]
SignatureMeaning = Literal["authored", "agreed", "reviewed", "approved"]
ReviewReason = Literal[
    "scheduled", "milestone", "client_request", "lack_of_progress", "transition", "crisis"
]
Direction = Literal["decrease", "increase", "maintain"]
"""``maintain``: the score must be *kept* on one side of a threshold (``Measure.keep``)."""
Keep = Literal["at_most", "at_least"]
"""Which side of a maintain objective's threshold is right: PHQ-9 at most 4, 28 days at least."""
SafetyContactKind = Literal["support", "professional", "crisis_line"]
UserRole = Literal["clinician", "supervisor", "auditor", "admin", "system", "client"]
"""Who acted. ``client``: the client themselves, through a client access link (since 0.2.0,
ADR 0016)."""
NoteKind = Literal["rationale", "rationale_request", "comment"]
AmendmentStatus = Literal["open", "accepted", "denied"]
DenialBasis = Literal[
    "not_created_by_practice",
    "not_in_designated_record_set",
    "not_available_for_inspection",
    "accurate_and_complete",
]
"""The grounds on which 45 CFR 164.526(a)(2) lets a provider deny an amendment request."""

AMENDMENT_DECISION_DAYS = 60
"""45 CFR 164.526(b)(2): act on a request no later than 60 days after receiving it."""
AMENDMENT_EXTENSION_DAYS = 30
"""45 CFR 164.526(b)(2)(ii): one extension of at most 30 days, with a written reason."""

OPEN_OBJECTIVE_STATUSES: frozenset[str] = frozenset({"open", "partially_met", "not_met"})
"""Statuses that still need work, hence an assessment at every review."""


class Record(BaseModel):
    """Base of every immutable value: unknown fields are refused, never silently dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    since: ClassVar[str] = "0.1.0"
    """plantrail release that introduced the record."""
    field_since: ClassVar[dict[str, str]] = {}
    """Fields added after the record was introduced, with the release that added them."""


class Actor(Record):
    """Who acted: stamped on every event by the server from the authenticated user."""

    user_id: str
    name: str
    role: UserRole
    credentials: str | None = None


class Guardian(Record):
    """Who consents and signs for a client who is a minor (since 0.3.0)."""

    since = "0.3.0"

    name: str
    relationship: str
    """'mother', 'legal guardian', 'foster parent', ..."""
    phone: str | None = None


class Client(Record):
    """The person in treatment. ``id`` is the practice's own identifier (MRN)."""

    id: str
    name: str
    date_of_birth: date
    guardian: Guardian | None = None
    """Required when the client is under 18 on the plan's effective date (since 0.3.0)."""

    field_since: ClassVar[dict[str, str]] = {"guardian": "0.3.0"}


class Clinician(Record):
    """A treating or supervising professional as named on the plan."""

    user_id: str
    name: str
    credentials: str | None = None
    license_number: str | None = None


class Measure(Record):
    """How an objective is measured: instrument, baseline, target and which way is better."""

    instrument: str
    baseline: float | None = None
    target: float | None = None
    direction: Direction = "decrease"
    unit: str | None = None
    threshold: float | None = None
    """For ``maintain``: the score the measure must stay at or on the right side of."""
    keep: Keep | None = None
    """For ``maintain``: ``at_most`` (stay at or below the threshold) or ``at_least``."""
    scale_min: float | None = None
    """A custom measure's lowest possible score (an instrument of the catalogue has its own)."""
    scale_max: float | None = None
    """A custom measure's highest possible score."""

    field_since: ClassVar[dict[str, str]] = {
        "threshold": "0.2.0",
        "keep": "0.2.0",
        "scale_min": "0.3.0",
        "scale_max": "0.3.0",
    }

    def breaches(self, score: float) -> bool:
        """Whether ``score`` is on the wrong side of a maintain objective's threshold."""
        if self.direction != "maintain" or self.threshold is None or self.keep is None:
            return False
        return score > self.threshold if self.keep == "at_most" else score < self.threshold


class Assessment(Record):
    """A review's judgement of one objective."""

    objective_id: str
    status: ObjectiveStatus
    note: str | None = None
    previous_status: ObjectiveStatus | None = None
    """The objective's status when the review was completed (None in reviews before 0.2.0)."""
    rationale: str | None = None
    """Why a met objective was reopened; required for that since 0.2.0."""

    field_since: ClassVar[dict[str, str]] = {"previous_status": "0.2.0", "rationale": "0.2.0"}

    @property
    def outcome(self) -> str:
        """``confirmed`` (a met objective still met), ``reopened``, or ``assessed``."""
        if self.previous_status == "met":
            return "confirmed" if self.status == "met" else "reopened"
        return "assessed"


class Participant(Record):
    """A person a group, family or couples plan names besides (or with) its client."""

    since = "0.2.0"

    name: str
    role: str
    """Their part in the treatment: 'group member', 'partner', 'parent', ..."""
    client_id: str | None = None
    """Their own client id (MRN) at the practice, when they have one."""


class SafetyContact(Record):
    """Someone a client can reach in a crisis, as the safety plan names them."""

    since = "0.2.0"

    name: str
    kind: SafetyContactKind
    phone: str | None = None
