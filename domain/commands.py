"""Commands: what a user asks of a plan, validated before any rule is consulted.

A command is a frozen pydantic model whose field types carry the input rules (``validation``):
text without NUL or lone surrogates and under 10,000 characters, finite numbers, range-checked
instrument scores. ``CommandMeta`` is the envelope every command travels in: the actor (stamped by
the server, never the caller), the command id used for idempotency, the version the caller read,
the clinical effective date, the rationale and the entry kind.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from plantrail.domain.validation import ClinicalText, Score, ShortText, ValidMeasure
from plantrail.domain.values import (
    Actor,
    Assessment,
    DenialBasis,
    EntryKind,
    GoalStatus,
    NoteKind,
    ObjectiveStatus,
    ReviewReason,
    SafetyContactKind,
    ServiceType,
    SignatureMeaning,
    SignerRole,
)

ICD10_CODE = r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$"

ItemId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]
IcdCode = Annotated[str, Field(pattern=ICD10_CODE, description="ICD-10-CM code such as F41.1")]


class Command(BaseModel):
    """Base of every command: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CommandMeta(BaseModel):
    """The envelope of a command: who, effective date, entry kind, rationale, command id
    (docs/domain.md, "Events")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: Actor
    command_id: ShortText
    expected_version: Annotated[int, Field(ge=1, le=2**31)] | None = None
    effective_date: date | None = None
    rationale: ClinicalText | None = None
    entry_kind: EntryKind | None = None


class GuardianIn(Command):
    name: ShortText
    relationship: ShortText
    phone: ShortText | None = None


class ClientIn(Command):
    id: ShortText
    name: ShortText
    date_of_birth: date
    guardian: GuardianIn | None = None
    """Required for a client under 18 on the plan's effective date."""

    @model_validator(mode="after")
    def _plausible_birth(self) -> ClientIn:
        if self.date_of_birth.year < 1900:
            raise ValueError("date_of_birth must be after 1900")
        return self


class ClinicianIn(Command):
    user_id: ShortText
    name: ShortText
    credentials: ShortText | None = None
    license_number: ShortText | None = None


class ParticipantIn(Command):
    name: ShortText
    role: ShortText
    client_id: ShortText | None = None


class OpenPlan(Command):
    client: ClientIn
    clinician: ClinicianIn
    supervisor: ClinicianIn | None = None
    plan_end_date: date
    review_interval_days: Annotated[int, Field(ge=7, le=365)] = 90
    service_type: ServiceType = "individual"
    session_minutes: Annotated[int, Field(ge=10, le=480)] = 53
    participants: Annotated[list[ParticipantIn], Field(max_length=50)] = []


class AddDiagnosis(Command):
    code: IcdCode
    description: ShortText
    primary: bool = False


class RemoveDiagnosis(Command):
    code: IcdCode


class AddProblem(Command):
    statement: ClinicalText
    diagnosis_codes: Annotated[list[IcdCode], Field(max_length=20)] = []


class ReviseProblem(Command):
    problem_id: ItemId
    statement: ClinicalText | None = None
    diagnosis_codes: Annotated[list[IcdCode], Field(max_length=20)] | None = None
    status: Literal["resolved"] | None = None


class AddGoal(Command):
    statement: ClinicalText
    problem_ids: Annotated[list[ItemId], Field(max_length=20)] = []
    client_words: ClinicalText | None = None


class ReviseGoal(Command):
    goal_id: ItemId
    statement: ClinicalText | None = None
    problem_ids: Annotated[list[ItemId], Field(max_length=20)] | None = None
    client_words: ClinicalText | None = None
    status: GoalStatus | None = None


class AddObjective(Command):
    goal_id: ItemId
    statement: ClinicalText
    measure: ValidMeasure | None = None
    target_date: date | None = None


class ReviseObjective(Command):
    objective_id: ItemId
    statement: ClinicalText | None = None
    measure: ValidMeasure | None = None
    target_date: date | None = None


class MarkObjectiveStatus(Command):
    objective_id: ItemId
    status: ObjectiveStatus
    evidence: ClinicalText | None = None


class AddIntervention(Command):
    modality: ShortText
    technique: ClinicalText
    frequency: ShortText
    objective_ids: Annotated[list[ItemId], Field(max_length=50)] = []


class ReviseIntervention(Command):
    intervention_id: ItemId
    modality: ShortText | None = None
    technique: ClinicalText | None = None
    frequency: ShortText | None = None
    objective_ids: Annotated[list[ItemId], Field(max_length=50)] | None = None
    status: Literal["discontinued"] | None = None


class RecordMeasurement(Command):
    instrument: ShortText
    score: Score
    administered_on: date
    objective_id: ItemId | None = None


class VoidMeasurement(Command):
    measurement_id: ItemId


