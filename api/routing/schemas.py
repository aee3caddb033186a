"""Request and response models of the HTTP API: the OpenAPI schema's components.

Request bodies reuse the domain's input types (``ClinicalText``, ``ShortText``, ``ItemId``,
``IcdCode``, ``Score``: lengths, no NUL, no lone surrogates, finite numbers), refuse unknown
fields and carry the common write fields (``effective_date``, ``rationale``, ``entry_kind``).
The same body is then turned into a domain command by ``plantrail.domain.parsing``, so the HTTP
API cannot accept what the engine refuses. Response models name the contract's fields and allow
more (projections may add detail without breaking clients).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from plantrail.domain.commands import IcdCode, ItemId
from plantrail.domain.validation import ClinicalText, Score, ShortText, check_text
from plantrail.domain.values import (
    DenialBasis,
    Direction,
    EntryKind,
    GoalStatus,
    Keep,
    NoteKind,
    ObjectiveStatus,
    ReviewReason,
    SafetyContactKind,
    ServiceType,
    SignatureMeaning,
    SignerRole,
)
from plantrail.projections import icd10

UserId = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$", examples=["dana-reyes"]),
]
"""A user id as ``plantrail users add`` makes it."""

Version = Annotated[int, Field(ge=1, le=2**31 - 1)]

FilterText = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(check_text)]


def _iso_date(value: object) -> object:
    """Only ``YYYY-MM-DD`` is a date here (no timestamps, no date-times), as the schema says."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("is not a valid date (use YYYY-MM-DD)") from None
    raise ValueError("is not a valid date (use YYYY-MM-DD)")


ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A calendar date written ``YYYY-MM-DD``."""


class Body(BaseModel):
    """Strict: a JSON type other than the schema's is refused, never coerced ("5" is no
    number, 1772409600 no date)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class WriteFields(Body):
    """Fields every write body accepts."""

    effective_date: IsoDate | None = Field(
        None, description="Clinical date the entry applies to (default today; never future)"
    )
    rationale: ClinicalText | None = Field(
        None, description="Why: required for revisions, status changes and removals once active"
    )
    entry_kind: EntryKind | None = Field(
        None, description="original (default), amendment, correction or delayed_entry"
    )


WRITE_FIELDS = frozenset(WriteFields.model_fields)


# ---------------------------------------------------------------------------------- plans
class ClientBody(Body):
    id: ShortText = Field(description="The practice's client identifier (MRN)")
    name: ShortText
    date_of_birth: IsoDate


class ParticipantBody(Body):
    name: ShortText
    role: ShortText = Field(description="Their part: group member, partner, parent, ...")
    client_id: ShortText | None = Field(None, description="Their own client id (MRN), if any")


class OpenPlanBody(WriteFields):
    client: ClientBody
    clinician_id: UserId | None = Field(None, description="Default: the caller")
    supervisor_id: UserId | None = Field(
        None, description="Default: the clinician's supervisor, when they have exactly one"
    )
    plan_end_date: IsoDate
    review_interval_days: Annotated[int, Field(ge=7, le=365)] = 90
    service_type: ServiceType = "individual"
    session_minutes: Annotated[int, Field(ge=10, le=480)] = 53
    participants: Annotated[list[ParticipantBody], Field(max_length=50)] = Field(
        [], description="Required (besides the client) for group, family and couples plans"
    )


class DiagnosisBody(WriteFields):
    code: IcdCode
    description: ShortText
    primary: bool = False


class ProblemBody(WriteFields):
    statement: ClinicalText
    diagnosis_codes: Annotated[list[IcdCode], Field(max_length=20)] = []


class ProblemPatch(WriteFields):
    statement: ClinicalText | None = None
    diagnosis_codes: Annotated[list[IcdCode], Field(max_length=20)] | None = None
    status: Literal["resolved"] | None = None


class GoalBody(WriteFields):
    statement: ClinicalText
    problem_ids: Annotated[list[ItemId], Field(max_length=20)] = []
    client_words: ClinicalText | None = None


