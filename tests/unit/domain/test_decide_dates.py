"""The clinical effective date of an entry: never in the future, never before the plan took
effect, and an entry typed in more than a week late is labelled a delayed entry."""

from __future__ import annotations

from datetime import timedelta

from plantrail.domain import commands as c
from tests.support.decider import PLAN_START, TODAY, Plan
from tests.unit.domain.refusals import refused


def test_an_entry_is_not_dated_before_the_plan_took_effect() -> None:
    plan = Plan()
    early = PLAN_START - timedelta(days=1)
    refused(
        plan,
        c.NoteStrength(text="Plays in a band"),
        "effective_date",
        f"{early} is before the plan's effective date {PLAN_START}",
        effective_date=early,
    )


def test_an_entry_is_not_dated_in_the_future() -> None:
    plan = Plan()
    tomorrow = TODAY + timedelta(days=1)
    refused(
        plan,
        c.NoteBarrier(text="Works night shifts"),
        "effective_date",
        f"{tomorrow} is in the future (today is {TODAY})",
        effective_date=tomorrow,
    )


def test_dates_that_look_ahead_stay_within_two_years_of_the_plans_end() -> None:
    """A target or next review in year 9999 is a typo, not a clinical date."""
    from datetime import date

    from tests.support.decider import active_plan

    plan, goal, first, second = active_plan()
    end = plan.state.plan_end_date
    far = end + timedelta(days=2 * 365 + 1)
    reason = f"{far} is more than two years after the plan's end date {end}"
    add = c.AddObjective(goal_id=goal, statement="Sleeps six hours", target_date=far)
    refused(plan, add, "target_date", reason)
    revise = c.ReviseObjective(objective_id=first.objective_id, target_date=far)
    refused(plan, revise, "target_date", reason, rationale="Longer horizon")
    refused(plan, c.ReviseObjective(objective_id=first.objective_id,
                                    target_date=date(9999, 12, 31)),
            "target_date", "more than two years after", rationale="Typo")  # fmt: skip
    plan.add(c.AddObjective(goal_id=goal, statement="Sleeps six hours", target_date=end))
    review = plan.add(c.StartReview(reason="scheduled"))
    objectives = [o for o in plan.state.objectives if plan.state.objectives[o].status != "met"]
    complete = c.CompleteReview(
        review_id=review.review_id,
        assessments=[c.AssessmentIn(objective_id=o, status="not_met") for o in objectives],
        progress_summary="Slow",
        next_review_date=far,
    )
    refused(plan, complete, "next_review_date", reason)
    assert second.objective_id in objectives


def test_a_score_is_not_dated_before_the_client_was_born() -> None:
    plan = Plan()
    born = plan.state.client.date_of_birth
    early = born - timedelta(days=1)
    refused(
        plan,
        c.RecordMeasurement(instrument="PHQ-9", score=12, administered_on=early),
        "administered_on",
        f"{early} is before the client's date of birth",
    )
