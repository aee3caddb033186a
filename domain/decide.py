"""The rules: given a plan's state and a command, the events to record, or a clear refusal.

Pure functions with no I/O: the service loads the state, calls ``decide`` and saves what comes
back. Every refusal is a ``RuleViolation`` (or ``NotFound``) naming the field at fault and the
reason, raised before anything is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid5

from plantrail.domain import commands as cmd
from plantrail.domain import events as ev
from plantrail.domain.content import content_hash
from plantrail.domain.errors import (
    ItemNotFound,
    PlanDischargedError,
    RuleViolation,
)
from plantrail.domain.instruments import canonical_instrument
from plantrail.domain.plan import Amendment, PlanState
from plantrail.domain.validation import measure_scale, score_problem
from plantrail.domain.values import (
    AMENDMENT_EXTENSION_DAYS,
    Assessment,
    Client,
    Clinician,
    EntryKind,
    Participant,
    SafetyContact,
)

DEFAULT_LATE_ENTRY_DAYS = 7

NOT_REVIEWED_STATUSES = frozenset({"no_longer_relevant"})
"""Statuses a review need not assess (it may, to bring the objective back)."""

GROUP_SERVICE_TYPES = frozenset({"group", "family", "couples"})


@dataclass(frozen=True)
class Context:
    """What the server knows about a command beyond its payload."""

    plan_id: UUID
    meta: cmd.CommandMeta
    now: datetime
    """The server's clock (UTC) for ``recorded_at``; never from the caller."""
    late_entry_days: int = DEFAULT_LATE_ENTRY_DAYS

    @property
    def today(self) -> date:
        return self.now.date()


def item_id(plan_id: UUID, kind: str, version: int) -> str:
    """A stable id for the item created by the event at ``version``: unique, never reused."""
    return str(uuid5(plan_id, f"{kind}@{version}"))


class _Events:
    """Collects the events of one command with consecutive versions and shared metadata."""

    def __init__(self, ctx: Context, base_version: int, effective: date, kind: EntryKind) -> None:
        self.ctx = ctx
        self.base = base_version
        self.effective = effective
        self.kind = kind
        self.out: list[ev.PlanEvent] = []

    @property
    def next_version(self) -> int:
        return self.base + len(self.out) + 1

    def add(self, cls: type[ev.PlanEvent], **fields: Any) -> ev.PlanEvent:
        event = cls(
            originator_id=self.ctx.plan_id,
            originator_version=self.next_version,
            recorded_at=self.ctx.now,
            actor=self.ctx.meta.actor,
            effective_date=self.effective,
            entry_kind=self.kind,
            rationale=self.ctx.meta.rationale,
            command_id=self.ctx.meta.command_id,
            **fields,
        )
        self.out.append(event)
        return event


def _effective(
    ctx: Context,
    state: PlanState | None,
    *,
    default: date | None = None,
    not_before: tuple[date, str] | None = None,
) -> tuple[date, EntryKind]:
    """Resolve and check the clinical effective date and the entry kind of a command."""
    effective = ctx.meta.effective_date or default or ctx.today
    if effective > ctx.today:
        raise RuleViolation.on(
            "effective_date", f"{effective} is in the future (today is {ctx.today})"
        )
    if state is not None and effective < state.effective_date:
        raise RuleViolation.on(
            "effective_date",
            f"{effective} is before the plan's effective date {state.effective_date}",
        )
    if not_before is not None and effective < not_before[0]:
        raise RuleViolation.on(
            "effective_date",
            f"{effective} is before {not_before[1]} took effect on {not_before[0]}",
        )
    kind: EntryKind = ctx.meta.entry_kind or "original"
    if kind == "original" and effective < ctx.today - timedelta(days=ctx.late_entry_days):
        kind = "delayed_entry"  # Medicare PIM 3.3.2.5: late entries are labelled as such
    return effective, kind


def _require_rationale(ctx: Context, state: PlanState, what: str) -> None:
    if state.status == "active" and ctx.meta.rationale is None:
        raise RuleViolation.on(
            "rationale", f"is required to {what} on an active plan (say why it changed)"
        )


def _nothing_changed(field: str, label: str) -> RuleViolation:
    return RuleViolation.on(field, f"the revision changes nothing in {label}")


ADULT_AGE = 18


def is_minor(born: date, on: date) -> bool:
    """Whether someone born on ``born`` is under 18 on ``on``."""
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return age < ADULT_AGE