class GoalPatch(WriteFields):
    statement: ClinicalText | None = None
    problem_ids: Annotated[list[ItemId], Field(max_length=20)] | None = None
    client_words: ClinicalText | None = None
    status: GoalStatus | None = None


class MeasureBody(Body):
    instrument: ShortText
    baseline: Score | None = None
    target: Score | None = None
    direction: Direction = "decrease"
    unit: ShortText | None = None
    threshold: Score | None = Field(
        None, description="maintain only (required): the score to stay at or on the right side of"
    )
    keep: Keep | None = Field(None, description="maintain only (required): at_most or at_least")


class ObjectiveBody(WriteFields):
    goal_id: ItemId
    statement: ClinicalText
    measure: MeasureBody | None = None
    target_date: IsoDate | None = None


class ObjectivePatch(WriteFields):
    statement: ClinicalText | None = None
    measure: MeasureBody | None = None
    target_date: IsoDate | None = None


class ObjectiveStatusBody(WriteFields):
    status: ObjectiveStatus
    evidence: ClinicalText | None = None


class InterventionBody(WriteFields):
    modality: ShortText
    technique: ClinicalText
    frequency: ShortText
    objective_ids: Annotated[list[ItemId], Field(max_length=50)] = []


class InterventionPatch(WriteFields):
    modality: ShortText | None = None
    technique: ClinicalText | None = None
    frequency: ShortText | None = None
    objective_ids: Annotated[list[ItemId], Field(max_length=50)] | None = None
    status: Literal["discontinued"] | None = None


class MeasurementBody(WriteFields):
    instrument: ShortText
    score: Score
    administered_on: IsoDate
    objective_id: ItemId | None = None


class TextBody(WriteFields):
    text: ClinicalText


class TimelineBody(WriteFields):
    estimated_sessions: Annotated[int, Field(ge=1, le=1000)]
    session_frequency: ShortText


class DischargeCriteriaBody(WriteFields):
    criteria: Annotated[list[ClinicalText], Field(min_length=1, max_length=50)]


class SafetyContactBody(Body):
    name: ShortText
    kind: SafetyContactKind = Field(description="support, professional or crisis_line")
    phone: ShortText | None = None


class SafetyPlanBody(WriteFields):
    warning_signs: Annotated[list[ClinicalText], Field(min_length=1, max_length=50)]
    coping_strategies: Annotated[list[ClinicalText], Field(min_length=1, max_length=50)]
    contacts: Annotated[list[SafetyContactBody], Field(min_length=1, max_length=50)]
    means_restriction: Annotated[list[ClinicalText], Field(max_length=50)] = []


class RationaleBody(WriteFields):
    text: ClinicalText
    explains_version: Version
    kind: NoteKind = Field(
        "rationale",
        description="rationale (clinicians), rationale_request or comment (supervisors)",
    )


class StartReviewBody(WriteFields):
    reason: ReviewReason = "scheduled"


class AssessmentBody(Body):
    objective_id: ItemId
    status: ObjectiveStatus
    note: ClinicalText | None = None
    rationale: ClinicalText | None = Field(
        None, description="Required to reopen a met objective (status other than met)"
    )


class CompleteReviewBody(WriteFields):
    assessments: Annotated[list[AssessmentBody], Field(max_length=200)]
    progress_summary: ClinicalText
    client_input: ClinicalText | None = None
    next_review_date: IsoDate | None = None
    continuation_reason: ClinicalText | None = Field(
        None,
        description="Why continuing the plan unchanged is clinically right: required when the "
        "review would be judged copied forward or nearly copied forward (see `?dry_run=true`)",
    )


class SignatureBody(WriteFields):
    role: SignerRole
    meaning: SignatureMeaning
    signer_name: ShortText | None = Field(
        None, description="Required for a client or guardian; default the caller's own name"
    )
    signer_credentials: ShortText | None = Field(
        None, description="Default the caller's credentials when the caller signs"
    )


