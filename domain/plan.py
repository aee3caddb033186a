"""The treatment plan as folded from its events: ``PlanState`` and ``apply``.

The fold mutates one ``PlanState`` in place (a 1,000-event plan folds in about a millisecond);
callers that need an older state fold a fresh one. Appliers are tolerant of an item that is
missing, because a clinical-date view (``effective_on``) folds a *filtered* subset of events and
must not crash on an entry whose subject took effect later; the deciders guarantee that a full
history never references a missing item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from plantrail.domain import events as ev
from plantrail.domain.values import (
    AMENDMENT_DECISION_DAYS,
    AmendmentStatus,
    Assessment,
    Client,
    Clinician,
    DenialBasis,
    EntryKind,
    GoalStatus,
    InterventionStatus,
    Measure,
    NoteKind,
    ObjectiveStatus,
    Participant,
    PlanStatus,
    ProblemStatus,
    SafetyContact,
    ServiceType,
    SignatureMeaning,
    SignerRole,
    UserRole,
)


class Item(BaseModel):
    """Common bookkeeping of every plan item: when it took effect and when it last changed."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    added_version: int
    effective_date: date
    changed_version: int


class Diagnosis(Item):
    code: str
    description: str
    primary: bool
    removed_version: int | None = None


class Problem(Item):
    id: str
    label: str
    statement: str
    diagnosis_codes: list[str]
    status: ProblemStatus = "active"


class Goal(Item):
    id: str
    label: str
    statement: str
    problem_ids: list[str]
    client_words: str | None = None
    status: GoalStatus = "active"
    number: int


class Objective(Item):
    id: str
    label: str
    goal_id: str
    statement: str
    measure: Measure | None = None
    target_date: date | None = None
    status: ObjectiveStatus = "open"
    evidence: str | None = None
    revised_version: int | None = None
    """Last version that changed the statement, measure or target date ("try differently")."""


class Intervention(Item):
    id: str
    label: str
    modality: str
    technique: str
    frequency: str
    objective_ids: list[str]
    status: InterventionStatus = "active"


class Measurement(Item):
    """A score; immutable once recorded (voiding replaces it), so states share it (ADR 0017)."""

    model_config = ConfigDict(frozen=True)

    id: str
    label: str
    instrument: str
    score: float
    administered_on: date
    objective_id: str | None = None
    recorded_at: datetime
    voided_version: int | None = None


class Note(Item):
    """A strength or a barrier."""

    id: str
    text: str


class SafetyPlan(BaseModel):
    """The crisis or safety plan section, as last set."""

    warning_signs: list[str]
    coping_strategies: list[str]
    contacts: list[SafetyContact]
    means_restriction: list[str]
    set_version: int
    effective_date: date


class Timeline(BaseModel):
    estimated_sessions: int
    session_frequency: str


class Review(Item):
    """Immutable (completing replaces it), so states share it (ADR 0017)."""

    model_config = ConfigDict(frozen=True)

    id: str
    label: str
    reason: str
    started_at: datetime
    completed_version: int | None = None
    completed_at: datetime | None = None
    completed_effective_date: date | None = None
    assessments: list[Assessment] = []
    progress_summary: str | None = None
    client_input: str | None = None
    next_review_date: date | None = None
    continuation_reason: str | None = None


class Renewal(BaseModel):
    """One renewal of the plan for a new period (``PlanRenewed``)."""

    model_config = ConfigDict(frozen=True)

    version: int
    effective_date: date
    plan_end_date: date
    previous_end_date: date
    rationale: str | None = None
    continuation_reason: str | None = None


class SignatureRequest(Item):
    id: str
    role: SignerRole
    meaning: SignatureMeaning
    signer_id: str
    signer_name: str
    requested_by: str
    signature_id: str | None = None


class Signature(Item):
    id: str
    role: SignerRole
    meaning: SignatureMeaning
    signer_name: str
    signer_credentials: str | None = None
    signer_id: str | None = None
    signed_at: datetime
    content_hash: str
    signed_version: int
    request_id: str | None = None
    superseded_by_version: int | None = None
    revoked_version: int | None = None

    @property
    def status(self) -> str:
        if self.revoked_version is not None:
            return "revoked"
        if self.superseded_by_version is not None:
            return "superseded"
        return "current"