def open_plan(command: cmd.OpenPlan, ctx: Context) -> list[ev.PlanEvent]:
    """Open a new plan as a draft (it becomes active at the first clinician signature)."""
    effective, kind = _effective(ctx, None)
    if command.plan_end_date <= effective:
        raise RuleViolation.on("plan_end_date", f"must be after the effective date {effective}")
    if command.plan_end_date >= effective + timedelta(days=365):
        raise RuleViolation.on(
            "plan_end_date", "must be less than a year after the effective date (Medicare)"
        )
    if command.client.date_of_birth > effective:
        raise RuleViolation.on("client.date_of_birth", "is after the plan's effective date")
    if command.client.guardian is None and is_minor(command.client.date_of_birth, effective):
        raise RuleViolation.on(
            "client.guardian",
            f"is required: the client is under {ADULT_AGE} on {effective} (name who consents "
            "and signs for them)",
        )
    if command.service_type in GROUP_SERVICE_TYPES and not any(
        p.client_id != command.client.id for p in command.participants
    ):
        raise RuleViolation.on(
            "participants",
            f"a {command.service_type} plan must name its participants besides the client",
        )
    out = _Events(ctx, 0, effective, kind)
    out.add(
        ev.PlanOpened,
        client=Client.model_validate(command.client.model_dump()),
        clinician=Clinician(**command.clinician.model_dump()),
        supervisor=Clinician(**command.supervisor.model_dump()) if command.supervisor else None,
        plan_end_date=command.plan_end_date,
        review_interval_days=command.review_interval_days,
        service_type=command.service_type,
        session_minutes=command.session_minutes,
        participants=[Participant(**p.model_dump()) for p in command.participants],
    )
    return out.out


C = TypeVar("C", bound=cmd.Command)
_DECIDERS: dict[type[cmd.Command], Callable[[PlanState, Any, Context], list[ev.PlanEvent]]] = {}


def _decides(
    cls: type[C],
) -> Callable[[Callable[[PlanState, C, Context], list[ev.PlanEvent]]], Any]:
    def register(fn: Callable[[PlanState, C, Context], list[ev.PlanEvent]]) -> Any:
        _DECIDERS[cls] = fn
        return fn

    return register


_ON_A_CLOSED_RECORD: tuple[type[cmd.Command], ...] = (
    cmd.RequestAmendment,
    cmd.ExtendAmendmentDeadline,
    cmd.DenyAmendment,
    cmd.FileDisagreementStatement,
    cmd.FileRebuttal,
)
"""The commands a discharged plan still takes: the right to amend lasts as long as the record
is kept (45 CFR 164.526; ADR 0015). Accepting a request stays refused, since the revision that
carries it out cannot be made on a discharged plan."""


def decide(state: PlanState, command: cmd.PlanCommand, ctx: Context) -> list[ev.PlanEvent]:
    """The events ``command`` produces on ``state``, or a clear error; nothing is stored here."""
    if state.status == "discharged" and not isinstance(command, _ON_A_CLOSED_RECORD):
        raise PlanDischargedError()
    return _DECIDERS[type(command)](state, command, ctx)


def _simple(state: PlanState, ctx: Context, **kwargs: Any) -> _Events:
    effective, kind = _effective(ctx, state, **kwargs)
    return _Events(ctx, state.version, effective, kind)


# ------------------------------------------------------------------------------ diagnoses
@_decides(cmd.AddDiagnosis)
def _add_diagnosis(state: PlanState, c: cmd.AddDiagnosis, ctx: Context) -> list[ev.PlanEvent]:
    active = {k: d for k, d in state.diagnoses.items() if d.removed_version is None}
    if c.code in active:
        raise RuleViolation.on("code", f"{c.code} is already on the plan")
    if c.primary and (primary := next((d for d in active.values() if d.primary), None)):
        raise RuleViolation.on(
            "primary", f"{primary.code} is already the primary diagnosis; add {c.code} as secondary"
        )
    out = _simple(state, ctx)
    out.add(ev.DiagnosisAdded, code=c.code, description=c.description, primary=c.primary)
    return out.out


@_decides(cmd.RemoveDiagnosis)
def _remove_diagnosis(state: PlanState, c: cmd.RemoveDiagnosis, ctx: Context) -> list[ev.PlanEvent]:
    diagnosis = state.diagnoses.get(c.code)
    if diagnosis is None or diagnosis.removed_version is not None:
        raise ItemNotFound("diagnosis", c.code, "code")
    _require_rationale(ctx, state, "remove a diagnosis")
    out = _simple(state, ctx, not_before=(diagnosis.effective_date, f"diagnosis {c.code}"))
    out.add(ev.DiagnosisRemoved, code=c.code)
    return out.out


# ------------------------------------------------------------------------------- problems
def _check_codes(state: PlanState, codes: list[str]) -> None:
    for code in codes:
        diagnosis = state.diagnoses.get(code)
        if diagnosis is None or diagnosis.removed_version is not None:
            raise RuleViolation.on("diagnosis_codes", f"{code} is not a diagnosis on this plan")


@_decides(cmd.AddProblem)
def _add_problem(state: PlanState, c: cmd.AddProblem, ctx: Context) -> list[ev.PlanEvent]:
    _check_codes(state, c.diagnosis_codes)
    out = _simple(state, ctx)
    out.add(
        ev.ProblemAdded,
        problem_id=item_id(ctx.plan_id, "problem", out.next_version),
        label=f"Problem {state.next_number('problem')}",
        statement=c.statement,
        diagnosis_codes=list(dict.fromkeys(c.diagnosis_codes)),
    )
    return out.out


