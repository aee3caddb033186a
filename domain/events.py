"""Every event of a treatment plan: the schema of the legal record.

Events are immutable facts in the past tense. Their fields use plain types on purpose: input
rules (lengths, ranges) are enforced on *commands*, so that tightening a rule later never makes
an old entry of the legal record unreadable. A stored event is never rewritten; when a class
changes shape, raise ``class_version`` and add an ``upcast_vN_vN1`` static method (ADR 0003).

Each class carries an explicit ``TOPIC`` written into the database forever (ADR 0002): renaming
or moving a class must not change it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from plantrail.domain.values import (
    Actor,
    Assessment,
    Client,
    Clinician,
    DenialBasis,
    EntryKind,
    GoalStatus,
    Measure,
    NoteKind,
    ObjectiveStatus,
    Participant,
    ReviewReason,
    SafetyContact,
    ServiceType,
    SignatureMeaning,
    SignerRole,
)

__all__ = [
    "EVENT_CLASSES",
    "REQUIRES_RATIONALE_WHEN_ACTIVE",
    "AmendmentAccepted",
    "AmendmentDeadlineExtended",
    "AmendmentDenied",
    "AmendmentRequested",
    "BarrierNoted",
    "DiagnosisAdded",
    "DiagnosisRemoved",
    "DisagreementStatementFiled",
    "DischargeCriteriaSet",
    "GoalAdded",
    "GoalRevised",
    "GoalStatusMarked",
    "InterventionAdded",
    "InterventionDiscontinued",
    "InterventionRevised",
    "MeasurementRecorded",
    "MeasurementVoided",
    "ObjectiveAdded",
    "ObjectiveRevised",
    "ObjectiveStatusMarked",
    "PlanDischarged",
    "PlanEvent",
    "PlanOpened",
    "PlanRenewed",
    "ProblemAdded",
    "ProblemResolved",
    "ProblemRevised",
    "RationaleRecorded",
    "RebuttalFiled",
    "ReviewCompleted",
    "ReviewStarted",
    "SafetyPlanSet",
    "SignatureCaptured",
    "SignatureRequested",
    "SignatureRevoked",
    "StrengthNoted",
    "TimelineSet",
    "event_class_for_topic",
]


class PlanEvent(BaseModel):
    """Metadata every plan event carries (docs/domain.md, "Events": who, recorded time, effective
    date, entry kind, rationale, command id). The integrity hash is a column of the store,
    computed over the exact stored bytes of this model, so it is not a field here."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TOPIC: ClassVar[str] = ""
    class_version: ClassVar[int] = 1
    since: ClassVar[str] = "0.1.0"
    """plantrail release that introduced the class (shown in docs/events.md)."""
    field_since: ClassVar[dict[str, str]] = {}
    """Fields added after the class was introduced, with the release that added them. Each such
    field has a default, set for older stored events by the class's upcasters (ADR 0003)."""

    originator_id: UUID
    """The plan."""
    originator_version: int
    """Position of this event in the plan's history, from 1, without gaps."""
    recorded_at: datetime
    """Server clock, UTC, when the event was saved. Never taken from the caller."""
    actor: Actor
    effective_date: date
    """The clinical date the entry applies to (defaults to the recorded date)."""
    entry_kind: EntryKind = "original"
    rationale: str | None = None
    command_id: str
    """The caller's idempotency key (or a server-made one) of the command that made the event."""

    @property
    def timestamp(self) -> datetime:
        """eventsourcing's name for the recorded time."""
        return self.recorded_at

    @property
    def event_type(self) -> str:
        return type(self).__name__


# ---------------------------------------------------------------------------------- header
class PlanOpened(PlanEvent):
    """A new plan (one per client episode of care) was opened as a draft."""

    TOPIC = "plantrail:PlanOpened"
    class_version = 3
    """v2 (0.2.0): ``participants``. v3 (0.3.0): ``Client`` gained ``guardian``."""
    field_since = {"participants": "0.2.0"}
    client: Client
    clinician: Clinician
    supervisor: Clinician | None = None
    plan_end_date: date
    review_interval_days: int = 90
    service_type: ServiceType
    session_minutes: int
    participants: list[Participant] = []
    """Who takes part in a group, family or couples plan (empty for an individual plan)."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """0.1.0 plans named no participants."""
        state.setdefault("participants", [])

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Clients before 0.3.0 named no guardian."""
        client = state.get("client")
        if isinstance(client, dict):
            client.setdefault("guardian", None)


