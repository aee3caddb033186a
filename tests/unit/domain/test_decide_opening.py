"""Opening a plan: the end date, the client's date of birth and a group plan's participants
are checked against the plan's effective date before anything is recorded."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from plantrail.domain import commands as c
from plantrail.domain.decide import Context, open_plan
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
