"""What a signature binds to: a group plan's participants are signed content, so a plan naming
other participants has another content hash."""

from __future__ import annotations

from typing import Any

from plantrail.domain import commands as c
from plantrail.domain.content import content_hash, plan_content
from plantrail.domain.decide import Context, open_plan
from plantrail.domain.plan import PlanState, fold
from tests.support import meta
from tests.support.decider import NOW, PLAN_ID


def couples_plan(partner: dict[str, Any]) -> PlanState:
    command = c.OpenPlan.model_validate(
        {
            "client": {"id": "MRN-3001", "name": "Rae Kim", "date_of_birth": "1990-01-02"},
            "clinician": {"user_id": "dana", "name": "Dana Reyes", "credentials": "LCSW"},
            "plan_end_date": "2026-12-31",
            "service_type": "couples",
            "participants": [partner],
        }
    )
    state = fold(open_plan(command, Context(PLAN_ID, meta(), NOW)))
    assert state is not None
    return state


def test_the_participants_of_a_group_plan_are_signed_content() -> None:
    sam = couples_plan({"name": "Sam Kim", "role": "partner", "client_id": "MRN-3002"})
    assert plan_content(sam)["participants"] == [
        {"name": "Sam Kim", "role": "partner", "client_id": "MRN-3002"}
    ]
    jo = couples_plan({"name": "Jo Kim", "role": "partner", "client_id": "MRN-3003"})
    assert content_hash(sam) != content_hash(jo)
    assert content_hash(sam) == content_hash(
        couples_plan({"name": "Sam Kim", "role": "partner", "client_id": "MRN-3002"})
    )
