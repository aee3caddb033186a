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
