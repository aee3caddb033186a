"""The plan document: the API's shape, JSON-ready, with review due dates and entry labels."""

from __future__ import annotations

import json
from datetime import date

from plantrail.domain import commands as c
from plantrail.domain.content import content_hash
from plantrail.projections.document import plan_document
from tests.support.histories import complete_review, depression_plan
from tests.support.plans import SUPERVISOR

API_FIELDS = {
    "plan_id", "version", "content_hash", "status", "client", "clinician", "supervisor",
    "effective_date", "plan_end_date", "review_interval_days", "next_review_due", "service_type",
    "session_minutes", "diagnoses", "problems", "goals", "objectives", "interventions",
    "measurements", "strengths", "barriers", "timeline", "discharge_criteria", "reviews",
    "signatures", "signature_requests", "entry_labels",
}  # fmt: skip


def test_document_has_every_api_field_and_survives_plain_json() -> None:
    b, ids = depression_plan()
    doc = plan_document(b.state, today=b.today)
    assert doc.keys() >= API_FIELDS
    assert json.loads(json.dumps(doc)) == doc  # no dates, UUIDs or models left inside
    assert doc["plan_id"] == str(b.plan_id)
    assert doc["version"] == b.state.version
    assert doc["content_hash"] == content_hash(b.state)
    assert doc["status"] == "active"
    objective = next(o for o in doc["objectives"] if o["id"] == ids["objective12"])
    assert {
        k: objective[k] for k in ("id", "label", "goal_id", "statement", "target_date", "status")
    } == {
        "id": ids["objective12"],
        "label": "Objective 1.2",
        "goal_id": ids["goal1"],
        "statement": "Four planned activities a week from the activation menu, one social.",
        "target_date": "2026-02-16",
        "status": "open",
    }
    assert objective["measure"]["target"] == 4
    [problem] = doc["problems"]
    assert problem["diagnosis_codes"] == ["F32.1"]
    assert [g["problem_ids"] for g in doc["goals"]] == [[ids["problem1"]], [ids["problem1"]]]


def test_signatures_show_name_credentials_time_meaning_and_hash() -> None:
    b, ids = depression_plan()
    signature = next(
        s for s in plan_document(b.state)["signatures"] if s["id"] == ids["clinician_signature"]
    )
    assert signature["signer_name"] == "Dana Reyes"
    assert signature["signer_credentials"] == "LCSW"
    assert signature["role"] == "clinician"
    assert signature["meaning"] == "authored"
    assert signature["signed_at"] == "2026-01-05T09:00:00Z"
    assert signature["content_hash"].startswith("sha256:")
    assert signature["status"] == "current"
    assert signature["superseded_by_version"] is None


def test_next_review_due_from_activation_then_from_the_last_review() -> None:
    b, _ = depression_plan()
    doc = plan_document(b.state, today=date(2026, 4, 5))
    assert doc["next_review_due"] == "2026-04-05"  # signed 2026-01-05, every 90 days
    assert doc["review_overdue"] is False
    assert plan_document(b.state, today=date(2026, 4, 6))["review_overdue"] is True
    b.advance(days=60)
    complete_review(b, "On track.", next_review=date(2026, 5, 20))
    assert plan_document(b.state, today=date(2026, 5, 1))["next_review_due"] == "2026-05-20"


def test_draft_due_date_counts_from_the_effective_date_and_is_never_overdue() -> None:
    b, _ = depression_plan(sign=False)
    doc = plan_document(b.state, today=date(2027, 1, 1))
    assert doc["status"] == "draft"
    assert doc["next_review_due"] == "2026-04-05"
    assert doc["review_overdue"] is False


def test_voided_measurement_stays_visible_and_flagged() -> None:
    b, ids = depression_plan()
    b.run(
        c.VoidMeasurement(measurement_id=ids["intake_phq9"]),
        rationale="Entered on the wrong client",
    )
    [measurement] = plan_document(b.state)["measurements"]
    assert measurement["voided"] is True
    assert measurement["score"] == 19
    assert measurement["recorded_at"] == "2026-01-05T09:00:00Z"


def test_delayed_entries_are_labelled_on_the_item_and_in_the_list() -> None:
    b, _ = depression_plan()
    b.advance(days=20)
    [event] = b.run(
        c.RecordMeasurement(instrument="PHQ-9", score=15, administered_on=date(2026, 1, 12))
    )
    doc = plan_document(b.state)
    late = next(m for m in doc["measurements"] if m["score"] == 15)
    assert late["entry_kind"] == "delayed_entry"
    assert late["effective_date"] == "2026-01-12"
    assert {"version": event.originator_version, "entry_kind": "delayed_entry"} in doc[
        "entry_labels"
    ]
    assert all(m["entry_kind"] == "original" for m in doc["measurements"] if m["score"] == 19)


def test_signature_requests_are_pending_then_fulfilled() -> None:
    b, _ = depression_plan()
    b.run(
        c.RequestSignature(
            role="supervisor", meaning="approved", signer_id="sam", signer_name="Sam Okafor"
        )
    )
    [request] = plan_document(b.state)["signature_requests"]
    assert (request["status"], request["signer_name"], request["requested_by"]) == (
        "pending",
        "Sam Okafor",
        "Dana Reyes",
    )
    b.run(
        c.CaptureSignature(
            role="supervisor",
            meaning="approved",
            signer_name="Sam Okafor",
            signer_credentials="PhD",
            signer_id="sam",
        ),
        actor=SUPERVISOR,
    )
    [request] = plan_document(b.state)["signature_requests"]
    assert request["status"] == "fulfilled"
    assert request["signed_at"] == "2026-01-05T09:00:00Z"