class PlanRenewed(PlanEvent):
    """The plan was renewed for a new period (docs/glossary.md, "Renewal"): its end date moves
    to ``plan_end_date``, and the renewed plan is signed again."""

    TOPIC = "plantrail:PlanRenewed"
    since = "0.3.0"
    plan_end_date: date
    previous_end_date: date
    continuation_reason: str | None = None
    """Why renewing the plan's language unchanged is clinically right, when the renewal would
    be judged copied forward."""


class PlanDischarged(PlanEvent):
    """The episode of care ended; the plan becomes read-only."""

    TOPIC = "plantrail:PlanDischarged"
    reason: str


# ------------------------------------------------------------------------------ diagnoses
class DiagnosisAdded(PlanEvent):
    TOPIC = "plantrail:DiagnosisAdded"
    code: str
    """ICD-10-CM code, e.g. F41.1."""
    description: str
    primary: bool = False


class DiagnosisRemoved(PlanEvent):
    TOPIC = "plantrail:DiagnosisRemoved"
    code: str


# ------------------------------------------------------------------------------- problems
class ProblemAdded(PlanEvent):
    TOPIC = "plantrail:ProblemAdded"
    problem_id: str
    label: str
    """'Problem 1': assigned once, never reused."""
    statement: str
    diagnosis_codes: list[str] = []


class ProblemRevised(PlanEvent):
    """Only the fields that changed are set; ``None`` means unchanged."""

    TOPIC = "plantrail:ProblemRevised"
    problem_id: str
    statement: str | None = None
    diagnosis_codes: list[str] | None = None


class ProblemResolved(PlanEvent):
    TOPIC = "plantrail:ProblemResolved"
    problem_id: str


# ---------------------------------------------------------------------------------- goals
class GoalAdded(PlanEvent):
    TOPIC = "plantrail:GoalAdded"
    goal_id: str
    label: str
    statement: str
    problem_ids: list[str] = []
    client_words: str | None = None
    """The goal in the client's own words, when given."""


class GoalRevised(PlanEvent):
    TOPIC = "plantrail:GoalRevised"
    goal_id: str
    statement: str | None = None
    problem_ids: list[str] | None = None
    client_words: str | None = None


class GoalStatusMarked(PlanEvent):
    TOPIC = "plantrail:GoalStatusMarked"
    goal_id: str
    status: GoalStatus


# ----------------------------------------------------------------------------- objectives
def _measure_v1_v2(state: dict[str, Any]) -> None:
    """0.1.0 measures had no maintain threshold."""
    measure = state.get("measure")
    if isinstance(measure, dict):
        measure.setdefault("threshold", None)
        measure.setdefault("keep", None)


def _measure_v2_v3(state: dict[str, Any]) -> None:
    """Measures before 0.3.0 stated no custom range."""
    measure = state.get("measure")
    if isinstance(measure, dict):
        measure.setdefault("scale_min", None)
        measure.setdefault("scale_max", None)