@_decides(cmd.ReviseProblem)
def _revise_problem(state: PlanState, c: cmd.ReviseProblem, ctx: Context) -> list[ev.PlanEvent]:
    problem = state.problems.get(c.problem_id)
    if problem is None:
        raise ItemNotFound("problem", c.problem_id, "problem_id")
    changes: dict[str, Any] = {}
    if c.statement is not None and c.statement != problem.statement:
        changes["statement"] = c.statement
    if c.diagnosis_codes is not None:
        _check_codes(state, c.diagnosis_codes)
        codes = list(dict.fromkeys(c.diagnosis_codes))
        if codes != problem.diagnosis_codes:
            changes["diagnosis_codes"] = codes
    resolve = c.status == "resolved" and problem.status != "resolved"
    if not changes and not resolve:
        raise _nothing_changed("problem_id", problem.label)
    _require_rationale(ctx, state, f"revise {problem.label}")
    out = _simple(state, ctx, not_before=(problem.effective_date, problem.label))
    if changes:
        out.add(ev.ProblemRevised, problem_id=problem.id, **changes)
    if resolve:
        out.add(ev.ProblemResolved, problem_id=problem.id)
    return out.out


# ---------------------------------------------------------------------------------- goals
def _check_problems(state: PlanState, problem_ids: list[str]) -> None:
    for pid in problem_ids:
        if pid not in state.problems:
            raise RuleViolation.on("problem_ids", f"{pid} is not a problem on this plan")


@_decides(cmd.AddGoal)
def _add_goal(state: PlanState, c: cmd.AddGoal, ctx: Context) -> list[ev.PlanEvent]:
    _check_problems(state, c.problem_ids)
    out = _simple(state, ctx)
    out.add(
        ev.GoalAdded,
        goal_id=item_id(ctx.plan_id, "goal", out.next_version),
        label=f"Goal {state.next_number('goal')}",
        statement=c.statement,
        problem_ids=list(dict.fromkeys(c.problem_ids)),
        client_words=c.client_words,
    )
    return out.out


@_decides(cmd.ReviseGoal)
def _revise_goal(state: PlanState, c: cmd.ReviseGoal, ctx: Context) -> list[ev.PlanEvent]:
    goal = state.goals.get(c.goal_id)
    if goal is None:
        raise ItemNotFound("goal", c.goal_id, "goal_id")
    changes: dict[str, Any] = {}
    if c.statement is not None and c.statement != goal.statement:
        changes["statement"] = c.statement
    if c.client_words is not None and c.client_words != goal.client_words:
        changes["client_words"] = c.client_words
    if c.problem_ids is not None:
        _check_problems(state, c.problem_ids)
        ids = list(dict.fromkeys(c.problem_ids))
        if ids != goal.problem_ids:
            changes["problem_ids"] = ids
    status = c.status if c.status is not None and c.status != goal.status else None
    if not changes and status is None:
        raise _nothing_changed("goal_id", goal.label)
    _require_rationale(ctx, state, f"revise {goal.label}")
    out = _simple(state, ctx, not_before=(goal.effective_date, goal.label))
    if changes:
        out.add(ev.GoalRevised, goal_id=goal.id, **changes)
    if status is not None:
        out.add(ev.GoalStatusMarked, goal_id=goal.id, status=status)
    return out.out


# ----------------------------------------------------------------------------- date bounds
HORIZON = timedelta(days=2 * 365)
"""How far past the plan's end date a date that looks ahead (a target, the next review) may
be: far enough for a plan that is renewed, not so far that a typo (9999-12-31) is stored as a
clinical date (docs/domain.md, rules)."""


def _within_horizon(state: PlanState, field_name: str, value: date) -> None:
    if value > state.plan_end_date + HORIZON:
        raise RuleViolation.on(
            field_name,
            f"{value} is more than two years after the plan's end date {state.plan_end_date}",
        )


# ----------------------------------------------------------------------------- objectives
@_decides(cmd.AddObjective)
def _add_objective(state: PlanState, c: cmd.AddObjective, ctx: Context) -> list[ev.PlanEvent]:
    goal = state.goals.get(c.goal_id)
    if goal is None:
        raise RuleViolation.on("goal_id", f"{c.goal_id} is not a goal on this plan")
    out = _simple(state, ctx, not_before=(goal.effective_date, goal.label))
    if c.target_date is not None and c.target_date < out.effective:
        raise RuleViolation.on(
            "target_date",
            f"{c.target_date} is before the objective's effective date {out.effective}",
        )
    if c.target_date is not None:
        _within_horizon(state, "target_date", c.target_date)
    out.add(
        ev.ObjectiveAdded,
        objective_id=item_id(ctx.plan_id, "objective", out.next_version),
        label=f"Objective {goal.number}.{state.next_number(f'objective:{goal.id}')}",
        goal_id=goal.id,
        statement=c.statement,
        measure=c.measure,
        target_date=c.target_date,
    )
    return out.out