class Amendment(Item):
    """A client's request to amend the plan (45 CFR 164.526) and what became of it."""

    id: str
    label: str
    concerns: str
    item_ids: list[str]
    requested_change: str
    reason: str
    received_on: date
    requested_by: str
    recorded_by: str
    original_due_date: date
    due_date: date
    """The day by which the practice must act: received on + 60 days, or the extended date."""
    status: AmendmentStatus = "open"
    extended_version: int | None = None
    extended_on: date | None = None
    extension_reason: str | None = None
    decided_version: int | None = None
    decided_on: date | None = None
    decided_by: str | None = None
    carried_out_in_version: int | None = None
    notified: str | None = None
    denial_basis: DenialBasis | None = None
    denial_text: str | None = None
    disagreement_statement: str | None = None
    disagreement_version: int | None = None
    disagreement_on: date | None = None
    rebuttal: str | None = None
    rebuttal_version: int | None = None
    rebuttal_on: date | None = None

    @property
    def versions(self) -> list[int]:
        """The versions of the request's own events (not the revision that amends the plan)."""
        found = (
            self.added_version,
            self.extended_version,
            self.decided_version,
            self.disagreement_version,
            self.rebuttal_version,
        )
        return [v for v in found if v is not None]


class RationaleNote(BaseModel):
    """Immutable once recorded, so states share it (ADR 0017)."""

    model_config = ConfigDict(frozen=True)

    version: int
    explains_version: int
    text: str
    kind: NoteKind
    actor_name: str
    actor_role: UserRole
    recorded_at: datetime


class PlanState(BaseModel):
    """Everything the events say about one plan, at ``version``."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    plan_id: UUID
    version: int = 0
    status: PlanStatus = "draft"
    client: Client
    clinician: Clinician
    supervisor: Clinician | None = None
    effective_date: date
    plan_end_date: date
    review_interval_days: int
    service_type: ServiceType
    session_minutes: int
    participants: list[Participant] = []
    opened_at: datetime
    last_recorded_at: datetime
    activated_version: int | None = None
    activated_on: date | None = None
    discharged_reason: str | None = None
    discharged_on: date | None = None
    renewals: list[Renewal] = []
    """Each renewal for a new period, oldest first (0.3.0)."""
    diagnoses: dict[str, Diagnosis] = {}
    problems: dict[str, Problem] = {}
    goals: dict[str, Goal] = {}
    objectives: dict[str, Objective] = {}
    interventions: dict[str, Intervention] = {}
    measurements: dict[str, Measurement] = {}
    strengths: list[Note] = []
    barriers: list[Note] = []
    timeline: Timeline | None = None
    discharge_criteria: list[str] = []
    safety_plan: SafetyPlan | None = None
    reviews: dict[str, Review] = {}
    signature_requests: dict[str, SignatureRequest] = {}
    signatures: dict[str, Signature] = {}
    rationales: list[RationaleNote] = []
    amendments: dict[str, Amendment] = {}
    """Amendment requests (45 CFR 164.526), by id; they are not plan content."""
    entry_kinds: dict[int, EntryKind] = {}
    """Versions whose entry kind is not 'original' (amendments, corrections, delayed entries)."""
    content_version: int = 1
    """Last version that changed the plan's clinical content (signatures bind to it)."""
    counters: dict[str, int] = {}
    """Label numbering; never decremented, so labels are never reused."""

    def next_number(self, counter: str) -> int:
        """The number the next item of ``counter`` would get (not yet taken)."""
        return self.counters.get(counter, 0) + 1

    @property
    def open_review(self) -> Review | None:
        for review in self.reviews.values():
            if review.completed_version is None:
                return review
        return None

    @property
    def completed_reviews(self) -> list[Review]:
        return [r for r in self.reviews.values() if r.completed_version is not None]


E = TypeVar("E", bound=ev.PlanEvent)
_APPLIERS: dict[type[ev.PlanEvent], Callable[[PlanState, Any], bool]] = {}
"""Each applier mutates the state and returns whether the plan's clinical content changed."""


def _applies(
    cls: type[E],
) -> Callable[[Callable[[PlanState, E], bool]], Callable[[PlanState, E], bool]]:
    def register(fn: Callable[[PlanState, E], bool]) -> Callable[[PlanState, E], bool]:
        _APPLIERS[cls] = fn
        return fn

    return register


