"""Reviews: one at a time, each completed once, assessing every objective of the plan exactly
once, and setting the next review after the review itself."""

from __future__ import annotations

from datetime import timedelta

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from tests.support.decider import TODAY, Plan, active_plan
from tests.unit.domain.refusals import not_found, refused


def _review(objective_ids: list[str], **fields: object) -> c.CompleteReview:
    return c.CompleteReview.model_validate(
        {
            "review_id": fields.pop("review_id", "r-404"),
            "assessments": [{"objective_id": o, "status": "partially_met"} for o in objective_ids],
            "progress_summary": "Some progress",
            **fields,
        }
    )


def test_a_draft_plan_is_not_reviewed() -> None:
    refused(
        Plan(),
        c.StartReview(reason="scheduled"),
        "status",
        "the plan must be signed by its clinician before a review",
    )


def test_a_second_review_waits_until_the_first_is_completed() -> None:
    plan, *_ = active_plan()
    plan.add(c.StartReview(reason="scheduled"))
    refused(
        plan,
        c.StartReview(reason="client_request"),
        "reason",
        "Review 1 is already in progress; complete it first",
    )


def test_completing_an_unknown_review_is_not_found() -> None:
    plan, _goal, first, second = active_plan()
    not_found(
        plan,
        _review([first.objective_id, second.objective_id]),
        "review",
        "review_id",
        "r-404",
    )


def test_a_review_is_completed_once() -> None:
    plan, _goal, first, second = active_plan()
    started = plan.add(c.StartReview(reason="scheduled"))
    assert isinstance(started, ev.ReviewStarted)
    complete = _review([first.objective_id, second.objective_id], review_id=started.review_id)
    plan.run(complete)
    refused(plan, complete, "review_id", "Review 1 is already completed")


def test_each_assessment_names_an_objective_of_the_plan_once() -> None:
    plan, _goal, first, _second = active_plan()
    started = plan.add(c.StartReview(reason="scheduled"))
    assert isinstance(started, ev.ReviewStarted)
    refused(
        plan,
        _review([first.objective_id, "o-404"], review_id=started.review_id),
        "assessments.1.objective_id",
        "o-404 is not an objective on this plan",
    )
    refused(
        plan,
        _review([first.objective_id, first.objective_id], review_id=started.review_id),
        "assessments.1.objective_id",
        "Objective 1.1 is assessed twice",
    )


def test_the_next_review_is_after_this_one() -> None:
    plan, _goal, first, second = active_plan()
    started = plan.add(c.StartReview(reason="scheduled"))
    assert isinstance(started, ev.ReviewStarted)
    for next_date in (TODAY, TODAY - timedelta(days=1)):
        refused(
            plan,
            _review(
                [first.objective_id, second.objective_id],
                review_id=started.review_id,
                next_review_date=next_date.isoformat(),
            ),
            "next_review_date",
            f"must be after the review date {TODAY}",
        )