@_decides(cmd.ReviseObjective)
def _revise_objective(state: PlanState, c: cmd.ReviseObjective, ctx: Context) -> list[ev.PlanEvent]:
    objective = state.objectives.get(c.objective_id)
    if objective is None:
        raise ItemNotFound("objective", c.objective_id, "objective_id")
    changes: dict[str, Any] = {}
    if c.statement is not None and c.statement != objective.statement:
        changes["statement"] = c.statement
    if c.measure is not None and c.measure != objective.measure:
        changes["measure"] = c.measure
    if c.target_date is not None and c.target_date != objective.target_date:
        if c.target_date < objective.effective_date:
            raise RuleViolation.on(
                "target_date",
                f"{c.target_date} is before {objective.label} took effect on "
                f"{objective.effective_date}",
            )
        _within_horizon(state, "target_date", c.target_date)
        changes["target_date"] = c.target_date
    if not changes:
        raise _nothing_changed("objective_id", objective.label)
    _require_rationale(ctx, state, f"revise {objective.label}")
    out = _simple(state, ctx, not_before=(objective.effective_date, objective.label))
    out.add(ev.ObjectiveRevised, objective_id=objective.id, **changes)
    return out.out


@_decides(cmd.MarkObjectiveStatus)
def _mark_objective(
    state: PlanState, c: cmd.MarkObjectiveStatus, ctx: Context
) -> list[ev.PlanEvent]:
    objective = state.objectives.get(c.objective_id)
    if objective is None:
        raise ItemNotFound("objective", c.objective_id, "objective_id")
    if c.status == objective.status:
        raise RuleViolation.on("status", f"{objective.label} is already {c.status}")
    _require_rationale(ctx, state, f"change the status of {objective.label}")
    out = _simple(state, ctx, not_before=(objective.effective_date, objective.label))
    out.add(
        ev.ObjectiveStatusMarked, objective_id=objective.id, status=c.status, evidence=c.evidence
    )
    return out.out


# -------------------------------------------------------------------------- interventions
def _check_objectives(state: PlanState, objective_ids: list[str]) -> None:
    for oid in objective_ids:
        if oid not in state.objectives:
            raise RuleViolation.on("objective_ids", f"{oid} is not an objective on this plan")


@_decides(cmd.AddIntervention)
def _add_intervention(state: PlanState, c: cmd.AddIntervention, ctx: Context) -> list[ev.PlanEvent]:
    _check_objectives(state, c.objective_ids)
    out = _simple(state, ctx)
    out.add(
        ev.InterventionAdded,
        intervention_id=item_id(ctx.plan_id, "intervention", out.next_version),
        label=f"Intervention {state.next_number('intervention')}",
        modality=c.modality,
        technique=c.technique,
        frequency=c.frequency,
        objective_ids=list(dict.fromkeys(c.objective_ids)),
    )
    return out.out


@_decides(cmd.ReviseIntervention)
def _revise_intervention(
    state: PlanState, c: cmd.ReviseIntervention, ctx: Context
) -> list[ev.PlanEvent]:
    intervention = state.interventions.get(c.intervention_id)
    if intervention is None:
        raise ItemNotFound("intervention", c.intervention_id, "intervention_id")
    changes: dict[str, Any] = {}
    for field in ("modality", "technique", "frequency"):
        value = getattr(c, field)
        if value is not None and value != getattr(intervention, field):
            changes[field] = value
    if c.objective_ids is not None:
        _check_objectives(state, c.objective_ids)
        ids = list(dict.fromkeys(c.objective_ids))
        if ids != intervention.objective_ids:
            changes["objective_ids"] = ids
    discontinue = c.status == "discontinued" and intervention.status != "discontinued"
    if not changes and not discontinue:
        raise _nothing_changed("intervention_id", intervention.label)
    _require_rationale(ctx, state, f"revise {intervention.label}")
    out = _simple(state, ctx, not_before=(intervention.effective_date, intervention.label))
    if changes:
        out.add(ev.InterventionRevised, intervention_id=intervention.id, **changes)
    if discontinue:
        out.add(ev.InterventionDiscontinued, intervention_id=intervention.id)
    return out.out


