"""``projections.continuation``: what a review or a renewal would be judged if completed now."""

from __future__ import annotations

from datetime import date

from plantrail.domain import commands as c
from plantrail.projections.continuation import (
    SharedStatement,
    applies,
    continuation_preview,
    unmoved_objectives,
)
from plantrail.projections.profile import RuleProfile
from plantrail.projections.reviews import preview_verdict, review_history
from tests.support.histories import PlanBuilder, complete_review, depression_plan

PROFILE = RuleProfile()


def _completion(b: PlanBuilder, summary: str, **fields: object) -> c.CompleteReview:
    """Start a review and return the command that would complete it (not run)."""
    review_id = b.add(c.StartReview(reason="scheduled"))
    return c.CompleteReview(
        review_id=review_id,
        assessments=[
            c.AssessmentIn(objective_id=o.id, status="partially_met")
            for o in b.state.objectives.values()
        ],
        progress_summary=summary,
        **fields,  # type: ignore[arg-type]
    )


def test_an_unchanged_review_requires_a_reason_with_a_plain_message() -> None:
    b, _ = depression_plan()
    b.advance(days=30)
    complete_review(b, "Mood a little better.")
    b.advance(days=30)
    command = _completion(b, "Mood a little better.")
    found = continuation_preview(b.events, command, PROFILE, ())
    assert found["verdict"]["verdict"] == "copied_forward"
    assert found["requires_reason"] is True
    assert found["applies"] is True
    assert found["similarity"] == 1.0
    assert found["summary_repeated"] is True
    assert found["version"] == b.state.version
    assert found["message"] == (
        "Completed now, Review 2 would be judged copied forward: the plan language is 100% the "
        "same as at Review 1 and the progress summary repeats it. Change what needs changing, "
        "or state why continuing unchanged is clinically right."
    )
    statuses = {a.objective_id: a.status for a in command.assessments}
    assert found["verdict"] == preview_verdict(b.events, statuses, command.progress_summary)


def test_an_updated_review_needs_no_reason() -> None:
    b, ids = depression_plan()
    b.advance(days=30)
    complete_review(b, "Mood a little better.")
    b.advance(days=30)
    b.run(
        c.ReviseObjective(
            objective_id=ids["objective11"],
            statement="PHQ-9 under 10 at two administrations a month apart.",
        ),
        rationale="A single score is not a stable change",
    )
    command = _completion(b, "PHQ-9 of 12; activities three a week.")
    found = continuation_preview(b.events, command, PROFILE, ())
    assert found["verdict"]["verdict"] == "updated"
    assert found["requires_reason"] is False
    assert found["message"].startswith("Completed now, Review 2 would be judged updated: ")


def test_the_preview_is_the_verdict_the_completed_review_gets() -> None:
    b, _ = depression_plan()
    b.advance(days=30)
    complete_review(b, "Mood a little better.")
    b.advance(days=30)
    command = _completion(
        b, "Mood a little better.", continuation_reason="Gains are steady on this plan."
    )
    found = continuation_preview(b.events, command, PROFILE, ())
    b.run(command)
    history = review_history(b.events)
    assert history[-1]["copy_forward"] == found["verdict"]
    assert history[-1]["continuation_reason"] == "Gains are steady on this plan."
    assert "continuation_reason" not in history[0]


def test_a_renewal_is_judged_against_the_last_review() -> None:
    b, _ = depression_plan()
    b.advance(days=30)
    complete_review(b, "Mood a little better.")
    b.advance(days=30)
    command = c.RenewPlan(plan_end_date=date(2027, 1, 31))
    found = continuation_preview(b.events, command, PROFILE, ())
    assert found["applies"] is True
    assert found["verdict"]["verdict"] == "copied_forward"
    assert found["requires_reason"] is True
    assert found["summary_repeated"] is False
    assert found["message"].startswith(
        "Renewed now, the renewed plan would be judged copied forward: the plan language is "
        "100% the same as at Review 1."
    )
    assert found["verdict"] == preview_verdict(b.events, {}, None)


