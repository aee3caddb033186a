"""The plan's sections set as a whole (timeline) and rationale notes: a replacement must change
something and, on an active plan, say why; a rationale explains a version that exists."""

from __future__ import annotations

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from tests.support.decider import Plan, active_plan
from tests.unit.domain.refusals import refused


def test_a_timeline_is_replaced_only_by_a_different_one_with_a_reason() -> None:
    plan, *_ = active_plan()
    plan.add(c.SetTimeline(estimated_sessions=12, session_frequency="weekly"))
    same = c.SetTimeline(estimated_sessions=12, session_frequency="weekly")
    refused(plan, same, "estimated_sessions", "the revision changes nothing in the timeline")
    longer = c.SetTimeline(estimated_sessions=16, session_frequency="weekly")
    refused(plan, longer, "rationale", "is required to revise the timeline on an active plan")
    event = plan.add(longer, rationale="Slower progress than expected")
    assert isinstance(event, ev.TimelineSet)
    assert plan.state.timeline is not None
    assert plan.state.timeline.estimated_sessions == 16


def test_a_rationale_explains_a_version_that_exists() -> None:
    plan = Plan()
    latest = plan.state.version
    refused(
        plan,
        c.RecordRationale(text="Why the plan changed", explains_version=latest + 1),
        "explains_version",
        f"version {latest + 1} does not exist (latest {latest})",
    )
    event = plan.add(c.RecordRationale(text="Opened after intake", explains_version=latest))
    assert isinstance(event, ev.RationaleRecorded)
    assert event.explains_version == latest


def test_discharge_criteria_are_replaced_only_by_different_ones_with_a_reason() -> None:
    plan, *_ = active_plan()
    criteria = ["PHQ-9 below 10 on two consecutive administrations"]
    plan.add(c.SetDischargeCriteria(criteria=criteria))
    refused(
        plan,
        c.SetDischargeCriteria(criteria=criteria),
        "criteria",
        "the revision changes nothing in the discharge criteria",
    )
    stricter = c.SetDischargeCriteria(criteria=["PHQ-9 below 5 on two administrations"])
    refused(
        plan, stricter, "rationale", "is required to revise the discharge criteria on an active"
    )
    plan.add(stricter, rationale="Agreed a stricter goal with the client")
    assert plan.state.discharge_criteria == ["PHQ-9 below 5 on two administrations"]