class SignatureRequestBody(WriteFields):
    role: SignerRole
    meaning: SignatureMeaning
    signer_id: UserId


class DischargeBody(WriteFields):
    reason: ClinicalText


class RenewBody(WriteFields):
    plan_end_date: IsoDate = Field(
        description="The renewed plan's end date: after the current one, within a year"
    )
    continuation_reason: ClinicalText | None = Field(
        None,
        description="Why renewing the plan's language unchanged is clinically right: required "
        "when the renewal would be judged copied forward or nearly copied forward",
    )


# ---------------------------------------------------- amendment requests (45 CFR 164.526)
class AmendmentRequestBody(WriteFields):
    concerns: ClinicalText = Field(description="The part of the plan the request is about")
    item_ids: Annotated[list[ItemId], Field(max_length=50)] = Field(
        [], description="The plan items concerned (diagnoses by code), when the request names them"
    )
    requested_change: ClinicalText = Field(description="What the client asks to change")
    reason: ClinicalText = Field(description="Why, in the client's words")
    received_on: IsoDate | None = Field(
        None,
        description="The day the written request was received; the 60-day deadline runs from "
        "it. Required when the clinician records it; a client's own request is received today",
    )
    requested_by: ShortText | None = Field(
        None,
        description="The client, or their personal representative. Required when the clinician "
        "records it; a client's own request is under the plan's name for them",
    )


class AmendmentExtensionBody(WriteFields):
    new_due_date: IsoDate = Field(
        description="After the current due date, at most 30 days after the original one"
    )
    reason: ClinicalText = Field(description="The written statement of the reason for the delay")


class AmendmentAcceptBody(WriteFields):
    carried_out_in_version: Version = Field(
        description="The plan version (labelled entry_kind amendment) whose revision amends it"
    )
    notified: ClinicalText = Field(description="Who was told of the amendment")


class AmendmentDenyBody(WriteFields):
    denial_basis: DenialBasis = Field(description="The ground of denial (45 CFR 164.526(a)(2))")
    denial_text: ClinicalText = Field(description="The written denial, in plain language")


class DisagreementBody(WriteFields):
    statement: ClinicalText = Field(description="The client's statement of disagreement")


class RebuttalBody(WriteFields):
    rebuttal: ClinicalText = Field(description="The practice's rebuttal")


# ------------------------------------------------------------------------------ responses
class Open(BaseModel):
    """A response object that may carry more fields than those named here."""

    model_config = ConfigDict(extra="allow")


class WriteResult(Open):
    """The answer to every write: the plan's new version, and a created item's id and label."""

    plan_id: str
    version: int
    id: str | None = None
    label: str | None = None


class ContinuationPreview(Open):
    """What completing a review or renewing the plan would be judged now (``?dry_run=true``);
    nothing is stored."""

    verdict: dict[str, Any] | None = Field(
        description="The copy-forward verdict the record would get (as in a review's "
        "`copy_forward`); null when there is nothing to compare with"
    )
    requires_reason: bool = Field(
        description="The verdict is copied_forward or nearly_copied_forward: the write needs a "
        "`continuation_reason`"
    )
    similarity: float | None
    summary_repeated: bool
    unmoved_objectives: list[dict[str, Any]] = Field(
        description="Objectives whose latest score, or not_met status, has not moved over the "
        "rule profile's `stalled_reviews` reviews: objective_id, label, instrument, scores"
    )
    shared_statements: list[dict[str, Any]] = Field(
        description="This plan's objective statements used verbatim in other clients' plans: "
        "objective_id, label, statement, other_clients (a count; never who)"
    )
    message: str = Field(description="One sentence for the clinician")
    version: int = Field(description="The plan version judged")
    applies: bool = Field(
        description="False when the rule does not judge the write (a review not open, a plan "
        "not active)"
    )


class Person(Open):
    user_id: str
    name: str
    credentials: str | None = None
    license_number: str | None = None