def start(event: ev.PlanOpened) -> PlanState:
    """The state right after ``PlanOpened``."""
    state = PlanState(
        plan_id=event.originator_id,
        client=event.client,
        clinician=event.clinician,
        supervisor=event.supervisor,
        effective_date=event.effective_date,
        plan_end_date=event.plan_end_date,
        review_interval_days=event.review_interval_days,
        service_type=event.service_type,
        session_minutes=event.session_minutes,
        participants=list(event.participants),
        opened_at=event.recorded_at,
        last_recorded_at=event.recorded_at,
    )
    _book(state, event)
    return state


def _book(state: PlanState, event: ev.PlanEvent) -> None:
    state.version = event.originator_version
    if event.recorded_at > state.last_recorded_at:
        state.last_recorded_at = event.recorded_at
    if event.entry_kind != "original":
        state.entry_kinds[event.originator_version] = event.entry_kind


def apply(state: PlanState, event: ev.PlanEvent) -> PlanState:
    """Fold one event into ``state`` (in place) and return it."""
    changed = _APPLIERS[type(event)](state, event)
    _book(state, event)
    if changed:
        state.content_version = event.originator_version
        for signature in state.signatures.values():
            if signature.superseded_by_version is None and signature.revoked_version is None:
                signature.superseded_by_version = event.originator_version
    return state


def fold(events: Iterable[ev.PlanEvent], state: PlanState | None = None) -> PlanState | None:
    """Fold ``events`` (in version order) onto ``state``, or from nothing."""
    for event in events:
        if state is None:
            if not isinstance(event, ev.PlanOpened):
                continue  # a filtered view can lack the opening; nothing to show before it
            state = start(event)
        else:
            apply(state, event)
    return state


def _take(state: PlanState, counter: str) -> None:
    state.counters[counter] = state.counters.get(counter, 0) + 1


def _item(event: ev.PlanEvent) -> dict[str, Any]:
    return {
        "added_version": event.originator_version,
        "effective_date": event.effective_date,
        "changed_version": event.originator_version,
    }


@_applies(ev.PlanOpened)
def _opened(state: PlanState, e: ev.PlanOpened) -> bool:
    # pragma below: not reached, since ``fold`` starts a plan at its PlanOpened with ``start``
    # and applies only the events after it; registered because every event class must have an
    # applier (checked at import).
    return False  # pragma: no cover


@_applies(ev.PlanDischarged)
def _discharged(state: PlanState, e: ev.PlanDischarged) -> bool:
    state.status = "discharged"
    state.discharged_reason = e.reason
    state.discharged_on = e.effective_date
    return False


@_applies(ev.PlanRenewed)
def _renewed(state: PlanState, e: ev.PlanRenewed) -> bool:
    state.plan_end_date = e.plan_end_date
    state.renewals = [
        *state.renewals,
        Renewal(
            version=e.originator_version,
            effective_date=e.effective_date,
            plan_end_date=e.plan_end_date,
            previous_end_date=e.previous_end_date,
            rationale=e.rationale,
            continuation_reason=e.continuation_reason,
        ),
    ]
    return True


@_applies(ev.DiagnosisAdded)
def _diagnosis_added(state: PlanState, e: ev.DiagnosisAdded) -> bool:
    state.diagnoses[e.code] = Diagnosis(
        code=e.code, description=e.description, primary=e.primary, **_item(e)
    )
    return True


@_applies(ev.DiagnosisRemoved)
def _diagnosis_removed(state: PlanState, e: ev.DiagnosisRemoved) -> bool:
    diagnosis = state.diagnoses.get(e.code)
    if diagnosis is None:
        return False
    diagnosis.removed_version = e.originator_version
    diagnosis.changed_version = e.originator_version
    return True


@_applies(ev.ProblemAdded)
def _problem_added(state: PlanState, e: ev.ProblemAdded) -> bool:
    _take(state, "problem")
    state.problems[e.problem_id] = Problem(
        id=e.problem_id,
        label=e.label,
        statement=e.statement,
        diagnosis_codes=list(e.diagnosis_codes),
        **_item(e),
    )
    return True


@_applies(ev.ProblemRevised)
def _problem_revised(state: PlanState, e: ev.ProblemRevised) -> bool:
    problem = state.problems.get(e.problem_id)
    if problem is None:
        return False
    if e.statement is not None:
        problem.statement = e.statement
    if e.diagnosis_codes is not None:
        problem.diagnosis_codes = list(e.diagnosis_codes)
    problem.changed_version = e.originator_version
    return True


