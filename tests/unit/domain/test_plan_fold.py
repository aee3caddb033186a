"""The fold over partial views of a history. A view in clinical effect on a date (``load_at``,
the packet, the period findings) keeps only the events effective by then, so it can hold an
event about an item whose creation took effect later; and a view may lack the opening. The fold
then shows neither the item nor the event, and never fails or counts it as a content change."""

from __future__ import annotations

from datetime import timedelta

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from plantrail.domain.plan import PlanState, fold
from tests.support.decider import TODAY, Plan, active_plan
from tests.unit.domain.test_decide_amendments import (
    RECEIVED,
    amended_revision,
    deny,
    disagree,
    extend,
    rebut,
    request,
)

WHY = {"rationale": "Reviewed with the client"}

_CREATIONS = (
    ev.DiagnosisAdded,
    ev.ProblemAdded,
    ev.GoalAdded,
    ev.ObjectiveAdded,
    ev.InterventionAdded,
    ev.MeasurementRecorded,
    ev.ReviewStarted,
    ev.SignatureCaptured,
    ev.AmendmentRequested,
)


def effective_by(events: list[ev.PlanEvent], day: object) -> list[ev.PlanEvent]:
    return [e for e in events if e.effective_date <= day]  # type: ignore[operator]


def folded(events: list[ev.PlanEvent]) -> PlanState:
    state = fold(events)
    assert state is not None
    return state


def test_a_view_without_the_opening_shows_no_plan() -> None:
    plan, *_ = active_plan()
    assert fold(plan.events[1:]) is None
    assert fold([]) is None


def test_an_extension_dated_before_its_request_took_effect_is_not_shown_on_that_date() -> None:
    plan = Plan()
    asked = request(plan, effective_date=TODAY)  # received two days ago, recorded as of today
    plan.add(extend(asked.amendment_id, RECEIVED + timedelta(days=70)), effective_date=RECEIVED)
    on_receipt = folded(effective_by(plan.events, RECEIVED))
    assert on_receipt.amendments == {}
    assert on_receipt.version == plan.state.version  # every event of the view was folded
    assert folded(effective_by(plan.events, TODAY)).amendments == plan.state.amendments


def test_a_void_dated_before_the_score_took_effect_is_not_shown_on_that_date() -> None:
    plan = Plan()
    scored = plan.add(
        c.RecordMeasurement(instrument="PHQ-9", score=16, administered_on=TODAY - timedelta(1))
    )
    assert isinstance(scored, ev.MeasurementRecorded)
    void_day = TODAY - timedelta(days=3)
    plan.add(c.VoidMeasurement(measurement_id=scored.measurement_id), effective_date=void_day)
    assert folded(effective_by(plan.events, void_day)).measurements == {}
    assert plan.state.measurements[scored.measurement_id].voided_version is not None


def _every_kind_of_later_event() -> Plan:
    """A plan whose every item is created, then revised, marked, voided, revoked or answered."""
    plan, goal, first, second = active_plan()
    plan.add(c.AddDiagnosis(code="F32.1", description="Major depressive disorder"))
    problem = plan.add(c.AddProblem(statement="Low mood most days", diagnosis_codes=["F32.1"]))
    assert isinstance(problem, ev.ProblemAdded)
    added = plan.add(
        c.AddIntervention(modality="CBT", technique="Activity scheduling", frequency="weekly")
    )
    assert isinstance(added, ev.InterventionAdded)
    scored = plan.add(c.RecordMeasurement(instrument="PHQ-9", score=16, administered_on=TODAY))
    assert isinstance(scored, ev.MeasurementRecorded)
    client = plan.sign("client")
    review = plan.add(c.StartReview())
    assert isinstance(review, ev.ReviewStarted)
    denied = request(plan)
    accepted = request(plan, item_ids=[goal])

    plan.run(c.ReviseProblem(problem_id=problem.problem_id, statement="Low mood"), **WHY)
    plan.run(c.ReviseProblem(problem_id=problem.problem_id, status="resolved"), **WHY)
    plan.run(c.RemoveDiagnosis(code="F32.1"), **WHY)
    plan.run(c.ReviseGoal(goal_id=goal, client_words="Feel like me", status="achieved"), **WHY)
    plan.run(c.ReviseObjective(objective_id=first.objective_id, statement="PHQ-9 < 9"), **WHY)
    plan.run(c.MarkObjectiveStatus(objective_id=second.objective_id, status="met"), **WHY)
    plan.run(
        c.ReviseIntervention(
            intervention_id=added.intervention_id, frequency="fortnightly", status="discontinued"
        ),
        **WHY,
    )
    plan.run(c.VoidMeasurement(measurement_id=scored.measurement_id), **WHY)
    plan.run(
        c.CompleteReview(
            review_id=review.review_id,
            assessments=[
                c.AssessmentIn(objective_id=first.objective_id, status="partially_met"),
                c.AssessmentIn(objective_id=second.objective_id, status="met"),
            ],
            progress_summary="Better",
        )
    )
    plan.run(c.RevokeSignature(signature_id=client.signature_id), **WHY)
    plan.add(extend(denied.amendment_id, RECEIVED + timedelta(days=70)))
    plan.add(deny(denied.amendment_id))
    plan.add(disagree(denied.amendment_id))
    plan.add(rebut(denied.amendment_id))
    version = amended_revision(plan, goal)
    plan.add(
        c.AcceptAmendment(
            amendment_id=accepted.amendment_id, carried_out_in_version=version, notified="Client"
        )
    )
    return plan


def test_events_about_items_the_view_does_not_hold_are_passed_over() -> None:
    plan = _every_kind_of_later_event()
    opened = plan.events[0]
    kept = [opened] + [e for e in plan.events[1:] if not isinstance(e, _CREATIONS)]
    view = folded(kept)
    assert view.version == plan.state.version
    for items in (
        view.diagnoses,
        view.problems,
        view.goals,
        view.objectives,
        view.interventions,
        view.measurements,
        view.reviews,
        view.signatures,
        view.amendments,
    ):
        assert items == {}
    # none of the passed-over events counts as a change of the plan's content
    assert view.content_version == opened.originator_version


def test_a_measurement_is_voided_and_a_review_completed_once_whatever_the_history_holds() -> None:
    """``decide`` refuses a second void or completion; should a history hold one anyway, the
    fold keeps the first (the snapshots rely on each changing at most once, ADR 0017)."""
    plan = _every_kind_of_later_event()
    voided = next(e for e in plan.events if isinstance(e, ev.MeasurementVoided))
    completed = next(e for e in plan.events if isinstance(e, ev.ReviewCompleted))
    before = plan.state.model_dump()
    after = plan.state.version
    again = [
        event.model_copy(update={"originator_version": after + n})
        for n, event in enumerate((voided, completed), start=1)
    ]
    state = fold(again, plan.state)
    assert state is not None
    assert state.version == after + 2
    assert state.model_dump(exclude={"version"}) == {
        k: v for k, v in before.items() if k != "version"
    }
