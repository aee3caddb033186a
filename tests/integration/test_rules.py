"""Every rule of docs/domain.md, "Rules that give a clear error (and store nothing)", on each
store.

Each refusal is checked three ways: the error names the field and the reason; the plan (its
version, its content and the number of events in the whole store) is exactly as before; and the
command id was not recorded, so the same id with a corrected payload then succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, get_args
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select

from plantrail.domain import commands as c
from plantrail.domain.errors import (
    InvalidInput,
    ItemNotFound,
    PlanDischargedError,
    PlanNotFound,
    PlantrailError,
    RuleViolation,
    StaleVersion,
)
from plantrail.domain.instruments import INSTRUMENT_RANGES
from plantrail.domain.parsing import parse_command, parse_meta
from plantrail.domain.service import CommandResult, PlanService
from plantrail.projections.assembly import recorder_of
from plantrail.projections.store.schema import events
from tests.support.clock import FakeClock
from tests.support.plans import CLINICIAN, build_signed_plan, meta, open_command, open_plan

WHY = "Discussed with the client at today's session"
Ids = dict[str, Any]


def stored_events(service: PlanService) -> int:
    with recorder_of(service).engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


@dataclass
class Before:
    """What the store held before a refused command."""

    service: PlanService
    plan_id: UUID
    version: int
    content: dict[str, Any]
    events: int

    @classmethod
    def take(cls, service: PlanService, plan_id: UUID) -> Before:
        state = service.load(plan_id)
        return cls(service, plan_id, state.version, state.model_dump(), stored_events(service))

    def assert_unchanged(self, command_id: str) -> None:
        state = self.service.load(self.plan_id)
        assert state.version == self.version
        assert state.model_dump() == self.content
        assert stored_events(self.service) == self.events
        assert self.service.store.find_command(command_id) is None


def refused(
    service: PlanService,
    plan_id: UUID,
    command: c.PlanCommand,
    error: type[PlantrailError],
    field: str | None,
    reason: str,
    **meta_fields: Any,
) -> tuple[PlantrailError, c.CommandMeta]:
    """Run ``command``, expect ``error`` naming ``field`` with ``reason``, and nothing stored."""
    before = Before.take(service, plan_id)
    envelope = meta(**meta_fields)
    with pytest.raises(error) as info:
        service.execute(plan_id, command, envelope)
    problem = info.value
    assert reason in problem.message
    if field is not None:
        assert problem.errors, "the error must name the field at fault"
        assert problem.errors[0].field == field
        assert reason in problem.errors[0].message
    before.assert_unchanged(envelope.command_id)
    return problem, envelope


def retried(
    service: PlanService,
    plan_id: UUID,
    envelope: c.CommandMeta,
    command: c.PlanCommand,
    **changes: Any,
) -> CommandResult:
    """The refused command's id with a corrected payload: it is stored, once."""
    version = service.load(plan_id).version
    fixed = envelope.model_copy(update=changes)
    result = service.execute(plan_id, command, fixed)
    assert result.version > version
    assert service.load(plan_id).version == result.version
    assert service.store.find_command(fixed.command_id) is not None
    return result


# ------------------------------------------------------------------------- unknown ids
def test_unknown_plan_is_refused_and_stores_nothing(service: PlanService) -> None:
    ids = build_signed_plan(service)
    before = Before.take(service, ids["plan_id"])
    unknown = uuid4()
    envelope = meta()
    with pytest.raises(PlanNotFound) as info:
        service.execute(unknown, c.NoteStrength(text="Supportive sister"), envelope)
    assert str(unknown) in info.value.message
    before.assert_unchanged(envelope.command_id)
    assert not service.store.plan_exists(unknown)
    retried(service, ids["plan_id"], envelope, c.NoteStrength(text="Supportive sister"))