@_applies(ev.ProblemResolved)
def _problem_resolved(state: PlanState, e: ev.ProblemResolved) -> bool:
    problem = state.problems.get(e.problem_id)
    if problem is None:
        return False
    problem.status = "resolved"
    problem.changed_version = e.originator_version
    return True


@_applies(ev.GoalAdded)
def _goal_added(state: PlanState, e: ev.GoalAdded) -> bool:
    _take(state, "goal")
    state.goals[e.goal_id] = Goal(
        id=e.goal_id,
        label=e.label,
        statement=e.statement,
        problem_ids=list(e.problem_ids),
        client_words=e.client_words,
        number=state.counters["goal"],
        **_item(e),
    )
    return True


@_applies(ev.GoalRevised)
def _goal_revised(state: PlanState, e: ev.GoalRevised) -> bool:
    goal = state.goals.get(e.goal_id)
    if goal is None:
        return False
    if e.statement is not None:
        goal.statement = e.statement
    if e.problem_ids is not None:
        goal.problem_ids = list(e.problem_ids)
    if e.client_words is not None:
        goal.client_words = e.client_words
    goal.changed_version = e.originator_version
    return True


@_applies(ev.GoalStatusMarked)
def _goal_status(state: PlanState, e: ev.GoalStatusMarked) -> bool:
    goal = state.goals.get(e.goal_id)
    if goal is None:
        return False
    goal.status = e.status
    goal.changed_version = e.originator_version
    return True


@_applies(ev.ObjectiveAdded)
def _objective_added(state: PlanState, e: ev.ObjectiveAdded) -> bool:
    _take(state, f"objective:{e.goal_id}")
    state.objectives[e.objective_id] = Objective(
        id=e.objective_id,
        label=e.label,
        goal_id=e.goal_id,
        statement=e.statement,
        measure=e.measure,
        target_date=e.target_date,
        **_item(e),
    )
    return True


@_applies(ev.ObjectiveRevised)
def _objective_revised(state: PlanState, e: ev.ObjectiveRevised) -> bool:
    objective = state.objectives.get(e.objective_id)
    if objective is None:
        return False
    if e.statement is not None:
        objective.statement = e.statement
    if e.measure is not None:
        objective.measure = e.measure
    if e.target_date is not None:
        objective.target_date = e.target_date
    objective.changed_version = objective.revised_version = e.originator_version
    return True


@_applies(ev.ObjectiveStatusMarked)
def _objective_status(state: PlanState, e: ev.ObjectiveStatusMarked) -> bool:
    objective = state.objectives.get(e.objective_id)
    if objective is None:
        return False
    objective.status = e.status
    objective.evidence = e.evidence
    objective.changed_version = e.originator_version
    return True


@_applies(ev.InterventionAdded)
def _intervention_added(state: PlanState, e: ev.InterventionAdded) -> bool:
    _take(state, "intervention")
    state.interventions[e.intervention_id] = Intervention(
        id=e.intervention_id,
        label=e.label,
        modality=e.modality,
        technique=e.technique,
        frequency=e.frequency,
        objective_ids=list(e.objective_ids),
        **_item(e),
    )
    return True


@_applies(ev.InterventionRevised)
def _intervention_revised(state: PlanState, e: ev.InterventionRevised) -> bool:
    intervention = state.interventions.get(e.intervention_id)
    if intervention is None:
        return False
    for field in ("modality", "technique", "frequency"):
        if (value := getattr(e, field)) is not None:
            setattr(intervention, field, value)
    if e.objective_ids is not None:
        intervention.objective_ids = list(e.objective_ids)
    intervention.changed_version = e.originator_version
    return True


@_applies(ev.InterventionDiscontinued)
def _intervention_discontinued(state: PlanState, e: ev.InterventionDiscontinued) -> bool:
    intervention = state.interventions.get(e.intervention_id)
    if intervention is None:
        return False
    intervention.status = "discontinued"
    intervention.changed_version = e.originator_version
    return True


@_applies(ev.MeasurementRecorded)
def _measurement_recorded(state: PlanState, e: ev.MeasurementRecorded) -> bool:
    _take(state, "measurement")
    state.measurements[e.measurement_id] = Measurement(
        id=e.measurement_id,
        label=e.label,
        instrument=e.instrument,
        score=e.score,
        administered_on=e.administered_on,
        objective_id=e.objective_id,
        recorded_at=e.recorded_at,
        **_item(e),
    )
    return False  # observations, not plan language: they do not supersede signatures


