"""The 0.2.0 plan model (ADR 0014) on a real store (SQLite, and PostgreSQL when
PLANTRAIL_TEST_DATABASE_URL is set): events stored in their 0.1.0 shape read through the
upcasters and verify unchanged; a safety plan and a maintain objective survive the round trip;
plans of one group do not flag their shared objectives as templated language."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import orjson
from eventsourcing.persistence import StoredEvent
from sqlalchemy import text

from plantrail.domain import commands as c
from plantrail.domain.service import PlanService
from plantrail.projections.access.policy import Reach
from plantrail.projections.assembly import recorder_of
from plantrail.projections.caseload import catch_up, query_copy_forward
from plantrail.projections.document import plan_document
from plantrail.projections.integrity.keys import load_chain_key
from plantrail.projections.integrity.verify import verify
from tests.support.plans import build_signed_plan, meta
from tests.unit.domain.test_plan_model import safety_plan

META = {
    "recorded_at": "2026-03-02T09:00:00Z",
    "actor": {"user_id": "dana", "name": "Dana Reyes", "role": "clinician", "credentials": "LCSW"},
    "effective_date": "2026-03-02",
    "entry_kind": "original",
    "rationale": None,
}


def old_rows(plan_id: uuid.UUID) -> list[StoredEvent]:
    """A group plan exactly as plantrail 0.1.0 stored it: no class_version keys, no
    participants, a measure without threshold or keep."""
    states: list[tuple[str, dict[str, Any]]] = [
        (
            "plantrail:PlanOpened",
            {
                "client": {"id": "MRN-7001", "name": "Lee Park", "date_of_birth": "1979-04-03"},
                "clinician": {"user_id": "dana", "name": "Dana Reyes", "credentials": "LCSW"},
                "supervisor": None,
                "plan_end_date": "2026-12-31",
                "review_interval_days": 90,
                "service_type": "group",
                "session_minutes": 90,
            },
        ),
        (
            "plantrail:GoalAdded",
            {
                "goal_id": "goal-1",
                "label": "Goal 1",
                "statement": "Stay sober",
                "problem_ids": [],
                "client_words": None,
            },
        ),
        (
            "plantrail:ObjectiveAdded",
            {
                "objective_id": "objective-1",
                "label": "Objective 1.1",
                "goal_id": "goal-1",
                "statement": "AUDIT below 8",
                "measure": {
                    "instrument": "AUDIT",
                    "baseline": 20,
                    "target": 7,
                    "direction": "decrease",
                    "unit": None,
                },
                "target_date": None,
            },
        ),
    ]
    return [
        StoredEvent(
            originator_id=plan_id,
            originator_version=version,
            topic=topic,
            state=orjson.dumps({**META, "command_id": f"old-{version}", **state}),
        )
        for version, (topic, state) in enumerate(states, 1)
    ]


def test_events_stored_in_their_0_1_0_shape_are_read_upcast_and_never_rewritten(
    service: PlanService, key_dir: Any
) -> None:
    plan_id = uuid.uuid4()
    recorder = recorder_of(service)
    stored = old_rows(plan_id)
    recorder.insert_events(stored)
    state = service.load(plan_id)
    assert state.service_type == "group"
    assert state.participants == []
    measure = state.objectives["objective-1"].measure
    assert measure is not None
    assert (measure.target, measure.threshold, measure.keep) == (7, None, None)
    # A new entry on the old plan is written in the new shape, beside the old rows.
    service.execute(
        plan_id,
        c.ReviseObjective(
            objective_id="objective-1",
            measure={
                "instrument": "AUDIT",
                "baseline": 20,
                "direction": "maintain",
                "threshold": 7,
                "keep": "at_most",
            },
        ),
        meta(),
    )
    revised = service.load(plan_id).objectives["objective-1"].measure
    assert revised is not None
    assert (revised.direction, revised.threshold, revised.keep) == ("maintain", 7, "at_most")
    with recorder.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT originator_version, state FROM plantrail_events "
                "WHERE topic IN ('plantrail:PlanOpened', 'plantrail:ObjectiveAdded', "
                "'plantrail:ObjectiveRevised') ORDER BY originator_version"
            )
        ).all()
    by_version = {row[0]: bytes(row[1]) for row in rows if row[0] in (1, 3, 4)}
    assert by_version[1] == stored[0].state  # the old bytes, exactly as written
    assert by_version[3] == stored[2].state
    assert orjson.loads(by_version[4])["class_version"] == 3  # written now: the current class
    key = load_chain_key(key_dir)
    assert key is not None
    report = verify(recorder, key)
    assert report.ok, report.problems


def test_a_safety_plan_round_trips_and_reads_as_it_stood(service: PlanService) -> None:
    ids = build_signed_plan(service)
    plan_id = ids["plan_id"]
    before = service.load(plan_id).version
    service.execute(plan_id, safety_plan(), meta())
    document = plan_document(service.load(plan_id))
    assert document["safety_plan"]["warning_signs"] == ["Stops answering texts", "Sleeps past noon"]
    assert plan_document(service.load(plan_id, version=before))["safety_plan"] is None


def _group_member(service: PlanService, mrn: str, name: str, members: list[str]) -> uuid.UUID:
    command = c.OpenPlan.model_validate(
        {
            "client": {"id": mrn, "name": name, "date_of_birth": "1985-06-01"},
            "clinician": {"user_id": "dana", "name": "Dana Reyes", "credentials": "LCSW"},
            "plan_end_date": date(2027, 2, 1),
            "service_type": "group",
            "participants": [
                {"name": f"Member {m}", "role": "group member", "client_id": m} for m in members
            ],
        }
    )
    plan_id = uuid.UUID(service.open_plan(command, meta()).plan_id)
    goal = service.execute(plan_id, c.AddGoal(statement="Sober and connected"), meta()).item_id
    assert goal is not None
    service.execute(
        plan_id,
        c.AddObjective(goal_id=goal, statement="Attends the relapse prevention group weekly."),
        meta(),
    )
    return plan_id


def test_plans_of_one_group_do_not_flag_their_shared_objectives(service: PlanService) -> None:
    group = ["MRN-8001", "MRN-8002", "MRN-8003"]
    _group_member(service, "MRN-8001", "Ana Diaz", group)
    _group_member(service, "MRN-8002", "Ben Okoro", group)
    recorder = recorder_of(service)
    catch_up(service, recorder)
    report = query_copy_forward(recorder, Reach(all_plans=True))
    assert report["reused_objectives"] == []
    # A client outside the group using the same words is still templated language.
    outsider = service.open_plan(
        c.OpenPlan.model_validate(
            {
                "client": {"id": "MRN-9001", "name": "Cy Lund", "date_of_birth": "1970-01-01"},
                "clinician": {"user_id": "dana", "name": "Dana Reyes", "credentials": "LCSW"},
                "plan_end_date": date(2027, 2, 1),
            }
        ),
        meta(),
    )
    outsider_id = uuid.UUID(outsider.plan_id)
    goal = service.execute(outsider_id, c.AddGoal(statement="Sober"), meta()).item_id
    assert goal is not None
    service.execute(
        outsider_id,
        c.AddObjective(goal_id=goal, statement="Attends the relapse prevention group weekly."),
        meta(),
    )
    catch_up(service, recorder)
    [reused] = query_copy_forward(recorder, Reach(all_plans=True))["reused_objectives"]
    assert {use["client_name"] for use in reused["uses"]} == {"Ana Diaz", "Ben Okoro", "Cy Lund"}