UnknownCase = Callable[[Ids], tuple[c.PlanCommand, c.PlanCommand]]
UNKNOWN_ITEMS: dict[str, tuple[type[PlantrailError], str, UnknownCase]] = {
    "remove diagnosis": (
        ItemNotFound,
        "code",
        lambda i: (c.RemoveDiagnosis(code="F99"), c.RemoveDiagnosis(code="F32.1")),
    ),
    "revise problem": (
        ItemNotFound,
        "problem_id",
        lambda i: (
            c.ReviseProblem(problem_id="no-such-problem", statement="Low mood"),
            c.ReviseProblem(problem_id=i["problem"], statement="Low mood, PHQ-9 of 14"),
        ),
    ),
    "revise goal": (
        ItemNotFound,
        "goal_id",
        lambda i: (
            c.ReviseGoal(goal_id="no-such-goal", status="achieved"),
            c.ReviseGoal(goal_id=i["goal"], status="achieved"),
        ),
    ),
    "revise objective": (
        ItemNotFound,
        "objective_id",
        lambda i: (
            c.ReviseObjective(objective_id="no-such-objective", statement="PHQ-9 below 8"),
            c.ReviseObjective(objective_id=i["objective1"], statement="PHQ-9 below 8"),
        ),
    ),
    "mark objective": (
        ItemNotFound,
        "objective_id",
        lambda i: (
            c.MarkObjectiveStatus(objective_id="no-such-objective", status="met"),
            c.MarkObjectiveStatus(objective_id=i["objective1"], status="met"),
        ),
    ),
    "revise intervention": (
        ItemNotFound,
        "intervention_id",
        lambda i: (
            c.ReviseIntervention(intervention_id="no-such-intervention", frequency="twice weekly"),
            c.ReviseIntervention(intervention_id=i["intervention"], frequency="twice weekly"),
        ),
    ),
    "void measurement": (
        ItemNotFound,
        "measurement_id",
        lambda i: (
            c.VoidMeasurement(measurement_id="no-such-measurement"),
            c.NoteStrength(text="Keeps every appointment"),
        ),
    ),
    "complete review": (
        ItemNotFound,
        "review_id",
        lambda i: (
            c.CompleteReview(review_id="no-such-review", assessments=[], progress_summary="-"),
            c.StartReview(reason="scheduled"),
        ),
    ),
    "capture signature for a request": (
        ItemNotFound,
        "request_id",
        lambda i: (
            c.CaptureSignature(
                role="supervisor", meaning="approved", signer_name="Sam Okafor", request_id="nope"
            ),
            c.CaptureSignature(role="supervisor", meaning="approved", signer_name="Sam Okafor"),
        ),
    ),
    "revoke signature": (
        ItemNotFound,
        "signature_id",
        lambda i: (
            c.RevokeSignature(signature_id="no-such-signature"),
            c.RevokeSignature(signature_id=i["signature"]),
        ),
    ),
    "objective under an unknown goal": (
        RuleViolation,
        "goal_id",
        lambda i: (
            c.AddObjective(goal_id="no-such-goal", statement="Sleep 7 hours"),
            c.AddObjective(goal_id=i["goal"], statement="Sleep 7 hours"),
        ),
    ),
    "goal for an unknown problem": (
        RuleViolation,
        "problem_ids",
        lambda i: (
            c.AddGoal(statement="Sleep well", problem_ids=["no-such-problem"]),
            c.AddGoal(statement="Sleep well", problem_ids=[i["problem"]]),
        ),
    ),
    "problem for a diagnosis not on the plan": (
        RuleViolation,
        "diagnosis_codes",
        lambda i: (
            c.AddProblem(statement="Worry most days", diagnosis_codes=["F41.1"]),
            c.AddProblem(statement="Worry most days", diagnosis_codes=["F32.1"]),
        ),
    ),
    "intervention for an unknown objective": (
        RuleViolation,
        "objective_ids",
        lambda i: (
            c.AddIntervention(
                modality="CBT", technique="Sleep hygiene", frequency="weekly", objective_ids=["x"]
            ),
            c.AddIntervention(
                modality="CBT",
                technique="Sleep hygiene",
                frequency="weekly",
                objective_ids=[i["objective2"]],
            ),
        ),
    ),
    "measurement for an unknown objective": (
        RuleViolation,
        "objective_id",
        lambda i: (
            c.RecordMeasurement(
                instrument="PHQ-9", score=12, administered_on=date(2026, 3, 1), objective_id="x"
            ),
            c.RecordMeasurement(
                instrument="PHQ-9",
                score=12,
                administered_on=date(2026, 3, 1),
                objective_id=i["objective1"],
            ),
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(UNKNOWN_ITEMS))
def test_unknown_item_is_refused_naming_its_field(service: PlanService, case: str) -> None:
    error, field, build = UNKNOWN_ITEMS[case]
    ids = build_signed_plan(service)
    bad, good = build(ids)
    problem, envelope = refused(
        service, ids["plan_id"], bad, error, field, "this plan", rationale=WHY
    )
    unknown = bad.model_dump()[field]
    assert str(unknown[0] if isinstance(unknown, list) else unknown) in problem.errors[0].message
    retried(service, ids["plan_id"], envelope, good)


def test_unknown_item_messages_say_what_was_not_found(service: PlanService) -> None:
    ids = build_signed_plan(service)
    problem, _ = refused(
        service,
        ids["plan_id"],
        c.ReviseProblem(problem_id="p-404", statement="Low mood"),
        ItemNotFound,
        "problem_id",
        "no problem p-404 in this plan",
        rationale=WHY,
    )
    assert problem.message == "no problem p-404 in this plan"


def test_an_assessment_of_an_unknown_objective_is_refused(service: PlanService) -> None:
    ids = build_signed_plan(service)
    review = service.execute(ids["plan_id"], c.StartReview(), meta())
    assessments = [
        c.AssessmentIn(objective_id="no-such-objective", status="met"),
        c.AssessmentIn(objective_id=ids["objective2"], status="not_met"),
    ]
    command = c.CompleteReview(
        review_id=review.item_id, assessments=assessments, progress_summary="Mixed progress"
    )
    _, envelope = refused(
        service,
        ids["plan_id"],
        command,
        RuleViolation,
        "assessments.0.objective_id",
        "no-such-objective is not an objective on this plan",
    )
    assessments[0] = c.AssessmentIn(objective_id=ids["objective1"], status="met")
    retried(
        service, ids["plan_id"], envelope, command.model_copy(update={"assessments": assessments})
    )


# ----------------------------------------------------------------------- no-op revisions
NO_CHANGE: dict[str, tuple[str, Callable[[Ids], c.PlanCommand]]] = {
    "problem": (
        "problem_id",
        lambda i: c.ReviseProblem(
            problem_id=i["problem"],
            statement="Low mood most days; PHQ-9 of 16 at intake",
            diagnosis_codes=["F32.1"],
        ),
    ),
    "goal": (
        "goal_id",
        lambda i: c.ReviseGoal(
            goal_id=i["goal"], statement="Mood improves enough to return to work", status="active"
        ),
    ),
    "objective": (
        "objective_id",
        lambda i: c.ReviseObjective(
            objective_id=i["objective1"],
            statement="PHQ-9 below 10",
            measure={"instrument": "phq9", "baseline": 16, "target": 9},
            target_date=date(2026, 9, 1),
        ),
    ),
    "intervention": (
        "intervention_id",
        lambda i: c.ReviseIntervention(
            intervention_id=i["intervention"], modality="CBT", frequency="weekly"
        ),
    ),
    "discharge criteria": (
        "criteria",
        lambda i: c.SetDischargeCriteria(
            criteria=["PHQ-9 below 10 on two consecutive administrations"]
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(NO_CHANGE))
def test_a_revision_that_changes_nothing_is_refused(service: PlanService, case: str) -> None:
    field, build = NO_CHANGE[case]
    ids = build_signed_plan(service)
    _, envelope = refused(
        service, ids["plan_id"], build(ids), RuleViolation, field, "changes nothing", rationale=WHY
    )
    retried(service, ids["plan_id"], envelope, c.NoteStrength(text="Curious about CBT"))


def test_setting_the_same_timeline_again_is_refused(service: PlanService) -> None:
    ids = build_signed_plan(service)
    timeline = c.SetTimeline(estimated_sessions=16, session_frequency="weekly")
    service.execute(ids["plan_id"], timeline, meta())
    _, envelope = refused(
        service,
        ids["plan_id"],
        timeline,
        RuleViolation,
        "estimated_sessions",
        "changes nothing",
        rationale=WHY,
    )
    retried(
        service, ids["plan_id"], envelope, timeline.model_copy(update={"estimated_sessions": 12})
    )


def test_marking_an_objective_with_its_current_status_is_refused(service: PlanService) -> None:
    ids = build_signed_plan(service)
    _, envelope = refused(
        service,
        ids["plan_id"],
        c.MarkObjectiveStatus(objective_id=ids["objective1"], status="open"),
        RuleViolation,
        "status",
        "Objective 1.1 is already open",
        rationale=WHY,
    )
    retried(
        service,
        ids["plan_id"],
        envelope,
        c.MarkObjectiveStatus(objective_id=ids["objective1"], status="partially_met"),
    )


# ----------------------------------------------------------------- statuses off the list
STATUS_CASES: dict[str, tuple[type[c.Command], str, Callable[[Ids, str], dict[str, Any]]]] = {
    "objective status": (
        c.MarkObjectiveStatus,
        "status",
        lambda i, s: {"objective_id": i["objective1"], "status": s},
    ),
    "goal status": (c.ReviseGoal, "status", lambda i, s: {"goal_id": i["goal"], "status": s}),
    "problem status": (
        c.ReviseProblem,
        "status",
        lambda i, s: {"problem_id": i["problem"], "status": s},
    ),
    "intervention status": (
        c.ReviseIntervention,
        "status",
        lambda i, s: {"intervention_id": i["intervention"], "status": s},
    ),
    "review assessment status": (
        c.CompleteReview,
        "assessments.1.status",
        lambda i, s: {
            "review_id": i["review"],
            "progress_summary": "Mood better, activities not yet",
            "assessments": [
                {"objective_id": i["objective1"], "status": "met"},
                {"objective_id": i["objective2"], "status": s},
            ],
        },
    ),
}
VALID_STATUS = {
    "objective status": "met",
    "goal status": "achieved",
    "problem status": "resolved",
    "intervention status": "discontinued",
    "review assessment status": "not_met",
}


@pytest.mark.parametrize("case", sorted(STATUS_CASES))
def test_a_status_outside_the_list_is_refused(service: PlanService, case: str) -> None:
    model, field, body = STATUS_CASES[case]
    ids = build_signed_plan(service)
    ids["review"] = service.execute(ids["plan_id"], c.StartReview(), meta()).item_id
    before = Before.take(service, ids["plan_id"])
    envelope = parse_meta({"rationale": WHY}, actor=CLINICIAN, command_id=f"status-{case}")
    with pytest.raises(InvalidInput) as info:
        parse_command(model, body(ids, "finished"))
    assert info.value.errors[0].field == field
    assert info.value.errors[0].message.startswith("must be ")
    assert f"{field}: must be " in info.value.message
    before.assert_unchanged(envelope.command_id)
    command = parse_command(model, body(ids, VALID_STATUS[case]))
    retried(service, ids["plan_id"], envelope, command)  # type: ignore[arg-type]


# ------------------------------------------------------------- instrument score ranges
@pytest.mark.parametrize(
    ("instrument", "score"),
    [
        (name, score)
        for name, (low, high) in INSTRUMENT_RANGES.items()
        for score in (low - 1, high + 1)
    ],
)
def test_a_measurement_outside_its_instruments_range_is_refused(
    service: PlanService, instrument: str, score: int
) -> None:
    ids = build_signed_plan(service)
    low, high = INSTRUMENT_RANGES[instrument]
    today = date(2026, 3, 2)
    command = c.RecordMeasurement(instrument=instrument, score=score, administered_on=today)
    _, envelope = refused(
        service,
        ids["plan_id"],
        command,
        RuleViolation,
        "score",
        f"outside the {instrument} range {low}–{high}",
    )
    edge = low if score < low else high  # the range is inclusive
    result = retried(service, ids["plan_id"], envelope, command.model_copy(update={"score": edge}))
    assert service.load(ids["plan_id"]).measurements[result.item_id or ""].score == edge


def test_a_score_is_range_checked_whatever_the_instruments_spelling(service: PlanService) -> None:
    ids = build_signed_plan(service)
    command = c.RecordMeasurement(instrument="phq 9", score=28, administered_on=date(2026, 3, 2))
    refused(service, ids["plan_id"], command, RuleViolation, "score", "outside the PHQ-9 range")
    fractional = command.model_copy(update={"score": 12.5})
    refused(service, ids["plan_id"], fractional, RuleViolation, "score", "must be a whole number")


@pytest.mark.parametrize(
    ("measure", "field", "reason"),
    [
        ({"instrument": "PHQ-9", "baseline": 30, "target": 9}, "measure.baseline", "0–27"),
        ({"instrument": "GAD-7", "baseline": 15, "target": -1}, "measure.target", "0–21"),
        ({"instrument": "PCL-5", "baseline": "high", "target": 20}, "measure.baseline", "number"),
    ],
)
def test_an_objective_measure_outside_its_range_is_refused(
    service: PlanService, measure: dict[str, Any], field: str, reason: str
) -> None:
    ids = build_signed_plan(service)
    before = Before.take(service, ids["plan_id"])
    body = {"goal_id": ids["goal"], "statement": "Fewer intrusive memories", "measure": measure}
    envelope = parse_meta({}, actor=CLINICIAN, command_id=f"measure-{field}-{reason}")
    with pytest.raises(InvalidInput) as info:
        parse_command(c.AddObjective, body)
    assert info.value.errors[0].field == field
    assert reason in info.value.errors[0].message
    before.assert_unchanged(envelope.command_id)
    body["measure"] = {"instrument": measure["instrument"], "baseline": 15, "target": 5}
    retried(service, ids["plan_id"], envelope, parse_command(c.AddObjective, body))


# ------------------------------------------------------------------------ effective dates
def test_an_effective_date_in_the_future_is_refused(service: PlanService, clock: FakeClock) -> None:
    ids = build_signed_plan(service)
    tomorrow = clock.now.date() + timedelta(days=1)
    _, envelope = refused(
        service,
        ids["plan_id"],
        c.NoteStrength(text="Supportive sister"),
        RuleViolation,
        "effective_date",
        f"{tomorrow} is in the future",
        effective_date=tomorrow,
    )
    retried(
        service,
        ids["plan_id"],
        envelope,
        c.NoteStrength(text="Supportive sister"),
        effective_date=clock.now.date(),
    )


def test_opening_a_plan_in_the_future_is_refused(service: PlanService, clock: FakeClock) -> None:
    tomorrow = clock.now.date() + timedelta(days=1)
    total = stored_events(service)
    envelope = meta(effective_date=tomorrow)
    with pytest.raises(RuleViolation) as info:
        service.open_plan(open_command(), envelope)
    assert info.value.errors[0].field == "effective_date"
    assert "is in the future" in info.value.errors[0].message
    assert stored_events(service) == total
    assert service.store.find_command(envelope.command_id) is None
    opened = service.open_plan(open_command(), envelope.model_copy(update={"effective_date": None}))
    assert service.load(UUID(opened.plan_id)).effective_date == clock.now.date()


def test_an_effective_date_before_the_plans_is_refused(service: PlanService) -> None:
    ids = build_signed_plan(service, effective=date(2026, 2, 5))
    _, envelope = refused(
        service,
        ids["plan_id"],
        c.NoteBarrier(text="Works night shifts"),
        RuleViolation,
        "effective_date",
        "2026-02-04 is before the plan's effective date 2026-02-05",
        effective_date=date(2026, 2, 4),
    )
    result = retried(
        service,
        ids["plan_id"],
        envelope,
        c.NoteBarrier(text="Works night shifts"),
        effective_date=date(2026, 2, 5),
    )
    event = service.events_of(ids["plan_id"], gt=result.version - 1)[0]
    assert event.effective_date == date(2026, 2, 5)
    assert event.entry_kind == "delayed_entry"  # 25 days back: a late entry, labelled


def test_a_revision_dated_before_its_item_took_effect_is_refused(
    service: PlanService, clock: FakeClock
) -> None:
    plan_id = open_plan(service, effective=date(2026, 2, 5))
    goal = service.execute(plan_id, c.AddGoal(statement="Return to work"), meta())
    _, envelope = refused(
        service,
        plan_id,
        c.ReviseGoal(goal_id=goal.item_id or "", statement="Return to work part-time"),
        RuleViolation,
        "effective_date",
        "is before Goal 1 took effect on 2026-03-02",
        effective_date=date(2026, 2, 15),
    )
    retried(
        service,
        plan_id,
        envelope,
        c.ReviseGoal(goal_id=goal.item_id or "", statement="Return to work part-time"),
        effective_date=clock.now.date(),
    )


# ---------------------------------------------------------------------------- target dates
def test_a_target_date_before_the_objectives_effective_date_is_refused(
    service: PlanService,
) -> None:
    ids = build_signed_plan(service)
    add = c.AddObjective(
        goal_id=ids["goal"], statement="Walk 20 minutes a day", target_date=date(2026, 2, 20)
    )
    _, envelope = refused(
        service,
        ids["plan_id"],
        add,
        RuleViolation,
        "target_date",
        "2026-02-20 is before the objective's effective date 2026-03-02",
    )
    retried(
        service, ids["plan_id"], envelope, add.model_copy(update={"target_date": date(2026, 6, 1)})
    )


def test_revising_a_target_date_to_before_the_objective_took_effect_is_refused(
    service: PlanService, clock: FakeClock
) -> None:
    ids = build_signed_plan(service)
    clock.advance(days=20)
    revise = c.ReviseObjective(objective_id=ids["objective1"], target_date=date(2026, 3, 1))
    _, envelope = refused(
        service,
        ids["plan_id"],
        revise,
        RuleViolation,
        "target_date",
        "2026-03-01 is before Objective 1.1 took effect on 2026-03-02",
        rationale=WHY,
    )
    retried(
        service,
        ids["plan_id"],
        envelope,
        revise.model_copy(update={"target_date": date(2026, 3, 2)}),
    )


# --------------------------------------------------------------------- missing rationale
RATIONALE_CASES: dict[str, Callable[[Ids], c.PlanCommand]] = {
    "remove a diagnosis": lambda i: c.RemoveDiagnosis(code="F32.1"),
    "revise a problem": lambda i: c.ReviseProblem(problem_id=i["problem"], statement="Low mood"),
    "resolve a problem": lambda i: c.ReviseProblem(problem_id=i["problem"], status="resolved"),
    "revise a goal": lambda i: c.ReviseGoal(goal_id=i["goal"], client_words="Feel like me"),
    "change a goal's status": lambda i: c.ReviseGoal(goal_id=i["goal"], status="retired"),
    "revise an objective": lambda i: c.ReviseObjective(
        objective_id=i["objective2"], statement="Five planned activities a week"
    ),
    "change an objective's status": lambda i: c.MarkObjectiveStatus(
        objective_id=i["objective2"], status="no_longer_relevant"
    ),
    "revise an intervention": lambda i: c.ReviseIntervention(
        intervention_id=i["intervention"], frequency="fortnightly"
    ),
    "discontinue an intervention": lambda i: c.ReviseIntervention(
        intervention_id=i["intervention"], status="discontinued"
    ),
    "void a measurement": lambda i: c.VoidMeasurement(measurement_id=i["measurement"]),
    "revoke a signature": lambda i: c.RevokeSignature(signature_id=i["signature"]),
    "revise the discharge criteria": lambda i: c.SetDischargeCriteria(
        criteria=["PHQ-9 below 5 twice"]
    ),
}


@pytest.mark.parametrize("case", sorted(RATIONALE_CASES))
def test_a_change_to_an_active_plan_without_rationale_is_refused(
    service: PlanService, case: str
) -> None:
    ids = build_signed_plan(service)
    measurement = c.RecordMeasurement(
        instrument="PHQ-9", score=14, administered_on=date(2026, 3, 2)
    )
    ids["measurement"] = service.execute(ids["plan_id"], measurement, meta()).item_id
    command = RATIONALE_CASES[case](ids)
    _, envelope = refused(
        service, ids["plan_id"], command, RuleViolation, "rationale", "is required"
    )
    result = retried(service, ids["plan_id"], envelope, command, rationale=WHY)
    stored = service.events_of(ids["plan_id"], gt=result.version - 1)
    assert [e.rationale for e in stored] == [WHY]


def test_a_draft_plan_can_be_revised_without_rationale(service: PlanService) -> None:
    plan_id = open_plan(service)
    goal = service.execute(plan_id, c.AddGoal(statement="Return to work"), meta())
    revised = service.execute(
        plan_id,
        c.ReviseGoal(goal_id=goal.item_id or "", statement="Return to work by June"),
        meta(),
    )
    assert revised.version == goal.version + 1
    assert service.load(plan_id).status == "draft"


# --------------------------------------------------------------------------------- reviews
def test_completing_a_review_without_every_objective_is_refused(
    service: PlanService,
) -> None:
    ids = build_signed_plan(service)
    review = service.execute(ids["plan_id"], c.StartReview(reason="scheduled"), meta())
    partial = c.CompleteReview(
        review_id=review.item_id or "",
        assessments=[c.AssessmentIn(objective_id=ids["objective1"], status="partially_met")],
        progress_summary="PHQ-9 down to 12; activities not discussed",
    )
    _, envelope = refused(
        service,
        ids["plan_id"],
        partial,
        RuleViolation,
        "assessments",
        "every objective must be assessed, met ones too (confirm or reopen them); missing "
        "Objective 1.2",
    )
    complete = partial.model_copy(
        update={
            "assessments": [
                *partial.assessments,
                c.AssessmentIn(objective_id=ids["objective2"], status="not_met"),
            ]
        }
    )
    retried(service, ids["plan_id"], envelope, complete)
    state = service.load(ids["plan_id"])
    assert state.objectives[ids["objective2"]].status == "not_met"
    assert state.open_review is None


# ------------------------------------------------------------------------ discharged plans
EVERY_COMMAND: dict[str, Callable[[Ids], c.PlanCommand]] = {
    "AddDiagnosis": lambda i: c.AddDiagnosis(code="F41.1", description="Generalized anxiety"),
    "RemoveDiagnosis": lambda i: c.RemoveDiagnosis(code="F32.1"),
    "AddProblem": lambda i: c.AddProblem(statement="Worry most days"),
    "ReviseProblem": lambda i: c.ReviseProblem(problem_id=i["problem"], statement="Low mood"),
    "AddGoal": lambda i: c.AddGoal(statement="Sleep through the night"),
    "ReviseGoal": lambda i: c.ReviseGoal(goal_id=i["goal"], status="achieved"),
    "AddObjective": lambda i: c.AddObjective(goal_id=i["goal"], statement="Sleep 7 hours"),
    "ReviseObjective": lambda i: c.ReviseObjective(
        objective_id=i["objective1"], statement="PHQ-9 below 8"
    ),
    "MarkObjectiveStatus": lambda i: c.MarkObjectiveStatus(
        objective_id=i["objective1"], status="met"
    ),
    "AddIntervention": lambda i: c.AddIntervention(
        modality="CBT", technique="Sleep hygiene", frequency="weekly"
    ),
    "ReviseIntervention": lambda i: c.ReviseIntervention(
        intervention_id=i["intervention"], status="discontinued"
    ),
    "RecordMeasurement": lambda i: c.RecordMeasurement(
        instrument="PHQ-9", score=6, administered_on=date(2026, 3, 2)
    ),
    "VoidMeasurement": lambda i: c.VoidMeasurement(measurement_id="any"),
    "NoteStrength": lambda i: c.NoteStrength(text="Supportive sister"),
    "NoteBarrier": lambda i: c.NoteBarrier(text="Night shifts"),
    "SetTimeline": lambda i: c.SetTimeline(estimated_sessions=12, session_frequency="weekly"),
    "SetSafetyPlan": lambda i: c.SetSafetyPlan(
        warning_signs=["Stops eating"],
        coping_strategies=["Call my sister"],
        contacts=[c.SafetyContactIn(name="988", kind="crisis_line")],
    ),
    "SetDischargeCriteria": lambda i: c.SetDischargeCriteria(criteria=["PHQ-9 below 5"]),
    "RecordRationale": lambda i: c.RecordRationale(text="Forgot to say why", explains_version=3),
    "StartReview": lambda i: c.StartReview(reason="transition"),
    "CompleteReview": lambda i: c.CompleteReview(
        review_id="any", assessments=[], progress_summary="Done"
    ),
    "RequestSignature": lambda i: c.RequestSignature(
        role="supervisor", meaning="approved", signer_id="sam", signer_name="Sam Okafor"
    ),
    "CaptureSignature": lambda i: c.CaptureSignature(
        role="client", meaning="agreed", signer_name="Alex Moreno"
    ),
    "RevokeSignature": lambda i: c.RevokeSignature(signature_id=i["signature"]),
    "DischargePlan": lambda i: c.DischargePlan(reason="Discharged twice"),
    "RequestAmendment": lambda i: c.RequestAmendment(
        concerns="Problem 1",
        requested_change="Remove the word 'hopeless'",
        reason="I never said that",
        received_on=date(2026, 3, 2),
        requested_by="Alex Moreno",
    ),
    "ExtendAmendmentDeadline": lambda i: c.ExtendAmendmentDeadline(
        amendment_id="any", new_due_date=date(2026, 5, 20), reason="Records are off site"
    ),
    "AcceptAmendment": lambda i: c.AcceptAmendment(
        amendment_id="any", carried_out_in_version=3, notified="The client"
    ),
    "DenyAmendment": lambda i: c.DenyAmendment(
        amendment_id="any", denial_basis="accurate_and_complete", denial_text="It is accurate"
    ),
    "FileDisagreementStatement": lambda i: c.FileDisagreementStatement(
        amendment_id="any", statement="I disagree"
    ),
    "FileRebuttal": lambda i: c.FileRebuttal(amendment_id="any", rebuttal="We stand by it"),
}


def test_every_plan_command_is_listed_for_the_discharge_rule() -> None:
    assert set(EVERY_COMMAND) == {cls.__name__ for cls in get_args(c.PlanCommand)}


@pytest.fixture
def discharged(service: PlanService) -> Ids:
    ids = build_signed_plan(service)
    service.execute(ids["plan_id"], c.DischargePlan(reason="Goals met; client moving away"), meta())
    return ids


ON_A_CLOSED_RECORD = {
    "RequestAmendment",
    "ExtendAmendmentDeadline",
    "DenyAmendment",
    "FileDisagreementStatement",
    "FileRebuttal",
}
"""What a discharged plan still takes (ADR 0015): a request to amend it and its steps, but not
an acceptance, which needs a revision."""


def test_a_discharged_plan_still_takes_an_amendment_request(
    service: PlanService, discharged: Ids
) -> None:
    made = service.execute(
        discharged["plan_id"], EVERY_COMMAND["RequestAmendment"](discharged), meta()
    )
    state = service.load(discharged["plan_id"])
    assert state.status == "discharged"
    assert made.item_id in state.amendments


@pytest.mark.parametrize("name", sorted(set(EVERY_COMMAND) - ON_A_CLOSED_RECORD))
def test_any_command_on_a_discharged_plan_is_refused(
    service: PlanService, discharged: Ids, name: str
) -> None:
    command = EVERY_COMMAND[name](discharged)
    _, envelope = refused(
        service,
        discharged["plan_id"],
        command,
        PlanDischargedError,
        None,
        "the plan is discharged: it can be read but no longer changed",
        rationale=WHY,
    )
    assert service.load(discharged["plan_id"]).status == "discharged"  # reading still works
    other = open_plan(service, mrn="MRN-2002")
    retried(service, other, envelope, c.NoteStrength(text="Supportive sister"))


# --------------------------------------------------------------------------- stale versions
@pytest.mark.parametrize("offset", [-1, -5, 1])
def test_a_write_against_a_stale_version_is_refused(service: PlanService, offset: int) -> None:
    ids = build_signed_plan(service)
    current = service.load(ids["plan_id"]).version
    command = c.NoteStrength(text="Plays in a band")
    problem, envelope = refused(
        service,
        ids["plan_id"],
        command,
        StaleVersion,
        None,
        f"the plan is at version {current}, not {current + offset}",
        expected_version=current + offset,
    )
    assert isinstance(problem, StaleVersion)
    assert (problem.expected, problem.current) == (current + offset, current)
    result = retried(service, ids["plan_id"], envelope, command, expected_version=current)
    assert result.version == current + 1