@_applies(ev.MeasurementVoided)
def _measurement_voided(state: PlanState, e: ev.MeasurementVoided) -> bool:
    measurement = state.measurements.get(e.measurement_id)
    if measurement is not None and measurement.voided_version is None:
        # Replaced, never changed in place: states loaded from one decoded snapshot share
        # their measurements (``domain/snapshots.py``). A second void is refused by ``decide``
        # and ignored here, so a measurement changes at most once (ADR 0017).
        state.measurements[e.measurement_id] = measurement.model_copy(
            update={"voided_version": e.originator_version, "changed_version": e.originator_version}
        )
    return False


@_applies(ev.StrengthNoted)
def _strength(state: PlanState, e: ev.StrengthNoted) -> bool:
    _take(state, "strength")
    state.strengths.append(Note(id=e.strength_id, text=e.text, **_item(e)))
    return True


@_applies(ev.BarrierNoted)
def _barrier(state: PlanState, e: ev.BarrierNoted) -> bool:
    _take(state, "barrier")
    state.barriers.append(Note(id=e.barrier_id, text=e.text, **_item(e)))
    return True


@_applies(ev.TimelineSet)
def _timeline(state: PlanState, e: ev.TimelineSet) -> bool:
    state.timeline = Timeline(
        estimated_sessions=e.estimated_sessions, session_frequency=e.session_frequency
    )
    return True


@_applies(ev.DischargeCriteriaSet)
def _criteria(state: PlanState, e: ev.DischargeCriteriaSet) -> bool:
    state.discharge_criteria = list(e.criteria)
    return True


@_applies(ev.SafetyPlanSet)
def _safety_plan(state: PlanState, e: ev.SafetyPlanSet) -> bool:
    state.safety_plan = SafetyPlan(
        warning_signs=list(e.warning_signs),
        coping_strategies=list(e.coping_strategies),
        contacts=list(e.contacts),
        means_restriction=list(e.means_restriction),
        set_version=e.originator_version,
        effective_date=e.effective_date,
    )
    return True


@_applies(ev.RationaleRecorded)
def _rationale(state: PlanState, e: ev.RationaleRecorded) -> bool:
    state.rationales.append(
        RationaleNote(
            version=e.originator_version,
            explains_version=e.explains_version,
            text=e.text,
            kind=e.kind,
            actor_name=e.actor.name,
            actor_role=e.actor.role,
            recorded_at=e.recorded_at,
        )
    )
    return False


@_applies(ev.ReviewStarted)
def _review_started(state: PlanState, e: ev.ReviewStarted) -> bool:
    _take(state, "review")
    state.reviews[e.review_id] = Review(
        id=e.review_id, label=e.label, reason=e.reason, started_at=e.recorded_at, **_item(e)
    )
    return False


@_applies(ev.ReviewCompleted)
def _review_completed(state: PlanState, e: ev.ReviewCompleted) -> bool:
    review = state.reviews.get(e.review_id)
    if review is None or review.completed_version is not None:
        # ``decide`` refuses a second completion, so none is stored; ignoring one keeps a
        # review changed at most once, which the snapshots rely on (ADR 0017).
        return False
    # Replaced, never changed in place: states loaded from one decoded snapshot share their
    # reviews (``domain/snapshots.py``).
    state.reviews[e.review_id] = review.model_copy(
        update={
            "completed_version": e.originator_version,
            "changed_version": e.originator_version,
            "completed_at": e.recorded_at,
            "completed_effective_date": e.effective_date,
            "assessments": list(e.assessments),
            "progress_summary": e.progress_summary,
            "client_input": e.client_input,
            "next_review_date": e.next_review_date,
            "continuation_reason": e.continuation_reason,
        }
    )
    changed = False
    for assessment in e.assessments:
        objective = state.objectives.get(assessment.objective_id)
        if objective is not None and objective.status != assessment.status:
            objective.status = assessment.status
            objective.changed_version = e.originator_version
            changed = True
    return changed


@_applies(ev.SignatureRequested)
def _signature_requested(state: PlanState, e: ev.SignatureRequested) -> bool:
    _take(state, "signature_request")
    state.signature_requests[e.request_id] = SignatureRequest(
        id=e.request_id,
        role=e.role,
        meaning=e.meaning,
        signer_id=e.signer_id,
        signer_name=e.signer_name,
        requested_by=e.actor.name,
        **_item(e),
    )
    return False


