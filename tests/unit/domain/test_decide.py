"""The deciders and the fold on their own, with no store: labels, late entries, activation,
signatures, voiding, reviews and signature requests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from plantrail.domain.decide import decide
from plantrail.domain.errors import RuleViolation
from plantrail.domain.plan import fold
from tests.support.decider import NOW, TODAY, Plan, active_plan


# ------------------------------------------------------------------------------ labels
def test_objective_labels_number_per_goal_and_in_order() -> None:
    plan = Plan()
    goal1, goal2 = plan.goal("Return to work"), plan.goal("Sleep through the night")
    labels = [
        plan.objective(goal1, "PHQ-9 below 10").label,
        plan.objective(goal1, "Four planned activities a week").label,
        plan.objective(goal2, "Lights out by 23:00 five nights a week").label,
        plan.objective(goal1, "Call one friend a week").label,
    ]
    assert labels == ["Objective 1.1", "Objective 1.2", "Objective 2.1", "Objective 1.3"]
    assert [g.label for g in plan.state.goals.values()] == ["Goal 1", "Goal 2"]


def test_a_retired_items_number_is_never_given_again() -> None:
    plan = Plan()
    problem1 = plan.add(c.AddProblem(statement="Low mood most days"))
    goal = plan.goal()
    plan.objective(goal, "PHQ-9 below 10")
    last = plan.objective(goal, "Four planned activities a week")
    measurement = plan.add(c.RecordMeasurement(instrument="PHQ-9", score=16, administered_on=TODAY))
    intervention = plan.add(
        c.AddIntervention(modality="CBT", technique="Activity scheduling", frequency="weekly")
    )
    plan.sign("clinician")
    why = {"rationale": "Clinically reviewed with the client"}
    # retire the highest-numbered item of each kind: a count of live items would reuse its number
    plan.run(
        c.MarkObjectiveStatus(objective_id=last.objective_id, status="no_longer_relevant"), **why
    )
    plan.run(c.ReviseProblem(problem_id=problem1.problem_id, status="resolved"), **why)
    plan.run(c.ReviseGoal(goal_id=goal, status="retired"), **why)
    plan.run(c.VoidMeasurement(measurement_id=measurement.measurement_id), **why)
    plan.run(
        c.ReviseIntervention(intervention_id=intervention.intervention_id, status="discontinued"),
        **why,
    )

    assert plan.objective(goal, "Call one friend a week").label == "Objective 1.3"
    assert plan.add(c.AddProblem(statement="Poor sleep")).label == "Problem 2"
    assert plan.add(c.AddGoal(statement="Sleep well")).label == "Goal 2"
    new_measurement = plan.add(
        c.RecordMeasurement(instrument="PHQ-9", score=12, administered_on=TODAY)
    )
    assert new_measurement.label == "Measurement 2"
    new_intervention = plan.add(
        c.AddIntervention(modality="CBT", technique="Cognitive restructuring", frequency="weekly")
    )
    assert new_intervention.label == "Intervention 2"
    # the retired items keep their labels; a replay from the events gives the same labels
    assert plan.state.objectives[last.objective_id].label == "Objective 1.2"
    assert fold(plan.events) == plan.state


def test_item_ids_are_unique_and_stable_across_replay() -> None:
    plan, goal, first, second = active_plan()
    third = plan.objective(goal, "Walk 20 minutes three times a week")
    ids = [first.objective_id, second.objective_id, third.objective_id, goal]
    assert len(set(ids)) == 4
    replayed = fold(plan.events)
    assert replayed is not None
    assert list(replayed.objectives) == ids[:3]


# ------------------------------------------------------------------------- late entries
def test_an_entry_more_than_seven_days_back_is_a_delayed_entry() -> None:
    plan = Plan()
    late = plan.add(c.NoteStrength(text="Supportive sister"), effective_date=TODAY - timedelta(8))
    edge = plan.add(c.NoteStrength(text="Enjoys running"), effective_date=TODAY - timedelta(7))
    today = plan.add(c.NoteBarrier(text="Shift work"))
    assert (late.entry_kind, edge.entry_kind, today.entry_kind) == (
        "delayed_entry",
        "original",
        "original",
    )
    assert late.recorded_at == NOW  # the server clock, not the clinical date
    kinds = plan.state.entry_kinds  # the plan itself was opened 30 days back: version 1 too
    assert kinds == {1: "delayed_entry", late.originator_version: "delayed_entry"}


def test_the_late_entry_threshold_is_configurable_and_keeps_explicit_kinds() -> None:
    plan = Plan(late_entry_days=3)
    late = plan.add(c.NoteStrength(text="Supportive sister"), effective_date=TODAY - timedelta(4))
    amendment = plan.add(
        c.NoteBarrier(text="Night shifts"),
        effective_date=TODAY - timedelta(20),
        entry_kind="amendment",
    )
    assert late.entry_kind == "delayed_entry"
    assert amendment.entry_kind == "amendment"  # a labelled amendment is not relabelled


def test_a_plan_opened_late_is_itself_a_delayed_entry() -> None:
    plan = Plan(effective=TODAY - timedelta(days=10))
    assert plan.events[0].entry_kind == "delayed_entry"
    assert plan.state.entry_kinds == {1: "delayed_entry"}


# ---------------------------------------------------------------------------- activation
def test_the_plan_becomes_active_at_the_first_clinician_signature() -> None:
    plan = Plan()
    plan.goal()
    plan.sign("client")
    assert plan.state.status == "draft"  # the client's agreement alone does not activate it
    first = plan.sign("clinician")
    assert plan.state.status == "active"
    assert plan.state.activated_version == first.originator_version
    assert plan.state.activated_on == TODAY
    plan.add(c.NoteStrength(text="Keeps appointments"))
    plan.sign("clinician")
    assert plan.state.activated_version == first.originator_version
    assert plan.at(first.originator_version - 1).status == "draft"


def test_rationale_is_required_only_once_the_plan_is_active() -> None:
    plan = Plan()
    goal = plan.goal()
    obj = plan.objective(goal, "PHQ-9 below 10")
    plan.run(c.ReviseObjective(objective_id=obj.objective_id, statement="PHQ-9 below 9"))
    plan.sign("clinician")
    with pytest.raises(RuleViolation) as refused:
        decide(
            plan.state,
            c.ReviseObjective(objective_id=obj.objective_id, statement="PHQ-9 below 8"),
            plan.context(),
        )
    assert refused.value.errors[0].field == "rationale"


# ---------------------------------------------------------------------------- signatures
def test_a_content_change_supersedes_a_signature_and_names_its_version() -> None:
    plan, _goal, first, _second = active_plan()
    clinician = plan.sign("client")
    signature_id = clinician.signature_id
    assert plan.state.signatures[signature_id].status == "current"
    (revision,) = plan.run(
        c.ReviseObjective(objective_id=first.objective_id, statement="PHQ-9 below 8 by June"),
        rationale="Faster progress than expected",
    )
    signature = plan.state.signatures[signature_id]
    assert signature.status == "superseded"
    assert signature.superseded_by_version == revision.originator_version
    assert plan.state.content_version == revision.originator_version
    # the version before the change still shows it current
    before = plan.at(revision.originator_version - 1)
    assert before.signatures[signature_id].status == "current"


def test_measurements_and_notes_do_not_supersede_a_signature() -> None:
    plan, _goal, first, _second = active_plan()
    signature = plan.sign("client")
    content_version = plan.state.content_version
    recorded = plan.add(
        c.RecordMeasurement(
            instrument="phq9", score=12, administered_on=TODAY, objective_id=first.objective_id
        )
    )
    plan.add(c.RecordRationale(text="Scores trending down", explains_version=2))
    plan.add(
        c.RequestSignature(
            role="supervisor", meaning="approved", signer_id="sam", signer_name="Sam Okafor"
        )
    )
    plan.run(c.VoidMeasurement(measurement_id=recorded.measurement_id), rationale="Wrong client")
    assert plan.state.signatures[signature.signature_id].status == "current"
    assert plan.state.content_version == content_version
    assert recorded.instrument == "PHQ-9"


def test_a_revoked_signature_is_revoked_not_superseded() -> None:
    plan, _goal, first, _second = active_plan()
    signature = plan.sign("client")
    (revoke,) = plan.run(
        c.RevokeSignature(signature_id=signature.signature_id), rationale="Signed the wrong plan"
    )
    plan.run(
        c.ReviseObjective(objective_id=first.objective_id, statement="PHQ-9 below 8"),
        rationale="New target agreed",
    )
    revoked = plan.state.signatures[signature.signature_id]
    assert revoked.status == "revoked"
    assert revoked.revoked_version == revoke.originator_version
    assert revoked.superseded_by_version is None


def test_a_signature_binds_to_the_version_and_content_it_signed() -> None:
    plan, _goal, _first, _second = active_plan()
    before = plan.state.version
    signature = plan.sign("client")
    assert signature.signed_version == before
    other = Plan()
    other.goal("Something else entirely")
    assert other.sign("client").content_hash != signature.content_hash


# ------------------------------------------------------------------------------- voiding
def test_voiding_keeps_the_original_measurement_visible() -> None:
    plan, _goal, first, _second = active_plan()
    recorded = plan.add(
        c.RecordMeasurement(
            instrument="PHQ-9", score=21, administered_on=TODAY, objective_id=first.objective_id
        )
    )
    measurement_id = recorded.measurement_id
    (voided,) = plan.run(
        c.VoidMeasurement(measurement_id=measurement_id), rationale="Entered on the wrong chart"
    )
    kept = plan.state.measurements[measurement_id]
    assert (kept.score, kept.instrument, kept.administered_on) == (21, "PHQ-9", TODAY)
    assert kept.voided_version == voided.originator_version
    assert voided.rationale == "Entered on the wrong chart"
    assert recorded in plan.events  # a correction is a new event, never an edit
    assert plan.at(recorded.originator_version).measurements[measurement_id].voided_version is None
    void = c.VoidMeasurement(measurement_id=measurement_id)
    with pytest.raises(RuleViolation) as again:
        decide(plan.state, void, plan.context(rationale="Entered twice"))
    assert again.value.errors[0].field == "measurement_id"


# ------------------------------------------------------------------------------- reviews
def test_a_completed_review_sets_the_objective_statuses() -> None:
    plan, _goal, first, second = active_plan()
    signature = plan.sign("client")
    started = plan.add(c.StartReview(reason="scheduled"))
    review_id = started.review_id
    assert plan.state.open_review is not None
    (completed,) = plan.run(
        c.CompleteReview(
            review_id=review_id,
            assessments=[
                c.AssessmentIn(objective_id=first.objective_id, status="met", note="PHQ-9 of 8"),
                c.AssessmentIn(objective_id=second.objective_id, status="not_met"),
            ],
            progress_summary="Mood lifted; activities still rare",
        )
    )
    objectives = plan.state.objectives
    assert objectives[first.objective_id].status == "met"
    assert objectives[second.objective_id].status == "not_met"
    assert objectives[first.objective_id].changed_version == completed.originator_version
    review = plan.state.reviews[review_id]
    assert review.completed_version == completed.originator_version
    assert [a.status for a in review.assessments] == ["met", "not_met"]
    assert review.next_review_date == TODAY + timedelta(days=90)
    assert plan.state.open_review is None
    # a status is plan content: the client's signature no longer matches it
    assert plan.state.signatures[signature.signature_id].superseded_by_version == (
        completed.originator_version
    )
    # every objective is assessed at every review, the met one too (ADR 0014)
    second_review = plan.add(c.StartReview(reason="lack_of_progress"))
    with pytest.raises(RuleViolation) as refused:
        decide(
            plan.state,
            c.CompleteReview(
                review_id=second_review.review_id,
                assessments=[c.AssessmentIn(objective_id=second.objective_id, status="not_met")],
                progress_summary="Same again",
            ),
            plan.context(),
        )
    assert refused.value.errors[0].field == "assessments"
    assert "Objective 1.1" in refused.value.errors[0].message


def test_a_review_confirms_or_reopens_a_met_objective_and_records_which() -> None:
    plan, _goal, first, second = active_plan()
    review = plan.add(c.StartReview(reason="scheduled"))
    plan.run(
        c.CompleteReview(
            review_id=review.review_id,
            assessments=[
                c.AssessmentIn(objective_id=first.objective_id, status="met"),
                c.AssessmentIn(objective_id=second.objective_id, status="met"),
            ],
            progress_summary="Both met",
        )
    )
    again = plan.add(c.StartReview(reason="crisis"))
    reopen = c.CompleteReview(
        review_id=again.review_id,
        assessments=[
            c.AssessmentIn(objective_id=first.objective_id, status="met", note="PHQ-9 of 4"),
            c.AssessmentIn(objective_id=second.objective_id, status="open"),
        ],
        progress_summary="Activities dropped off after the layoff",
    )
    with pytest.raises(RuleViolation) as refused:
        decide(plan.state, reopen, plan.context())
    assert refused.value.errors[0].field == "assessments.1.rationale"
    assert "reopen Objective 1.2" in refused.value.errors[0].message
    fixed = reopen.model_copy(
        update={
            "assessments": [
                reopen.assessments[0],
                reopen.assessments[1].model_copy(update={"rationale": "Lost job; withdrew again"}),
            ]
        }
    )
    (completed,) = plan.run(fixed)
    assert isinstance(completed, ev.ReviewCompleted)
    confirmed, reopened = completed.assessments
    assert (confirmed.previous_status, confirmed.status, confirmed.outcome) == (
        "met",
        "met",
        "confirmed",
    )
    assert (reopened.previous_status, reopened.status, reopened.outcome) == (
        "met",
        "open",
        "reopened",
    )
    assert reopened.rationale == "Lost job; withdrew again"
    assert plan.state.objectives[second.objective_id].status == "open"


def test_an_objective_no_longer_relevant_need_not_be_assessed_but_may_be() -> None:
    plan, _goal, first, second = active_plan()
    plan.run(
        c.MarkObjectiveStatus(objective_id=second.objective_id, status="no_longer_relevant"),
        rationale="Client moved; the gym goal no longer applies",
    )
    review = plan.add(c.StartReview(reason="scheduled"))
    (completed,) = plan.run(
        c.CompleteReview(
            review_id=review.review_id,
            assessments=[c.AssessmentIn(objective_id=first.objective_id, status="partially_met")],
            progress_summary="Some progress",
        )
    )
    assert isinstance(completed, ev.ReviewCompleted)
    assert [a.objective_id for a in completed.assessments] == [first.objective_id]


# ---------------------------------------------------------------- signature requests
def test_a_pending_request_is_fulfilled_by_the_matching_signature() -> None:
    plan, _goal, _first, _second = active_plan()
    requested = plan.add(
        c.RequestSignature(
            role="supervisor", meaning="approved", signer_id="sam", signer_name="Sam Okafor"
        )
    )
    request_id = requested.request_id
    assert plan.state.signature_requests[request_id].signature_id is None  # pending

    client = plan.sign("client")  # someone else signing does not fulfil it
    assert client.request_id is None
    assert plan.state.signature_requests[request_id].signature_id is None

    supervisor = plan.sign("supervisor", signer_credentials="PhD")
    assert supervisor.request_id == request_id
    assert plan.state.signature_requests[request_id].signature_id == supervisor.signature_id
    before = plan.at(supervisor.originator_version - 1)
    assert before.signature_requests[request_id].signature_id is None

    again = plan.sign("supervisor", signer_credentials="PhD")
    assert again.request_id is None  # a fulfilled request stays with its first signature


def test_a_request_cannot_be_fulfilled_by_another_signer_or_meaning() -> None:
    plan, _goal, _first, _second = active_plan()
    requested = plan.add(
        c.RequestSignature(
            role="supervisor", meaning="approved", signer_id="sam", signer_name="Sam Okafor"
        )
    )
    request_id = requested.request_id
    wrong_signer = c.CaptureSignature(
        role="supervisor",
        meaning="approved",
        signer_name="Pat Lee",
        signer_id="pat",
        request_id=request_id,
    )
    wrong_meaning = c.CaptureSignature(
        role="supervisor", meaning="reviewed", signer_name="Sam Okafor", request_id=request_id
    )
    for command, field in ((wrong_signer, "signer_id"), (wrong_meaning, "meaning")):
        with pytest.raises(RuleViolation) as refused:
            decide(plan.state, command, plan.context())
        assert refused.value.errors[0].field == field
    assert plan.state.signature_requests[request_id].signature_id is None


# ----------------------------------------------------------------------------- the fold
def test_folding_the_whole_history_gives_the_state_built_step_by_step() -> None:
    plan, goal, first, _second = active_plan()
    plan.add(c.AddDiagnosis(code="F32.1", description="Major depressive disorder", primary=True))
    plan.run(
        c.ReviseObjective(objective_id=first.objective_id, target_date=TODAY + timedelta(90)),
        rationale="Target moved after the holiday",
    )
    plan.add(c.SetTimeline(estimated_sessions=16, session_frequency="weekly"))
    plan.add(c.DischargePlan(reason="Goals met"))
    assert plan.state.status == "discharged"
    assert fold(plan.events) == plan.state
    assert plan.at(2).goals[goal].label == "Goal 1"
    assert plan.at(2).version == 2
