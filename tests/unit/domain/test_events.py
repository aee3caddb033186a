"""Stored events read back in their current shape: 0.1.0 (class version 1) records are upcast
on read, never rewritten, whatever optional parts they lack; a malformed old record is refused
as invalid data (a ValueError the readers report) instead of breaking the upcaster."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
import pytest
from pydantic import ValidationError

from plantrail.domain import events as ev
from plantrail.domain.persistence import decode_event
from tests.support.decider import active_plan

PLAN_ID = UUID("0d7e3c1a-5b2f-4e8a-9c61-2f4b8a7d9e03")
BASE: dict[str, Any] = {
    "recorded_at": "2026-03-02T09:00:00Z",
    "actor": {"user_id": "dana", "name": "Dana Reyes", "role": "clinician"},
    "effective_date": "2026-03-02",
    "command_id": "old-1",
}


def read_v1(topic: str, **fields: Any) -> ev.PlanEvent:
    """A record as 0.1.0 stored it: JSON without a class_version key (version 1)."""
    return decode_event(PLAN_ID, 7, topic, orjson.dumps({**BASE, **fields}))


def test_the_recorded_time_is_also_the_event_timestamp() -> None:
    plan, *_ = active_plan()
    for event in plan.events:
        assert event.timestamp == event.recorded_at
        assert event.event_type == type(event).__name__


def test_a_version_1_objective_without_a_measure_reads_without_one() -> None:
    added = read_v1(
        "plantrail:ObjectiveAdded",
        objective_id="o1",
        label="Objective 1.1",
        goal_id="g1",
        statement="Four planned activities a week",
    )
    assert isinstance(added, ev.ObjectiveAdded)
    assert (added.measure, added.originator_version) == (None, 7)


def test_a_version_1_objective_revision_gets_the_defaults_of_the_new_measure_fields() -> None:
    revised = read_v1(
        "plantrail:ObjectiveRevised",
        objective_id="o1",
        measure={"instrument": "PHQ-9", "baseline": 16, "target": 5},
    )
    assert isinstance(revised, ev.ObjectiveRevised)
    assert revised.measure is not None
    assert (revised.measure.target, revised.measure.threshold, revised.measure.keep) == (
        5,
        None,
        None,
    )
    statement_only = read_v1("plantrail:ObjectiveRevised", objective_id="o1", statement="PHQ < 5")
    assert isinstance(statement_only, ev.ObjectiveRevised)
    assert statement_only.measure is None


@pytest.mark.parametrize(
    ("topic", "fields"),
    [
        (
            "plantrail:ObjectiveRevised",
            {"objective_id": "o1", "measure": "PHQ-9 below 10"},
        ),
        (
            "plantrail:ReviewCompleted",
            {"review_id": "r1", "assessments": ["o1 met"], "progress_summary": "Better"},
        ),
    ],
)
def test_a_malformed_old_record_is_refused_as_invalid_data(
    topic: str, fields: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        read_v1(topic, **fields)


def test_a_topic_plantrail_never_wrote_is_unknown() -> None:
    with pytest.raises(KeyError):
        ev.event_class_for_topic("plantrail:PlanDeleted")
