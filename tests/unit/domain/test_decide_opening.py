"""Opening a plan: the end date, the client's date of birth and a group plan's participants
are checked against the plan's effective date before anything is recorded."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from plantrail.domain.decide import Context, is_minor, open_plan
from plantrail.domain.errors import RuleViolation
from tests.support import meta, open_command
from tests.support.decider import NOW, PLAN_ID, TODAY


def _refused(command: c.OpenPlan, field: str, reason: str) -> None:
    with pytest.raises(RuleViolation) as info:
        open_plan(command, Context(PLAN_ID, meta(), NOW))
    assert [p.field for p in info.value.errors] == [field]
    assert reason in info.value.errors[0].message


@pytest.mark.parametrize("end", [TODAY, TODAY - timedelta(days=1)])
def test_the_plan_must_end_after_it_takes_effect(end: date) -> None:
    _refused(open_command(end=end), "plan_end_date", f"must be after the effective date {TODAY}")


def test_a_plan_runs_for_less_than_a_year() -> None:
    _refused(
        open_command(end=TODAY + timedelta(days=365)),
        "plan_end_date",
        "must be less than a year after the effective date (Medicare)",
    )
    (opened,) = open_plan(
        open_command(end=TODAY + timedelta(days=364)), Context(PLAN_ID, meta(), NOW)
    )
    assert opened.plan_end_date == TODAY + timedelta(days=364)


def test_the_client_cannot_be_born_after_the_plan_takes_effect() -> None:
    command = open_command().model_copy(
        update={
            "client": c.ClientIn(id="MRN-1", name="Alex Moreno", date_of_birth=TODAY + timedelta(1))
        }
    )
    _refused(command, "client.date_of_birth", "is after the plan's effective date")


# ------------------------------------------------------------------------------ guardian
def _born(years_before: date, days: int = 0) -> date:
    """The birthday that makes someone exactly 18 on ``years_before``, moved by ``days``."""
    return years_before.replace(year=years_before.year - 18) + timedelta(days=days)


def _client(born: date, guardian: c.GuardianIn | None = None) -> c.OpenPlan:
    client = c.ClientIn(id="MRN-7", name="Jordan Lee", date_of_birth=born, guardian=guardian)
    return open_command().model_copy(update={"client": client})


GUARDIAN = c.GuardianIn(name="Maria Lee", relationship="mother", phone="555-0188")


def test_a_client_a_day_short_of_18_needs_a_guardian() -> None:
    _refused(
        _client(_born(TODAY, days=1)),
        "client.guardian",
        f"is required: the client is under 18 on {TODAY}",
    )


def test_a_client_18_on_the_effective_date_needs_no_guardian() -> None:
    (opened,) = open_plan(_client(_born(TODAY)), Context(PLAN_ID, meta(), NOW))
    assert isinstance(opened, ev.PlanOpened)
    assert opened.client.guardian is None


def test_a_minor_with_a_guardian_is_accepted() -> None:
    (opened,) = open_plan(_client(_born(TODAY, days=1), GUARDIAN), Context(PLAN_ID, meta(), NOW))
    assert isinstance(opened, ev.PlanOpened)
    assert opened.client.guardian is not None
    assert (opened.client.guardian.name, opened.client.guardian.relationship) == (
        "Maria Lee",
        "mother",
    )


def test_the_age_is_taken_on_the_plans_effective_date_not_today() -> None:
    effective = TODAY - timedelta(days=10)
    born = _born(TODAY, days=-5)  # 18 today, but 17 on the effective date
    with pytest.raises(RuleViolation) as info:
        open_plan(_client(born), Context(PLAN_ID, meta(effective_date=effective), NOW))
    assert [p.field for p in info.value.errors] == ["client.guardian"]
    assert is_minor(born, effective)
    assert not is_minor(born, TODAY)
