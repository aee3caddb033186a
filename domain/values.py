"""Value types shared by events and commands: people, measures, assessments, vocabularies.

These are plain records: the rules that refuse bad input live in ``validation`` and are applied
to commands, so a stored event always stays readable even after a rule is tightened.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

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
Direction = Literal["decrease", "increase"]
UserRole = Literal["clinician", "supervisor", "auditor", "admin", "system", "client"]
"""Who acted. ``client``: the client themselves, through a client access link (ADR 0016)."""
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

INSTRUMENT_RANGES: dict[str, tuple[int, int]] = {
    "PHQ-9": (0, 27),
    "GAD-7": (0, 21),
    "PCL-5": (0, 80),
    "AUDIT": (0, 40),
    "DAST-10": (0, 10),
}
"""Score ranges of the standard instruments plantrail knows by name."""


def canonical_instrument(name: str) -> str:
    """Map 'phq9', 'PHQ 9', 'Phq-9' to the canonical 'PHQ-9'; unknown names pass unchanged."""
    squashed = "".join(ch for ch in name.upper() if ch.isalnum())
    for known in INSTRUMENT_RANGES:
        if squashed == "".join(ch for ch in known if ch.isalnum()):
            return known
    return name


class Record(BaseModel):
    """Base of every immutable value: unknown fields are refused, never silently dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(Record):
    """Who acted: stamped on every event by the server from the authenticated user."""

    user_id: str
    name: str
    role: UserRole
    credentials: str | None = None


class Client(Record):
    """The person in treatment. ``id`` is the practice's own identifier (MRN)."""

    id: str
    name: str
    date_of_birth: date


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


class Assessment(Record):
    """A review's judgement of one objective."""

    objective_id: str
    status: ObjectiveStatus
    note: str | None = None