# --------------------------------------------------------------------------- measurements
@_decides(cmd.RecordMeasurement)
def _record_measurement(
    state: PlanState, c: cmd.RecordMeasurement, ctx: Context
) -> list[ev.PlanEvent]:
    scale = None
    if c.objective_id is not None and (objective := state.objectives.get(c.objective_id)):
        measure = objective.measure
        if measure is not None and measure.instrument == canonical_instrument(c.instrument):
            scale = measure_scale(measure)  # a custom measure's own stated range
    if problem := score_problem(c.instrument, c.score, "score", scale):
        raise RuleViolation.on("score", problem)
    if c.administered_on > ctx.today:
        raise RuleViolation.on("administered_on", f"{c.administered_on} is in the future")
    if c.administered_on < state.client.date_of_birth:
        raise RuleViolation.on(
            "administered_on", f"{c.administered_on} is before the client's date of birth"
        )
    if c.objective_id is not None and c.objective_id not in state.objectives:
        raise RuleViolation.on("objective_id", f"{c.objective_id} is not an objective on this plan")
    # A score taken at intake, before the plan took effect, counts from the plan's first day.
    out = _simple(state, ctx, default=max(c.administered_on, state.effective_date))
    out.add(
        ev.MeasurementRecorded,
        measurement_id=item_id(ctx.plan_id, "measurement", out.next_version),
        label=f"Measurement {state.next_number('measurement')}",
        instrument=canonical_instrument(c.instrument),
        score=c.score,
        administered_on=c.administered_on,
        objective_id=c.objective_id,
    )
    return out.out


@_decides(cmd.VoidMeasurement)
def _void_measurement(state: PlanState, c: cmd.VoidMeasurement, ctx: Context) -> list[ev.PlanEvent]:
    measurement = state.measurements.get(c.measurement_id)
    if measurement is None:
        raise ItemNotFound("measurement", c.measurement_id, "measurement_id")
    if measurement.voided_version is not None:
        raise RuleViolation.on("measurement_id", f"{measurement.label} is already voided")
    _require_rationale(ctx, state, f"void {measurement.label}")
    out = _simple(state, ctx)
    out.add(ev.MeasurementVoided, measurement_id=measurement.id)
    return out.out


# ---------------------------------------------------------------- strengths, barriers, ...
@_decides(cmd.NoteStrength)
def _note_strength(state: PlanState, c: cmd.NoteStrength, ctx: Context) -> list[ev.PlanEvent]:
    out = _simple(state, ctx)
    out.add(
        ev.StrengthNoted,
        strength_id=item_id(ctx.plan_id, "strength", out.next_version),
        text=c.text,
    )
    return out.out


@_decides(cmd.NoteBarrier)
def _note_barrier(state: PlanState, c: cmd.NoteBarrier, ctx: Context) -> list[ev.PlanEvent]:
    out = _simple(state, ctx)
    out.add(
        ev.BarrierNoted, barrier_id=item_id(ctx.plan_id, "barrier", out.next_version), text=c.text
    )
    return out.out


@_decides(cmd.SetTimeline)
def _set_timeline(state: PlanState, c: cmd.SetTimeline, ctx: Context) -> list[ev.PlanEvent]:
    current = state.timeline
    if current is not None:
        if (current.estimated_sessions, current.session_frequency) == (
            c.estimated_sessions,
            c.session_frequency,
        ):
            raise _nothing_changed("estimated_sessions", "the timeline")
        _require_rationale(ctx, state, "revise the timeline")
    out = _simple(state, ctx)
    out.add(
        ev.TimelineSet,
        estimated_sessions=c.estimated_sessions,
        session_frequency=c.session_frequency,
    )
    return out.out


@_decides(cmd.SetDischargeCriteria)
def _set_criteria(
    state: PlanState, c: cmd.SetDischargeCriteria, ctx: Context
) -> list[ev.PlanEvent]:
    if state.discharge_criteria:
        if list(c.criteria) == state.discharge_criteria:
            raise _nothing_changed("criteria", "the discharge criteria")
        _require_rationale(ctx, state, "revise the discharge criteria")
    out = _simple(state, ctx)
    out.add(ev.DischargeCriteriaSet, criteria=list(c.criteria))
    return out.out


@_decides(cmd.SetSafetyPlan)
def _set_safety_plan(state: PlanState, c: cmd.SetSafetyPlan, ctx: Context) -> list[ev.PlanEvent]:
    contacts = [SafetyContact(**contact.model_dump()) for contact in c.contacts]
    fields: dict[str, Any] = {
        "warning_signs": list(c.warning_signs),
        "coping_strategies": list(c.coping_strategies),
        "contacts": contacts,
        "means_restriction": list(c.means_restriction),
    }
    if (current := state.safety_plan) is not None:
        if all(getattr(current, name) == value for name, value in fields.items()):
            raise _nothing_changed("warning_signs", "the safety plan")
        _require_rationale(ctx, state, "revise the safety plan")
    out = _simple(state, ctx)
    out.add(ev.SafetyPlanSet, **fields)
    return out.out


# ------------------------------------------------------------------------------ rationale
@_decides(cmd.RecordRationale)
def _record_rationale(state: PlanState, c: cmd.RecordRationale, ctx: Context) -> list[ev.PlanEvent]:
    if c.explains_version > state.version:
        raise RuleViolation.on(
            "explains_version",
            f"version {c.explains_version} does not exist (latest {state.version})",
        )
    out = _simple(state, ctx)
    out.add(ev.RationaleRecorded, explains_version=c.explains_version, text=c.text, kind=c.kind)
    return out.out