class ObjectiveAdded(PlanEvent):
    TOPIC = "plantrail:ObjectiveAdded"
    class_version = 3
    """v2 (0.2.0): ``Measure`` gained ``threshold`` and ``keep`` (direction ``maintain``).
    v3 (0.3.0): ``Measure`` gained ``scale_min`` and ``scale_max`` (a custom measure's range)."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        _measure_v1_v2(state)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        _measure_v2_v3(state)

    objective_id: str
    label: str
    """'Objective 1.2': goal number and a per-goal sequence, never reused."""
    goal_id: str
    statement: str
    measure: Measure | None = None
    target_date: date | None = None


class ObjectiveRevised(PlanEvent):
    TOPIC = "plantrail:ObjectiveRevised"
    class_version = 3
    """v2 (0.2.0): ``Measure`` gained ``threshold`` and ``keep`` (direction ``maintain``).
    v3 (0.3.0): ``Measure`` gained ``scale_min`` and ``scale_max`` (a custom measure's range)."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        _measure_v1_v2(state)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        _measure_v2_v3(state)

    objective_id: str
    statement: str | None = None
    measure: Measure | None = None
    target_date: date | None = None


class ObjectiveStatusMarked(PlanEvent):
    TOPIC = "plantrail:ObjectiveStatusMarked"
    objective_id: str
    status: ObjectiveStatus
    evidence: str | None = None


# -------------------------------------------------------------------------- interventions
class InterventionAdded(PlanEvent):
    TOPIC = "plantrail:InterventionAdded"
    intervention_id: str
    label: str
    modality: str
    technique: str
    frequency: str
    objective_ids: list[str] = []


class InterventionRevised(PlanEvent):
    TOPIC = "plantrail:InterventionRevised"
    intervention_id: str
    modality: str | None = None
    technique: str | None = None
    frequency: str | None = None
    objective_ids: list[str] | None = None


class InterventionDiscontinued(PlanEvent):
    TOPIC = "plantrail:InterventionDiscontinued"
    intervention_id: str


# --------------------------------------------------------------------------- measurements
class MeasurementRecorded(PlanEvent):
    """A standardised score; its effective date is the day it was administered."""

    TOPIC = "plantrail:MeasurementRecorded"
    measurement_id: str
    label: str
    instrument: str
    score: float
    administered_on: date
    objective_id: str | None = None


class MeasurementVoided(PlanEvent):
    """Marks a measurement entered in error; the original stays visible in the history."""

    TOPIC = "plantrail:MeasurementVoided"
    measurement_id: str


# ---------------------------------------------------------------- strengths, barriers, ...
class StrengthNoted(PlanEvent):
    TOPIC = "plantrail:StrengthNoted"
    strength_id: str
    text: str


class BarrierNoted(PlanEvent):
    TOPIC = "plantrail:BarrierNoted"
    barrier_id: str
    text: str


class TimelineSet(PlanEvent):
    TOPIC = "plantrail:TimelineSet"
    estimated_sessions: int
    session_frequency: str


class DischargeCriteriaSet(PlanEvent):
    """Replaces the whole list of discharge criteria."""

    TOPIC = "plantrail:DischargeCriteriaSet"
    criteria: list[str]


# ------------------------------------------------------------------------------ rationale
class RationaleRecorded(PlanEvent):
    """Explains (or asks for the explanation of) an earlier event, named by its version."""

    TOPIC = "plantrail:RationaleRecorded"
    explains_version: int
    text: str
    kind: NoteKind = "rationale"


# -------------------------------------------------------------------------------- reviews
class ReviewStarted(PlanEvent):
    TOPIC = "plantrail:ReviewStarted"
    review_id: str
    label: str
    reason: ReviewReason


class ReviewCompleted(PlanEvent):
    """Closes a review: every objective assessed (before 0.2.0: every open one), each
    assessment sets its status and records the status it had."""

    TOPIC = "plantrail:ReviewCompleted"
    class_version = 3
    """v2 (0.2.0): ``Assessment`` gained ``previous_status`` and ``rationale``.
    v3 (0.3.0): ``continuation_reason``."""
    field_since = {"continuation_reason": "0.3.0"}
    review_id: str
    assessments: list[Assessment]
    progress_summary: str
    client_input: str | None = None
    next_review_date: date | None = None
    continuation_reason: str | None = None
    """The clinician's statement of why continuing the plan unchanged is clinically right,
    given when the review would be judged copied forward (docs/glossary.md)."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """0.1.0 assessments did not record the previous status or a reopening rationale."""
        for assessment in state.get("assessments", []):
            if isinstance(assessment, dict):
                assessment.setdefault("previous_status", None)
                assessment.setdefault("rationale", None)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Reviews before 0.3.0 recorded no continuation reason."""
        state.setdefault("continuation_reason", None)


# ---------------------------------------------------------------------------- safety plan
class SafetyPlanSet(PlanEvent):
    """The crisis or safety plan section was written or replaced as a whole (the Stanley-Brown
    elements: warning signs, coping strategies, contacts, means restriction)."""

    TOPIC = "plantrail:SafetyPlanSet"
    since = "0.2.0"
    warning_signs: list[str]
    """Thoughts, moods or situations that signal a crisis is developing."""
    coping_strategies: list[str]
    """What the client can do on their own to take their mind off the crisis."""
    contacts: list[SafetyContact]
    """People, professionals and crisis lines to reach, in the order to try them."""
    means_restriction: list[str]
    """Steps agreed to make the environment safe (lethal means counselling)."""


# ----------------------------------------------------------------------------- signatures
class SignatureRequested(PlanEvent):
    """A co-signature was asked of a named user; it stays pending until captured."""

    TOPIC = "plantrail:SignatureRequested"
    request_id: str
    role: SignerRole
    meaning: SignatureMeaning
    signer_id: str
    signer_name: str


class SignatureCaptured(PlanEvent):
    """A signature bound to the hash of the plan content at the version signed (21 CFR 11.70)."""

    TOPIC = "plantrail:SignatureCaptured"
    signature_id: str
    role: SignerRole
    meaning: SignatureMeaning
    signer_name: str
    signer_credentials: str | None = None
    signer_id: str | None = None
    content_hash: str
    signed_version: int
    """The plan version whose content was signed (the version before this event)."""
    request_id: str | None = None


class SignatureRevoked(PlanEvent):
    TOPIC = "plantrail:SignatureRevoked"
    signature_id: str


# ---------------------------------------------------- amendment requests (45 CFR 164.526)
class AmendmentRequested(PlanEvent):
    """The practice received the client's written request to amend the plan (HIPAA right to
    amend). The 60-day clock to act on it starts on ``received_on``."""

    TOPIC = "plantrail:AmendmentRequested"
    amendment_id: str
    label: str
    """'Amendment request 1': assigned once, never reused."""
    concerns: str
    """The part of the plan the request is about, in words."""
    item_ids: list[str] = []
    """The plan items concerned, when the request names them."""
    requested_change: str
    """What the client asks to change."""
    reason: str
    """Why, in the client's words."""
    received_on: date
    """The day the written request was received."""
    requested_by: str
    """The client, or their personal representative."""


class AmendmentDeadlineExtended(PlanEvent):
    """The one extension of the deadline to act on a request, given in writing before the
    deadline with the reason for the delay (164.526(b)(2)(ii))."""

    TOPIC = "plantrail:AmendmentDeadlineExtended"
    amendment_id: str
    new_due_date: date
    reason: str
    """The written statement of the reason for the delay."""


class AmendmentAccepted(PlanEvent):
    """The request was accepted; the amendment itself is the revision at
    ``carried_out_in_version`` (164.526(c))."""

    TOPIC = "plantrail:AmendmentAccepted"
    amendment_id: str
    carried_out_in_version: int
    notified: str
    """Who was told of the amendment: the client and the persons 164.526(c)(3) names."""


class AmendmentDenied(PlanEvent):
    """The request was denied on one of the grounds of 164.526(a)(2), in writing (164.526(d))."""

    TOPIC = "plantrail:AmendmentDenied"
    amendment_id: str
    denial_basis: DenialBasis
    denial_text: str
    """The written denial, in plain language."""


class DisagreementStatementFiled(PlanEvent):
    """The client's statement of disagreement with a denial (164.526(d)(1)(ii))."""

    TOPIC = "plantrail:DisagreementStatementFiled"
    amendment_id: str
    statement: str


class RebuttalFiled(PlanEvent):
    """The practice's rebuttal of a statement of disagreement (164.526(d)(3))."""

    TOPIC = "plantrail:RebuttalFiled"
    amendment_id: str
    rebuttal: str


EVENT_CLASSES: tuple[type[PlanEvent], ...] = (
    PlanOpened,
    DiagnosisAdded,
    DiagnosisRemoved,
    ProblemAdded,
    ProblemRevised,
    ProblemResolved,
    GoalAdded,
    GoalRevised,
    GoalStatusMarked,
    ObjectiveAdded,
    ObjectiveRevised,
    ObjectiveStatusMarked,
    InterventionAdded,
    InterventionRevised,
    InterventionDiscontinued,
    MeasurementRecorded,
    MeasurementVoided,
    StrengthNoted,
    BarrierNoted,
    TimelineSet,
    DischargeCriteriaSet,
    RationaleRecorded,
    ReviewStarted,
    ReviewCompleted,
    SignatureRequested,
    SignatureCaptured,
    SignatureRevoked,
    PlanDischarged,
    AmendmentRequested,
    AmendmentDeadlineExtended,
    AmendmentAccepted,
    AmendmentDenied,
    DisagreementStatementFiled,
    RebuttalFiled,
    SafetyPlanSet,
    PlanRenewed,
)

REQUIRES_RATIONALE_WHEN_ACTIVE: frozenset[type[PlanEvent]] = frozenset(
    {
        DiagnosisRemoved,
        ProblemRevised,
        ProblemResolved,
        GoalRevised,
        GoalStatusMarked,
        ObjectiveRevised,
        ObjectiveStatusMarked,
        InterventionRevised,
        InterventionDiscontinued,
        MeasurementVoided,
        SignatureRevoked,
        PlanRenewed,
    }
)
"""Revisions, status changes, discontinuations, removals and voiding (the rationale rule of
docs/domain.md, "Events")."""

_BY_TOPIC: dict[str, type[PlanEvent]] = {}
for _cls in EVENT_CLASSES:
    if not _cls.TOPIC.startswith("plantrail:") or _cls.TOPIC in _BY_TOPIC:
        # pragma below: a programming error in this module, caught at import time (no test can
        # import a broken events module; the stored topics would be ambiguous)
        raise RuntimeError(  # pragma: no cover
            f"event topic of {_cls.__name__} must be unique and start 'plantrail:'"
        )
    _BY_TOPIC[_cls.TOPIC] = _cls


def event_class_for_topic(topic: str) -> type[PlanEvent]:
    """The event class stored under ``topic`` (KeyError for a topic plantrail never wrote)."""
    return _BY_TOPIC[topic]


def upcast(cls: type[PlanEvent], state: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored event's state up to the class's current shape (ADR 0003)."""
    version = int(state.pop("class_version", 1))
    while version < cls.class_version:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    return state