class Client(Open):
    id: str
    name: str
    date_of_birth: str


class NextDue(Open):
    """What is due next on an open plan: its review, or its renewal when the plan ends first."""

    kind: Literal["review", "renewal"]
    date: str
    note: str | None = None


class PlanDocument(Open):
    plan_id: str
    version: int
    content_hash: str
    status: str
    client: Client
    clinician: Person
    supervisor: Person | None = None
    effective_date: str
    plan_end_date: str | None = None
    review_interval_days: int
    next_review_due: str | None = None
    next_due: NextDue | None = None
    diagnoses: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    goals: list[dict[str, Any]]
    objectives: list[dict[str, Any]]
    interventions: list[dict[str, Any]]
    measurements: list[dict[str, Any]]
    strengths: list[dict[str, Any]]
    barriers: list[dict[str, Any]]
    timeline: dict[str, Any] | None = None
    discharge_criteria: list[str]
    safety_plan: dict[str, Any] | None = None
    participants: list[dict[str, Any]] = []
    reviews: list[dict[str, Any]]
    signatures: list[dict[str, Any]]


class ActorOut(Open):
    user_id: str
    name: str
    role: str


class EventEntry(Open):
    version: int
    type: str
    recorded_at: str
    effective_date: str
    actor: ActorOut
    entry_kind: str
    rationale: str | None = None
    late_entry: bool
    data: dict[str, Any]


class EventsView(Open):
    plan_id: str
    version: int
    events: list[EventEntry]


class RevisionsView(Open):
    plan_id: str
    version: int
    revisions: list[dict[str, Any]]


class DiffView(Open):
    plan_id: str
    version: int
    from_version: int
    to_version: int


class CopyForward(Open):
    verdict: str = Field(
        description="copied_forward, nearly_copied_forward (detector 2) or updated"
    )
    similarity: float
    changes: list[dict[str, Any]]
    streak: int
    summary_repeated: bool
    detector: int | None = Field(None, description="2; absent from detector 1's answers")
    edits: list[dict[str, Any]] | None = None
    """Detector 2: each small statement edit (path, item, field, description, words_changed,
    similarity)."""
    explanation: str | None = None
    summary_similarity: float | None = None
    summary_nearly_repeated: bool | None = None


class ReviewEntry(Open):
    id: str
    reason: str | None = None
    effective_date: str
    completed_at: str | None = None
    assessments: list[dict[str, Any]]
    progress_summary: str | None = None
    copy_forward: CopyForward | None = None


class ReviewsView(Open):
    plan_id: str
    version: int
    reviews: list[ReviewEntry]


class HeldDates(BaseModel):
    """A run of consecutive days a finding held (both ends included)."""

    from_: str = Field(alias="from")
    to: str
    message: str | None = None
    """The finding's message on the run's last day: worded as on those days (a finding that
    names a date, such as the last review, names the one of its own run)."""


class Finding(Open):
    code: str
    severity: str
    message: str
    item_id: str | None = None
    dates: list[HeldDates] | None = None
    """Over a period (``from``/``to``): the runs of days it held; absent otherwise."""
    first_held: str | None = None
    last_held: str | None = None


class FindingsView(Open):
    plan_id: str
    version: int
    findings: list[Finding]
    from_: str | None = Field(None, alias="from")
    """The period's first day, when one was asked for (absent otherwise)."""
    to: str | None = None
    copy_forward_detector: int | None = None
    """The copy-forward detector the findings were computed with (1 or 2), given with a
    period so that the answer can be computed again the same way."""


class VerifyProblem(Open):
    version: int | None = None
    kind: str
    message: str


class VerifyView(Open):
    plan_id: str
    version: int
    ok: bool
    events_checked: int
    problems: list[VerifyProblem]


class CaseloadRow(Open):
    plan_id: str
    version: int
    client: dict[str, Any]
    clinician: dict[str, Any]
    status: str
    plan_end_date: str | None = None
    next_review_due: str | None = None
    next_due: NextDue | None = None
    review_overdue: bool
    findings_count: int
    flags: list[str] = []