# -------------------------------------------------------------------------------- reviews
@_decides(cmd.StartReview)
def _start_review(state: PlanState, c: cmd.StartReview, ctx: Context) -> list[ev.PlanEvent]:
    if state.status != "active":
        raise RuleViolation.on("status", "the plan must be signed by its clinician before a review")
    if (current := state.open_review) is not None:
        raise RuleViolation.on(
            "reason", f"{current.label} is already in progress; complete it first"
        )
    out = _simple(state, ctx, not_before=(state.activated_on or state.effective_date, "the plan"))
    out.add(
        ev.ReviewStarted,
        review_id=item_id(ctx.plan_id, "review", out.next_version),
        label=f"Review {state.next_number('review')}",
        reason=c.reason,
    )
    return out.out


@_decides(cmd.CompleteReview)
def _complete_review(state: PlanState, c: cmd.CompleteReview, ctx: Context) -> list[ev.PlanEvent]:
    review = state.reviews.get(c.review_id)
    if review is None:
        raise ItemNotFound("review", c.review_id, "review_id")
    if review.completed_version is not None:
        raise RuleViolation.on("review_id", f"{review.label} is already completed")
    seen: set[str] = set()
    values: list[Assessment] = []
    for index, assessment in enumerate(c.assessments):
        field = f"assessments.{index}.objective_id"
        objective = state.objectives.get(assessment.objective_id)
        if objective is None:
            raise RuleViolation.on(
                field, f"{assessment.objective_id} is not an objective on this plan"
            )
        if assessment.objective_id in seen:
            raise RuleViolation.on(field, f"{objective.label} is assessed twice")
        if objective.status == "met" and assessment.status != "met" and not assessment.rationale:
            raise RuleViolation.on(
                f"assessments.{index}.rationale",
                f"is required to reopen {objective.label}, which is met (say why it is reopened)",
            )
        seen.add(assessment.objective_id)
        values.append(assessment.to_value(previous_status=objective.status))
    missing = [
        o.label
        for o in state.objectives.values()
        if o.status not in NOT_REVIEWED_STATUSES and o.id not in seen
    ]
    if missing:
        raise RuleViolation.on(
            "assessments",
            "every objective must be assessed, met ones too (confirm or reopen them); missing "
            + ", ".join(missing),
        )
    out = _simple(state, ctx, not_before=(review.effective_date, review.label))
    next_review = c.next_review_date or out.effective + timedelta(days=state.review_interval_days)
    if next_review <= out.effective:
        raise RuleViolation.on("next_review_date", f"must be after the review date {out.effective}")
    if c.next_review_date is not None:
        _within_horizon(state, "next_review_date", c.next_review_date)
    out.add(
        ev.ReviewCompleted,
        review_id=review.id,
        assessments=values,
        progress_summary=c.progress_summary,
        client_input=c.client_input,
        next_review_date=next_review,
        continuation_reason=c.continuation_reason,
    )
    return out.out


# ----------------------------------------------------------------------------- signatures
@_decides(cmd.RequestSignature)
def _request_signature(
    state: PlanState, c: cmd.RequestSignature, ctx: Context
) -> list[ev.PlanEvent]:
    for request in state.signature_requests.values():
        if request.signature_id is None and (request.signer_id, request.role, request.meaning) == (
            c.signer_id,
            c.role,
            c.meaning,
        ):
            raise RuleViolation.on("signer_id", f"{c.signer_name} already has this request pending")
    out = _simple(state, ctx)
    out.add(
        ev.SignatureRequested,
        request_id=item_id(ctx.plan_id, "signature-request", out.next_version),
        role=c.role,
        meaning=c.meaning,
        signer_id=c.signer_id,
        signer_name=c.signer_name,
    )
    return out.out


@_decides(cmd.CaptureSignature)
def _capture_signature(
    state: PlanState, c: cmd.CaptureSignature, ctx: Context
) -> list[ev.PlanEvent]:
    request_id = c.request_id
    if request_id is not None:
        request = state.signature_requests.get(request_id)
        if request is None:
            raise ItemNotFound("signature request", request_id, "request_id")
        if request.signature_id is not None:
            raise RuleViolation.on("request_id", "this signature request was already signed")
        if (request.role, request.meaning) != (c.role, c.meaning):
            raise RuleViolation.on(
                "meaning",
                f"the request asks for role {request.role} with meaning {request.meaning}",
            )
        if c.signer_id is not None and c.signer_id != request.signer_id:
            raise RuleViolation.on(
                "signer_id", f"the request asks {request.signer_name} to sign, not {c.signer_name}"
            )
    elif c.signer_id is not None:
        request_id = next(
            (
                r.id
                for r in state.signature_requests.values()
                if r.signature_id is None
                and (r.signer_id, r.role, r.meaning) == (c.signer_id, c.role, c.meaning)
            ),
            None,
        )
    out = _simple(state, ctx)
    out.add(
        ev.SignatureCaptured,
        signature_id=item_id(ctx.plan_id, "signature", out.next_version),
        role=c.role,
        meaning=c.meaning,
        signer_name=c.signer_name,
        signer_credentials=c.signer_credentials,
        signer_id=c.signer_id,
        content_hash=content_hash(state),
        signed_version=state.version,
        request_id=request_id,
    )
    return out.out