class NoteStrength(Command):
    text: ClinicalText


class NoteBarrier(Command):
    text: ClinicalText


class SetTimeline(Command):
    estimated_sessions: Annotated[int, Field(ge=1, le=1000)]
    session_frequency: ShortText


class SetDischargeCriteria(Command):
    criteria: Annotated[list[ClinicalText], Field(min_length=1, max_length=50)]


class RecordRationale(Command):
    text: ClinicalText
    explains_version: Annotated[int, Field(ge=1, le=2**31)]
    kind: NoteKind = "rationale"


class SafetyContactIn(Command):
    name: ShortText
    kind: SafetyContactKind
    phone: ShortText | None = None


class SetSafetyPlan(Command):
    """Write or replace the crisis or safety plan section as a whole."""

    warning_signs: Annotated[list[ClinicalText], Field(min_length=1, max_length=50)]
    coping_strategies: Annotated[list[ClinicalText], Field(min_length=1, max_length=50)]
    contacts: Annotated[list[SafetyContactIn], Field(min_length=1, max_length=50)]
    means_restriction: Annotated[list[ClinicalText], Field(max_length=50)] = []


class StartReview(Command):
    reason: ReviewReason = "scheduled"


class AssessmentIn(Command):
    objective_id: ItemId
    status: ObjectiveStatus
    note: ClinicalText | None = None
    rationale: ClinicalText | None = None
    """Why a met objective is reopened (required for that)."""

    def to_value(self, previous_status: ObjectiveStatus) -> Assessment:
        return Assessment(
            objective_id=self.objective_id,
            status=self.status,
            note=self.note,
            previous_status=previous_status,
            rationale=self.rationale,
        )


class CompleteReview(Command):
    review_id: ItemId
    assessments: Annotated[list[AssessmentIn], Field(max_length=200)]
    progress_summary: ClinicalText
    client_input: ClinicalText | None = None
    next_review_date: date | None = None
    continuation_reason: ClinicalText | None = None
    """Why continuing the plan unchanged is clinically right: required when the review would
    be judged copied forward (docs/glossary.md, "Continuation reason")."""


class RequestSignature(Command):
    role: SignerRole
    meaning: SignatureMeaning
    signer_id: ShortText
    signer_name: ShortText


class CaptureSignature(Command):
    role: SignerRole
    meaning: SignatureMeaning
    signer_name: ShortText
    signer_credentials: ShortText | None = None
    signer_id: ShortText | None = None
    request_id: ItemId | None = None


class RevokeSignature(Command):
    signature_id: ItemId


class RenewPlan(Command):
    """Renew the plan for a new period ending ``plan_end_date`` (docs/glossary.md, "Renewal")."""

    plan_end_date: date
    continuation_reason: ClinicalText | None = None
    """Why renewing the plan's language unchanged is clinically right: required when the
    renewal would be judged copied forward."""


class DischargePlan(Command):
    reason: ClinicalText


# ---------------------------------------------------- amendment requests (45 CFR 164.526)
class RequestAmendment(Command):
    """Record a client's written request to amend the plan, as received."""

    concerns: ClinicalText
    item_ids: Annotated[list[ItemId], Field(max_length=50)] = []
    requested_change: ClinicalText
    reason: ClinicalText
    received_on: date
    requested_by: ShortText


class ExtendAmendmentDeadline(Command):
    amendment_id: ItemId
    new_due_date: date
    reason: ClinicalText


class AcceptAmendment(Command):
    amendment_id: ItemId
    carried_out_in_version: Annotated[int, Field(ge=1, le=2**31)]
    notified: ClinicalText


class DenyAmendment(Command):
    amendment_id: ItemId
    denial_basis: DenialBasis
    denial_text: ClinicalText


class FileDisagreementStatement(Command):
    amendment_id: ItemId
    statement: ClinicalText


class FileRebuttal(Command):
    amendment_id: ItemId
    rebuttal: ClinicalText


PlanCommand = (
    AddDiagnosis
    | RemoveDiagnosis
    | AddProblem
    | ReviseProblem
    | AddGoal
    | ReviseGoal
    | AddObjective
    | ReviseObjective
    | MarkObjectiveStatus
    | AddIntervention
    | ReviseIntervention
    | RecordMeasurement
    | VoidMeasurement
    | NoteStrength
    | NoteBarrier
    | SetTimeline
    | SetDischargeCriteria
    | SetSafetyPlan
    | RecordRationale
    | StartReview
    | CompleteReview
    | RequestSignature
    | CaptureSignature
    | RevokeSignature
    | DischargePlan
    | RenewPlan
    | RequestAmendment
    | ExtendAmendmentDeadline
    | AcceptAmendment
    | DenyAmendment
    | FileDisagreementStatement
    | FileRebuttal
)
"""Every command that acts on an existing plan."""