class CaseloadView(Open):
    plans: list[CaseloadRow]


class CaseloadFinding(Finding):
    plan_id: str


class FindingsReport(Open):
    findings: list[CaseloadFinding]
    from_: str | None = Field(None, alias="from")
    to: str | None = None


class CopyForwardReport(Open):
    plans: list[dict[str, Any]]
    reused_objectives: list[dict[str, Any]]


class Health(BaseModel):
    status: Literal["ok"]


class ReadyCheck(BaseModel):
    ok: bool
    seconds: float
    detail: str | None = None


class Ready(BaseModel):
    """``GET /ready``: what was checked (``disk`` on SQLite only), each with its time."""

    status: Literal["ready"]
    checks: dict[str, ReadyCheck]


class Me(Open):
    user_id: str
    name: str
    role: str
    credentials: str | None = None
    supervisees: list[str]
    plan_id: str | None = None
    """A client's: the plan their access link opens."""


CptCode = Annotated[str, Field(pattern=r"^[0-9A-Z]{5}$", examples=["90837"])]
"""A CPT or HCPCS code as billed (five characters, no modifier)."""


class ServiceDateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: IsoDate
    cpt_codes: list[CptCode] = Field(default=[], max_length=20)


class AuditBody(BaseModel):
    """``POST /audits``: one plan or one client (the practice's MRN), and the dates of service."""

    model_config = ConfigDict(extra="forbid")

    plan_id: UUID | None = None
    client_id: ShortText | None = Field(None, description="The client's MRN (practice id)")
    dates_of_service: list[IsoDate | ServiceDateIn] = Field(min_length=1, max_length=1000)
    as_of: AwareDatetime | None = Field(
        None, description="Recorded axis: the record as it stood at this instant (RFC 3339)"
    )

    @model_validator(mode="after")
    def _one_subject(self) -> AuditBody:
        if (self.plan_id is None) == (self.client_id is None):
            raise ValueError("give exactly one of plan_id and client_id")
        return self


class SignatureCheck(Open):
    signed: bool
    signer: str | None = None
    credentials: str | None = None
    signed_on: str | None = None
    recorded_at: str | None = None
    recorded_after_service: bool


class AuditLine(Open):
    date: str
    cpt_codes: list[str]
    plan_id: str | None = None
    plan_version: int | None = None
    plan_in_effect: bool
    clinician_signature: SignatureCheck
    client_signature: SignatureCheck
    plan_effective_date: str | None = None
    plan_age_days: int | None = None
    under_a_year: bool | None = None
    next_review_due: str | None = None
    review_overdue: bool | None = None
    findings: list[Finding]
    ok: bool
    summary: str


class AuditReport(Open):
    lines: list[AuditLine]
    plan_ids: list[str]


_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _search_text(value: str) -> str:
    if found := _ANY_CONTROL.search(value):
        raise ValueError(f"must not contain control characters (found U+{ord(found.group()):04X})")
    return value


SearchText = Annotated[str, Field(max_length=100), AfterValidator(_search_text)]
"""What a user types into a search box: at most 100 characters, no control characters (not even
a newline or a tab). Shorter than two characters, after trimming, it finds nothing."""

SearchLimit = Annotated[int, Field(ge=1, le=50)]


class CodeFound(Open):
    code: str = Field(examples=["F41.1"])
    description: str = Field(examples=["Generalized anxiety disorder"])


class CodeSearch(Open):
    """Billable ICD-10-CM codes for a query (``GET /vocabulary/icd-10-cm`` and the pages' copy
    of it), best first."""

    query: str
    codes: list[CodeFound]

    @classmethod
    def of(cls, query: str, limit: int) -> CodeSearch:
        found = icd10.search(query, limit)
        return cls(
            query=query,
            codes=[CodeFound(code=m.code, description=m.description) for m in found],
        )