@_decides(cmd.RevokeSignature)
def _revoke_signature(state: PlanState, c: cmd.RevokeSignature, ctx: Context) -> list[ev.PlanEvent]:
    signature = state.signatures.get(c.signature_id)
    if signature is None:
        raise ItemNotFound("signature", c.signature_id, "signature_id")
    if signature.revoked_version is not None:
        raise RuleViolation.on("signature_id", "this signature is already revoked")
    _require_rationale(ctx, state, "revoke a signature")
    out = _simple(state, ctx, not_before=(signature.effective_date, "the signature"))
    out.add(ev.SignatureRevoked, signature_id=signature.id)
    return out.out


@_decides(cmd.RenewPlan)
def _renew(state: PlanState, c: cmd.RenewPlan, ctx: Context) -> list[ev.PlanEvent]:
    if state.status != "active":
        raise RuleViolation.on(
            "plan_end_date", "a draft plan is not renewed: it takes effect when first signed"
        )
    _require_rationale(ctx, state, "renew the plan")
    out = _simple(state, ctx)
    if c.plan_end_date <= state.plan_end_date:
        raise RuleViolation.on(
            "plan_end_date", f"must be after the current end date {state.plan_end_date}"
        )
    if c.plan_end_date >= out.effective + timedelta(days=365):
        raise RuleViolation.on(
            "plan_end_date", "must be less than a year after the renewal's date (Medicare)"
        )
    out.add(
        ev.PlanRenewed,
        plan_end_date=c.plan_end_date,
        previous_end_date=state.plan_end_date,
        continuation_reason=c.continuation_reason,
    )
    return out.out


@_decides(cmd.DischargePlan)
def _discharge(state: PlanState, c: cmd.DischargePlan, ctx: Context) -> list[ev.PlanEvent]:
    out = _simple(state, ctx)
    out.add(ev.PlanDischarged, reason=c.reason)
    return out.out


# ---------------------------------------------------- amendment requests (45 CFR 164.526)
def _item_ids(state: PlanState) -> set[str]:
    """Every id an amendment request may name: the plan's items, diagnoses by code."""
    ids: set[str] = set(state.diagnoses)
    for items in (
        state.problems,
        state.goals,
        state.objectives,
        state.interventions,
        state.measurements,
        state.reviews,
        state.signatures,
    ):
        ids.update(items)
    ids.update(n.id for n in (*state.strengths, *state.barriers))
    return ids


def _amendment(state: PlanState, amendment_id: str) -> Amendment:
    found = state.amendments.get(amendment_id)
    if found is None:
        raise ItemNotFound("amendment request", amendment_id, "amendment_id")
    return found


def _still_open(amendment: Amendment) -> None:
    if amendment.status != "open":
        raise RuleViolation.on(
            "amendment_id",
            f"{amendment.label} was already {amendment.status} on {amendment.decided_on}; "
            "a decided request cannot be decided again",
        )


@_decides(cmd.RequestAmendment)
def _request_amendment(
    state: PlanState, c: cmd.RequestAmendment, ctx: Context
) -> list[ev.PlanEvent]:
    if c.received_on > ctx.today:
        raise RuleViolation.on("received_on", f"{c.received_on} is in the future")
    if c.received_on < state.effective_date:
        raise RuleViolation.on(
            "received_on", f"{c.received_on} is before the plan's effective date"
        )
    known = _item_ids(state)
    for index, wanted in enumerate(c.item_ids):
        if wanted not in known:
            raise RuleViolation.on(f"item_ids.{index}", f"{wanted} is not an item of this plan")
    out = _simple(state, ctx, default=c.received_on)
    if out.effective < c.received_on:
        raise RuleViolation.on(
            "effective_date",
            f"{out.effective} is before the request was received on {c.received_on}",
        )
    out.add(
        ev.AmendmentRequested,
        amendment_id=item_id(ctx.plan_id, "amendment", out.next_version),
        label=f"Amendment request {state.next_number('amendment')}",
        concerns=c.concerns,
        item_ids=list(dict.fromkeys(c.item_ids)),
        requested_change=c.requested_change,
        reason=c.reason,
        received_on=c.received_on,
        requested_by=c.requested_by,
    )
    return out.out