@_applies(ev.SignatureCaptured)
def _signature_captured(state: PlanState, e: ev.SignatureCaptured) -> bool:
    _take(state, "signature")
    state.signatures[e.signature_id] = Signature(
        id=e.signature_id,
        role=e.role,
        meaning=e.meaning,
        signer_name=e.signer_name,
        signer_credentials=e.signer_credentials,
        signer_id=e.signer_id,
        signed_at=e.recorded_at,
        content_hash=e.content_hash,
        signed_version=e.signed_version,
        request_id=e.request_id,
        **_item(e),
    )
    if e.request_id is not None and (request := state.signature_requests.get(e.request_id)):
        request.signature_id = e.signature_id
        request.changed_version = e.originator_version
    if e.role == "clinician" and state.status == "draft":
        state.status = "active"
        state.activated_version = e.originator_version
        state.activated_on = e.effective_date
    return False


@_applies(ev.SignatureRevoked)
def _signature_revoked(state: PlanState, e: ev.SignatureRevoked) -> bool:
    signature = state.signatures.get(e.signature_id)
    if signature is not None:
        signature.revoked_version = e.originator_version
        signature.changed_version = e.originator_version
    return False


# ---------------------------------------------------- amendment requests (45 CFR 164.526)
@_applies(ev.AmendmentRequested)
def _amendment_requested(state: PlanState, e: ev.AmendmentRequested) -> bool:
    _take(state, "amendment")
    due = e.received_on + timedelta(days=AMENDMENT_DECISION_DAYS)
    state.amendments[e.amendment_id] = Amendment(
        id=e.amendment_id,
        label=e.label,
        concerns=e.concerns,
        item_ids=list(e.item_ids),
        requested_change=e.requested_change,
        reason=e.reason,
        received_on=e.received_on,
        requested_by=e.requested_by,
        recorded_by=e.actor.name,
        original_due_date=due,
        due_date=due,
        **_item(e),
    )
    return False  # a request is not plan language; an accepted one is carried out by a revision


@_applies(ev.AmendmentDeadlineExtended)
def _amendment_extended(state: PlanState, e: ev.AmendmentDeadlineExtended) -> bool:
    if (amendment := state.amendments.get(e.amendment_id)) is not None:
        amendment.due_date = e.new_due_date
        amendment.extended_version = amendment.changed_version = e.originator_version
        amendment.extended_on = e.effective_date
        amendment.extension_reason = e.reason
    return False


def _decided(amendment: Amendment, e: ev.PlanEvent, status: AmendmentStatus) -> None:
    amendment.status = status
    amendment.decided_version = amendment.changed_version = e.originator_version
    amendment.decided_on = e.effective_date
    amendment.decided_by = e.actor.name


@_applies(ev.AmendmentAccepted)
def _amendment_accepted(state: PlanState, e: ev.AmendmentAccepted) -> bool:
    if (amendment := state.amendments.get(e.amendment_id)) is not None:
        _decided(amendment, e, "accepted")
        amendment.carried_out_in_version = e.carried_out_in_version
        amendment.notified = e.notified
    return False


@_applies(ev.AmendmentDenied)
def _amendment_denied(state: PlanState, e: ev.AmendmentDenied) -> bool:
    if (amendment := state.amendments.get(e.amendment_id)) is not None:
        _decided(amendment, e, "denied")
        amendment.denial_basis = e.denial_basis
        amendment.denial_text = e.denial_text
    return False


@_applies(ev.DisagreementStatementFiled)
def _disagreement_filed(state: PlanState, e: ev.DisagreementStatementFiled) -> bool:
    if (amendment := state.amendments.get(e.amendment_id)) is not None:
        amendment.disagreement_statement = e.statement
        amendment.disagreement_version = amendment.changed_version = e.originator_version
        amendment.disagreement_on = e.effective_date
    return False


@_applies(ev.RebuttalFiled)
def _rebuttal_filed(state: PlanState, e: ev.RebuttalFiled) -> bool:
    if (amendment := state.amendments.get(e.amendment_id)) is not None:
        amendment.rebuttal = e.rebuttal
        amendment.rebuttal_version = amendment.changed_version = e.originator_version
        amendment.rebuttal_on = e.effective_date
    return False


_missing = [cls.__name__ for cls in ev.EVENT_CLASSES if cls not in _APPLIERS]
if _missing:  # pragma: no cover - a programming error caught at import time
    raise RuntimeError(f"no applier for {_missing}")
