"""The plan model gaps a clinician meets (ADR 0014), in the deciders, the fold and the upcasters:
maintain objectives, safety plans, participants of group plans, and the 0.1.0 shapes of the
events that gained fields (read unchanged, never rewritten)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import JSONTranscoder
from pydantic import ValidationError

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from plantrail.domain.content import content_hash, plan_content
from plantrail.domain.decide import Context, open_plan
from plantrail.domain.errors import RuleViolation
from plantrail.domain.persistence import PlanEventMapper, decode_event
from plantrail.domain.plan import fold
from plantrail.domain.values import Guardian, Measure
from tests.support.histories import START, depression_plan, sign_as_clinician
from tests.support.plans import meta

PLAN_ID = UUID("0d7e3c1a-5b2f-4e8a-9c61-2f4b8a7d9e03")
PHQ9_AT_MOST_4 = {
    "instrument": "PHQ-9",
    "baseline": 3,
    "direction": "maintain",
    "threshold": 4,
    "keep": "at_most",
}


def safety_plan(**changes: Any) -> c.SetSafetyPlan:
    fields: dict[str, Any] = {
        "warning_signs": ["Stops answering texts", "Sleeps past noon"],
        "coping_strategies": ["Walk the dog around the block"],
        "contacts": [
            {"name": "Sister (Maya)", "kind": "support", "phone": "555-0142"},
            {"name": "988 Suicide and Crisis Lifeline", "kind": "crisis_line", "phone": "988"},
        ],
        "means_restriction": ["Medication kept by partner"],
        **changes,
    }
    return c.SetSafetyPlan.model_validate(fields)


# ------------------------------------------------------------------------------ maintain
def test_a_maintain_measure_needs_a_threshold_and_a_side_and_no_target() -> None:
    assert c.AddObjective(goal_id="g", statement="Stay well", measure=PHQ9_AT_MOST_4).measure
    for bad, says in (
        ({"threshold": None}, "needs a threshold and keep"),
        ({"keep": None}, "needs a threshold and keep"),
        ({"target": 2}, "threshold instead of a target"),
        ({"threshold": 40}, "outside the PHQ-9 range"),
    ):
        with pytest.raises(ValidationError) as refused:
            c.AddObjective(goal_id="g", statement="x", measure={**PHQ9_AT_MOST_4, **bad})
        assert says in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        c.AddObjective(
            goal_id="g",
            statement="x",
            measure={"instrument": "PHQ-9", "baseline": 16, "target": 9, "threshold": 4},
        )
    assert "only for direction maintain" in str(refused.value)


def test_a_breach_is_a_score_on_the_wrong_side_of_the_threshold() -> None:
    at_most = Measure.model_validate(PHQ9_AT_MOST_4)
    assert [at_most.breaches(s) for s in (0, 4, 5)] == [False, False, True]
    at_least = Measure(
        instrument="abstinent days", direction="maintain", threshold=28, keep="at_least"
    )
    assert [at_least.breaches(s) for s in (27, 28, 30)] == [True, False, False]
    assert not Measure(instrument="PHQ-9", target=9).breaches(27)  # not a maintain measure


# -------------------------------------------------------------------------- safety plan
def test_a_safety_plan_is_signed_content_and_a_replacement_needs_a_reason() -> None:
    b, _ = depression_plan()
    signed = b.state.content_version
    before = content_hash(b.state)
    [event] = b.run(safety_plan())
    assert isinstance(event, ev.SafetyPlanSet)
    assert b.state.safety_plan is not None
    assert b.state.safety_plan.contacts[1].kind == "crisis_line"
    assert content_hash(b.state) != before
    assert b.state.content_version == event.originator_version > signed
    assert all(s.status == "superseded" for s in b.state.signatures.values())
    with pytest.raises(RuleViolation) as unchanged:
        b.run(safety_plan(), rationale="Reviewed")
    assert "changes nothing in the safety plan" in unchanged.value.errors[0].message
    revised = safety_plan(means_restriction=["Firearm stored at brother's house"])
    with pytest.raises(RuleViolation) as unexplained:
        b.run(revised)
    assert unexplained.value.errors[0].field == "rationale"
    b.run(revised, rationale="Client disclosed a firearm at home")
    assert b.state.safety_plan.means_restriction == ["Firearm stored at brother's house"]


def test_a_safety_plan_names_at_least_one_contact_and_one_warning_sign() -> None:
    with pytest.raises(ValidationError):
        safety_plan(contacts=[])
    with pytest.raises(ValidationError):
        safety_plan(warning_signs=[])
    with pytest.raises(ValidationError):
        safety_plan(contacts=[{"name": "Neighbour", "kind": "friend"}])


# ------------------------------------------------------------------------- participants
def _open(service_type: str, participants: list[dict[str, Any]]) -> list[ev.PlanEvent]:
    command = c.OpenPlan.model_validate(
        {
            "client": {"id": "MRN-3001", "name": "Rae Kim", "date_of_birth": "1990-01-02"},
            "clinician": {"user_id": "dana", "name": "Dana Reyes", "credentials": "LCSW"},
            "plan_end_date": "2026-12-31",
            "service_type": service_type,
            "participants": participants,
        }
    )
    return open_plan(command, Context(PLAN_ID, meta(), START))


def test_a_couples_plan_names_the_partner_and_an_individual_plan_need_not() -> None:
    assert _open("individual", [])
    with pytest.raises(RuleViolation) as refused:
        _open("couples", [{"name": "Rae Kim", "role": "partner", "client_id": "MRN-3001"}])
    assert refused.value.errors[0].field == "participants"
    [opened] = _open("couples", [{"name": "Sam Kim", "role": "partner", "client_id": "MRN-3002"}])
    state = fold([opened])
    assert state is not None
    assert [(p.name, p.role, p.client_id) for p in state.participants] == [
        ("Sam Kim", "partner", "MRN-3002")
    ]


# ---------------------------------------------------------------------- old event shapes
def _read_old(topic: str, state: dict[str, Any]) -> ev.PlanEvent:
    """Decode a record as 0.1.0 stored it: JSON without a class_version key (version 1)."""
    return decode_event(PLAN_ID, 1, topic, orjson.dumps(state))


def test_version_1_events_are_upcast_with_the_defaults_of_the_new_fields() -> None:
    base = {
        "recorded_at": "2026-03-02T09:00:00Z",
        "actor": {"user_id": "dana", "name": "Dana Reyes", "role": "clinician"},
        "effective_date": "2026-03-02",
        "command_id": "old-1",
    }
    opened = _read_old(
        "plantrail:PlanOpened",
        {
            **base,
            "client": {"id": "MRN-9", "name": "Old Client", "date_of_birth": "1970-01-01"},
            "clinician": {"user_id": "dana", "name": "Dana Reyes"},
            "plan_end_date": "2026-12-31",
            "service_type": "group",
            "session_minutes": 90,
        },
    )
    assert isinstance(opened, ev.PlanOpened)
    assert opened.participants == []  # a 0.1.0 group plan named none, and still reads
    added = _read_old(
        "plantrail:ObjectiveAdded",
        {
            **base,
            "objective_id": "o1",
            "label": "Objective 1.1",
            "goal_id": "g1",
            "statement": "PHQ-9 below 10",
            "measure": {"instrument": "PHQ-9", "baseline": 16, "target": 9},
        },
    )
    assert isinstance(added, ev.ObjectiveAdded)
    assert added.measure is not None
    assert (added.measure.direction, added.measure.threshold, added.measure.keep) == (
        "decrease",
        None,
        None,
    )
    review = _read_old(
        "plantrail:ReviewCompleted",
        {
            **base,
            "review_id": "r1",
            "assessments": [{"objective_id": "o1", "status": "met", "note": "PHQ-9 of 6"}],
            "progress_summary": "Better",
        },
    )
    assert isinstance(review, ev.ReviewCompleted)
    [assessment] = review.assessments
    assert (assessment.previous_status, assessment.rationale, assessment.outcome) == (
        None,
        None,
        "assessed",
    )


def test_new_events_are_stored_with_their_class_version() -> None:
    mapper = PlanEventMapper(transcoder=JSONTranscoder())
    b, _ = depression_plan(sign=False)
    opened = b.events[0]
    stored = mapper.to_stored_event(opened)
    assert orjson.loads(stored.state)["class_version"] == 3
    assert mapper.to_domain_event(stored) == opened


def test_the_content_hash_of_a_plan_without_the_new_sections_is_unchanged() -> None:
    """Signatures of 0.1.0 plans bind to hashes computed without the 0.2.0 fields: a plan that
    uses none of them must hash as it did then (its signatures keep verifying)."""
    b, _ = depression_plan(sign=False)
    sign_as_clinician(b)
    [signature] = b.state.signatures.values()
    assert signature.content_hash == content_hash(b.at(signature.signed_version))
    content = plan_content(b.state)
    assert "participants" not in content
    assert "safety_plan" not in content
    assert all("threshold" not in (o["measure"] or {}) for o in content["objectives"])
    assert all("scale_min" not in (o["measure"] or {}) for o in content["objectives"])
    assert "guardian" not in content["client"]


# ------------------------------------------------------------------- 0.3.0 event shapes
def _read_v2(topic: str, state: dict[str, Any]) -> ev.PlanEvent:
    """Decode a record as 0.2.0 stored it: class_version 2, without the 0.3.0 fields."""
    return decode_event(PLAN_ID, 1, topic, orjson.dumps({**state, "class_version": 2}))


V2_BASE = {
    "recorded_at": "2026-03-02T09:00:00Z",
    "actor": {"user_id": "dana", "name": "Dana Reyes", "role": "clinician"},
    "effective_date": "2026-03-02",
    "command_id": "v2-1",
}
V2_MEASURE = {
    "instrument": "PHQ-9",
    "baseline": 16,
    "target": 9,
    "direction": "decrease",
    "unit": None,
    "threshold": None,
    "keep": None,
}


def test_a_version_2_opening_reads_with_no_guardian() -> None:
    opened = _read_v2(
        "plantrail:PlanOpened",
        {
            **V2_BASE,
            "client": {"id": "MRN-9", "name": "Old Client", "date_of_birth": "1970-01-01"},
            "clinician": {"user_id": "dana", "name": "Dana Reyes"},
            "plan_end_date": "2026-12-31",
            "service_type": "individual",
            "session_minutes": 53,
            "participants": [],
        },
    )
    assert isinstance(opened, ev.PlanOpened)
    assert opened.client.guardian is None


def test_a_version_2_opening_without_a_client_is_refused_as_invalid_data() -> None:
    with pytest.raises(ValidationError):
        _read_v2("plantrail:PlanOpened", {**V2_BASE, "client": "MRN-9"})


@pytest.mark.parametrize("topic", ["plantrail:ObjectiveAdded", "plantrail:ObjectiveRevised"])
def test_a_version_2_measure_reads_with_no_stated_range(topic: str) -> None:
    fields = {"objective_id": "o1", "measure": V2_MEASURE}
    if topic == "plantrail:ObjectiveAdded":
        fields |= {"label": "Objective 1.1", "goal_id": "g1", "statement": "PHQ-9 below 10"}
    event = _read_v2(topic, {**V2_BASE, **fields})
    assert isinstance(event, ev.ObjectiveAdded | ev.ObjectiveRevised)
    assert event.measure is not None
    assert (event.measure.target, event.measure.scale_min, event.measure.scale_max) == (
        9,
        None,
        None,
    )


def test_a_version_2_review_reads_with_no_continuation_reason() -> None:
    review = _read_v2(
        "plantrail:ReviewCompleted",
        {
            **V2_BASE,
            "review_id": "r1",
            "assessments": [
                {
                    "objective_id": "o1",
                    "status": "met",
                    "note": None,
                    "previous_status": "open",
                    "rationale": None,
                }
            ],
            "progress_summary": "PHQ-9 of 6; back at work",
        },
    )
    assert isinstance(review, ev.ReviewCompleted)
    assert review.continuation_reason is None
    assert review.assessments[0].previous_status == "open"


def test_a_named_guardian_is_signed_content() -> None:
    """Only a named guardian enters the content, so a plan without one hashes as before."""
    b, _ = depression_plan(sign=False)
    without = content_hash(b.state)
    guardian = Guardian(name="Maria Lee", relationship="mother", phone="555-0188")
    state = b.state.model_copy(
        update={"client": b.state.client.model_copy(update={"guardian": guardian})}
    )
    assert plan_content(state)["client"]["guardian"] == {
        "name": "Maria Lee",
        "relationship": "mother",
        "phone": "555-0188",
    }
    assert content_hash(state) != without
    assert "guardian" not in plan_content(b.state)["client"]