@_decides(cmd.ExtendAmendmentDeadline)
def _extend_amendment(
    state: PlanState, c: cmd.ExtendAmendmentDeadline, ctx: Context
) -> list[ev.PlanEvent]:
    amendment = _amendment(state, c.amendment_id)
    _still_open(amendment)
    if amendment.extended_version is not None:
        raise RuleViolation.on(
            "amendment_id",
            f"the deadline of {amendment.label} was already extended once, to "
            f"{amendment.due_date}; only one extension is allowed",
        )
    out = _simple(state, ctx, not_before=(amendment.received_on, amendment.label))
    if out.effective > amendment.due_date:
        raise RuleViolation.on(
            "effective_date",
            f"the extension must be given by the due date {amendment.due_date}, "
            f"not on {out.effective}",
        )
    latest = amendment.original_due_date + timedelta(days=AMENDMENT_EXTENSION_DAYS)
    if c.new_due_date <= amendment.due_date:
        raise RuleViolation.on(
            "new_due_date", f"must be after the current due date {amendment.due_date}"
        )
    if c.new_due_date > latest:
        raise RuleViolation.on(
            "new_due_date",
            f"may be at most {AMENDMENT_EXTENSION_DAYS} days after {amendment.original_due_date} "
            f"(at the latest {latest})",
        )
    out.add(
        ev.AmendmentDeadlineExtended,
        amendment_id=amendment.id,
        new_due_date=c.new_due_date,
        reason=c.reason,
    )
    return out.out


@_decides(cmd.AcceptAmendment)
def _accept_amendment(state: PlanState, c: cmd.AcceptAmendment, ctx: Context) -> list[ev.PlanEvent]:
    amendment = _amendment(state, c.amendment_id)
    _still_open(amendment)
    version = c.carried_out_in_version
    if version > state.version:
        raise RuleViolation.on(
            "carried_out_in_version", f"version {version} does not exist (latest {state.version})"
        )
    if version <= amendment.added_version:
        raise RuleViolation.on(
            "carried_out_in_version",
            f"version {version} is not later than the request (version {amendment.added_version})",
        )
    if any(version in a.versions for a in state.amendments.values()):
        raise RuleViolation.on(
            "carried_out_in_version",
            f"version {version} records an amendment request, not the revision that amends the "
            "plan",
        )
    if state.entry_kinds.get(version) != "amendment":
        raise RuleViolation.on(
            "carried_out_in_version",
            f"version {version} is not labelled an amendment: make the change with entry_kind "
            "amendment, then accept the request naming that version",
        )
    out = _simple(state, ctx, not_before=(amendment.received_on, amendment.label))
    out.add(
        ev.AmendmentAccepted,
        amendment_id=amendment.id,
        carried_out_in_version=version,
        notified=c.notified,
    )
    return out.out


@_decides(cmd.DenyAmendment)
def _deny_amendment(state: PlanState, c: cmd.DenyAmendment, ctx: Context) -> list[ev.PlanEvent]:
    amendment = _amendment(state, c.amendment_id)
    _still_open(amendment)
    out = _simple(state, ctx, not_before=(amendment.received_on, amendment.label))
    out.add(
        ev.AmendmentDenied,
        amendment_id=amendment.id,
        denial_basis=c.denial_basis,
        denial_text=c.denial_text,
    )
    return out.out


@_decides(cmd.FileDisagreementStatement)
def _file_disagreement(
    state: PlanState, c: cmd.FileDisagreementStatement, ctx: Context
) -> list[ev.PlanEvent]:
    amendment = _amendment(state, c.amendment_id)
    if amendment.status != "denied" or amendment.decided_on is None:
        raise RuleViolation.on(
            "amendment_id",
            f"{amendment.label} is {amendment.status}: a statement of disagreement answers a "
            "denial",
        )
    if amendment.disagreement_version is not None:
        raise RuleViolation.on(
            "amendment_id", f"a statement of disagreement with {amendment.label} is already filed"
        )
    out = _simple(state, ctx, not_before=(amendment.decided_on, f"the denial of {amendment.label}"))
    out.add(ev.DisagreementStatementFiled, amendment_id=amendment.id, statement=c.statement)
    return out.out


@_decides(cmd.FileRebuttal)
def _file_rebuttal(state: PlanState, c: cmd.FileRebuttal, ctx: Context) -> list[ev.PlanEvent]:
    amendment = _amendment(state, c.amendment_id)
    if amendment.disagreement_on is None:
        raise RuleViolation.on(
            "amendment_id",
            f"no statement of disagreement with {amendment.label} is filed: a rebuttal answers one",
        )
    if amendment.rebuttal_version is not None:
        raise RuleViolation.on("amendment_id", f"a rebuttal for {amendment.label} is already filed")
    out = _simple(
        state,
        ctx,
        not_before=(
            amendment.disagreement_on,
            f"the statement of disagreement with {amendment.label}",
        ),
    )
    out.add(ev.RebuttalFiled, amendment_id=amendment.id, rebuttal=c.rebuttal)
    return out.out