def test_a_renewal_of_a_plan_never_reviewed_is_compared_with_its_first_signature() -> None:
    b, _ = depression_plan()
    found = continuation_preview(
        b.events, c.RenewPlan(plan_end_date=date(2027, 1, 31)), PROFILE, ()
    )
    assert "when the plan was first signed" in found["message"]


def test_the_rule_applies_to_an_open_review_and_an_active_plan_only() -> None:
    draft, _ = depression_plan(sign=False)
    renew = c.RenewPlan(plan_end_date=date(2027, 1, 31))
    assert applies(draft.state, renew) is False
    assert continuation_preview(draft.events, renew, PROFILE, ())["applies"] is False
    b, _ = depression_plan()
    assert applies(b.state, renew) is True
    command = _completion(b, "First review.")
    assert applies(b.state, command) is True
    b.run(command)
    assert applies(b.state, command) is False  # completed: a retry gets its first answer
    unknown = command.model_copy(update={"review_id": "no-such-review"})
    assert applies(b.state, unknown) is False
    assert applies(None, renew) is False


def test_nothing_to_compare_with_before_the_opening() -> None:
    found = continuation_preview([], c.RenewPlan(plan_end_date=date(2027, 1, 31)), PROFILE, ())
    assert found["verdict"] is None
    assert found["requires_reason"] is False
    assert found["version"] == 0
    assert "nothing to be compared with" in found["message"]


def test_objectives_whose_scores_did_not_move_are_named() -> None:
    b, ids = depression_plan()
    for _ in range(2):
        b.advance(days=30)
        b.run(c.RecordMeasurement(instrument="PHQ-9", score=15, administered_on=b.today))
        complete_review(b, "Holding steady.")
    b.advance(days=30)
    command = _completion(b, "Holding steady.")
    unmoved = continuation_preview(b.events, command, PROFILE, ())["unmoved_objectives"]
    phq = [u for u in unmoved if u["objective_id"] == ids["objective11"]]
    assert phq == [
        {
            "objective_id": ids["objective11"],
            "label": b.state.objectives[ids["objective11"]].label,
            "instrument": "PHQ-9",
            "scores": [15, 15, 15],
        }
    ]
    # A score that moved since the last review takes the objective off the list.
    b.run(c.RecordMeasurement(instrument="PHQ-9", score=11, administered_on=b.today))
    assert all(
        u["objective_id"] != ids["objective11"] for u in unmoved_objectives(b.state, PROFILE)
    )


def test_objectives_not_met_at_consecutive_reviews_are_named() -> None:
    b, ids = depression_plan()
    b.advance(days=30)
    complete_review(b, "No change.", {ids["objective12"]: "not_met"})
    b.advance(days=30)
    review_id = b.add(c.StartReview(reason="scheduled"))
    statuses = {ids["objective12"]: "not_met"}
    found = unmoved_objectives(b.state, PROFILE, statuses)  # type: ignore[arg-type]
    assert [u["objective_id"] for u in found] == [ids["objective12"]]
    assert review_id in b.state.reviews
    assert unmoved_objectives(b.state, PROFILE, {}) == []


def test_shared_statements_are_passed_through_counted_never_named() -> None:
    b, ids = depression_plan()
    shared = [SharedStatement(ids["objective11"], "Objective 1.1", "PHQ-9 falls", 3)]
    command = c.RenewPlan(plan_end_date=date(2027, 1, 31))
    found = continuation_preview(b.events, command, PROFILE, shared)
    assert found["shared_statements"] == [
        {
            "objective_id": ids["objective11"],
            "label": "Objective 1.1",
            "statement": "PHQ-9 falls",
            "other_clients": 3,
        }
    ]


def test_a_near_copy_names_its_small_edits() -> None:
    b, ids = depression_plan()
    b.advance(days=30)
    complete_review(b, "Mood a little better.")
    b.advance(days=30)
    b.run(
        c.ReviseObjective(
            objective_id=ids["objective12"],
            statement="Four planned activities a week from the activation menu, one of them "
            "social.",
        ),
        rationale="Clearer wording",
    )
    found = continuation_preview(b.events, _completion(b, "Going well."), PROFILE, ())
    assert found["verdict"]["verdict"] == "nearly_copied_forward"
    assert found["requires_reason"] is True
    assert "with small edits only" in found["message"]
