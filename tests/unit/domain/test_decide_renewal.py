"""Renewing a plan for a new period (``RenewPlan`` → ``PlanRenewed``, 0.3.0): only an active
plan, with a rationale, to a new end date after the current one and less than a year after the
renewal's date. The end date is signed content, so a renewal supersedes current signatures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from plantrail.domain.content import content_hash
from plantrail.domain.errors import PlanDischargedError
from plantrail.domain.plan import Renewal
from tests.support.decider import TODAY, Plan, active_plan
from tests.unit.domain.refusals import refused

WHY = "Annual renewal: depressive symptoms persist, client wants to continue"


def test_a_draft_plan_is_not_renewed() -> None:
    plan = Plan()
    refused(
        plan,
        c.RenewPlan(plan_end_date=plan.state.plan_end_date + timedelta(days=30)),
        "plan_end_date",
        "a draft plan is not renewed",
        rationale=WHY,
    )


def test_a_renewal_needs_a_rationale() -> None:
    plan, *_ = active_plan()
    refused(
        plan,
        c.RenewPlan(plan_end_date=plan.state.plan_end_date + timedelta(days=30)),
        "rationale",
        "is required to renew the plan on an active plan",
    )


@pytest.mark.parametrize("days", [0, -1])
def test_the_new_end_date_is_after_the_current_one(days: int) -> None:
    plan, *_ = active_plan()
    current = plan.state.plan_end_date
    refused(
        plan,
        c.RenewPlan(plan_end_date=current + timedelta(days=days)),
        "plan_end_date",
        f"must be after the current end date {current}",
        rationale=WHY,
    )


def test_the_new_end_date_is_less_than_a_year_after_the_renewal() -> None:
    plan, *_ = active_plan()
    refused(
        plan,
        c.RenewPlan(plan_end_date=TODAY + timedelta(days=365)),
        "plan_end_date",
        "must be less than a year after the renewal's date (Medicare)",
        rationale=WHY,
    )
    backdated = TODAY - timedelta(days=3)
    refused(
        plan,
        c.RenewPlan(plan_end_date=backdated + timedelta(days=365)),
        "plan_end_date",
        "must be less than a year after the renewal's date",
        rationale=WHY,
        effective_date=backdated,
    )
    plan.run(c.RenewPlan(plan_end_date=TODAY + timedelta(days=364)), rationale=WHY)
    assert plan.state.plan_end_date == TODAY + timedelta(days=364)


def test_a_renewal_moves_the_end_date_and_is_kept_with_its_reasons() -> None:
    plan, *_ = active_plan()
    previous = plan.state.plan_end_date
    new_end = TODAY + timedelta(days=330)
    (renewed,) = plan.run(
        c.RenewPlan(plan_end_date=new_end, continuation_reason="Stable; same plan still fits"),
        rationale=WHY,
    )
    assert isinstance(renewed, ev.PlanRenewed)
    assert (renewed.plan_end_date, renewed.previous_end_date) == (new_end, previous)
    assert plan.state.plan_end_date == new_end
    assert plan.state.renewals == [
        Renewal(
            version=renewed.originator_version,
            effective_date=TODAY,
            plan_end_date=new_end,
            previous_end_date=previous,
            rationale=WHY,
            continuation_reason="Stable; same plan still fits",
        )
    ]
    second_end = new_end + timedelta(days=10)
    plan.run(c.RenewPlan(plan_end_date=second_end), rationale="Extended for the holidays")
    assert [r.plan_end_date for r in plan.state.renewals] == [new_end, second_end]
    assert plan.state.renewals[1].continuation_reason is None


def test_a_renewal_changes_the_signed_content_so_the_plan_is_signed_again() -> None:
    plan, *_ = active_plan()
    [signature] = plan.state.signatures.values()
    assert signature.content_hash == content_hash(plan.state)
    (renewed,) = plan.run(c.RenewPlan(plan_end_date=TODAY + timedelta(days=300)), rationale=WHY)
    assert content_hash(plan.state) != signature.content_hash
    assert plan.state.content_version == renewed.originator_version
    [after] = plan.state.signatures.values()
    assert (after.status, after.superseded_by_version) == ("superseded", renewed.originator_version)
    resigned = plan.sign("clinician")
    assert resigned.content_hash == content_hash(plan.state)


def test_a_discharged_plan_is_not_renewed() -> None:
    plan, *_ = active_plan()
    plan.add(c.DischargePlan(reason="Goals met"))
    with pytest.raises(PlanDischargedError):
        plan.run(c.RenewPlan(plan_end_date=TODAY + timedelta(days=300)), rationale=WHY)
    assert plan.state.renewals == []
