"""Amendment requests (45 CFR 164.526) over HTTP, on each store: a request denied, disagreed
with and rebutted; a request accepted and linked to the revision that carries it out; an
overdue request in the findings until it is decided; and the write pipeline's guarantees
(If-Match, Idempotency-Key, problem+json) on the new routes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.support.http import Practice
from tests.support.plans import full_plan


class Dana:
    """Requests on one plan as its clinician."""

    def __init__(self, running: Practice) -> None:
        self.running = running
        self.ids = full_plan(running.service, "dana")
        self.plan = f"/plans/{self.ids['plan_id']}"

    def post(self, suffix: str, body: dict[str, Any], status: int = 200, **kwargs: Any) -> Any:
        response = self.running.request("dana", "POST", self.plan + suffix, json=body, **kwargs)
        assert response.status_code == status, response.text
        if status < 300:
            assert response.headers["ETag"] == f'"{response.json()["version"]}"'
        else:
            assert response.headers["content-type"] == "application/problem+json"
        return response.json()

    def get(self, suffix: str = "", who: str = "dana") -> Any:
        response = self.running.request(who, "GET", self.plan + suffix)
        assert response.status_code == 200, response.text
        return response.json()

    def request_amendment(self, **fields: Any) -> Any:
        body = {
            "concerns": "Problem 1 (the word 'hopeless')",
            "item_ids": [self.ids["problem"]],
            "requested_change": "Describe my mood as low, not hopeless",
            "reason": "I said I felt low; I never said hopeless",
            "received_on": self.running.clock().date().isoformat(),
            "requested_by": "Alex Moreno",
            **fields,
        }
        return self.post("/amendments", body, 201)


def test_a_denied_request_with_disagreement_and_rebuttal_is_in_the_plan(
    running: Practice,
) -> None:
    dana = Dana(running)
    created = dana.request_amendment()
    assert created["label"] == "Amendment request 1"
    aid = created["id"]
    received = running.clock().date()
    running.clock.advance(days=50)
    dana.post(
        f"/amendments/{aid}/extend",
        {
            "new_due_date": (received + timedelta(days=90)).isoformat(),
            "reason": "The intake interview recording has to be retrieved from storage",
        },
    )
    running.clock.advance(days=20)
    dana.post(
        f"/amendments/{aid}/deny",
        {
            "denial_basis": "accurate_and_complete",
            "denial_text": "The intake note quotes your words; the record is accurate.",
        },
    )
    # A second decision is refused with a field-level problem, and stores nothing.
    version = dana.get()["version"]
    again = dana.post(
        f"/amendments/{aid}/deny",
        {"denial_basis": "not_created_by_practice", "denial_text": "Again"},
        422,
    )
    assert again["errors"][0]["field"] == "amendment_id"
    assert "cannot be decided again" in again["detail"]
    assert dana.get()["version"] == version
    early = dana.post(f"/amendments/{aid}/rebuttal", {"rebuttal": "Too early"}, 422)
    assert "no statement of disagreement" in early["detail"]
    dana.post(
        f"/amendments/{aid}/disagreement",
        {"statement": "I disagree: I never used that word about myself."},
    )
    dana.post(
        f"/amendments/{aid}/rebuttal",
        {"rebuttal": "The intake recording confirms the quoted word."},
    )

    doc = dana.get()
    (row,) = doc["amendments"]
    assert row["status"] == "denied"
    assert row["due_date"] == (received + timedelta(days=90)).isoformat()
    assert row["decision"]["denial_basis"] == "accurate_and_complete"
    assert row["decision"]["late"] is False
    assert row["disagreement_statement"]["statement"] == (
        "I disagree: I never used that word about myself."
    )
    assert row["rebuttal"]["rebuttal"] == "The intake recording confirms the quoted word."
    problem = next(p for p in doc["problems"] if p["id"] == dana.ids["problem"])
    assert problem["amendment_ids"] == [aid]
    # The supervisor and the auditor read the same record.
    for who in ("sam", "alex"):
        assert dana.get(who=who)["amendments"] == doc["amendments"]
    types = [e["type"] for e in dana.get("/events")["events"]][-5:]
    assert types == [
        "AmendmentRequested",
        "AmendmentDeadlineExtended",
        "AmendmentDenied",
        "DisagreementStatementFiled",
        "RebuttalFiled",
    ]
    revisions = [r for r in dana.get("/revisions")["revisions"] if r["item_id"] == aid]
    assert len(revisions) == 5
    assert revisions[2]["summary"].startswith("Amendment request 1 denied (accurate and complete)")


def test_an_accepted_request_is_linked_to_its_revision(running: Practice) -> None:
    dana = Dana(running)
    aid = dana.request_amendment()["id"]
    unlabelled = dana.post("/strengths", {"text": "Keeps every appointment"}, 201)
    refused = dana.post(
        f"/amendments/{aid}/accept",
        {"carried_out_in_version": unlabelled["version"], "notified": "Alex Moreno"},
        422,
    )
    assert refused["errors"][0]["field"] == "carried_out_in_version"
    assert "not labelled an amendment" in refused["detail"]
    response = running.request(
        "dana",
        "PATCH",
        f"{dana.plan}/problems/{dana.ids['problem']}",
        json={
            "statement": "Low mood (not hopeless); PHQ-9 16",
            "rationale": "Amended at the client's request (Amendment request 1)",
            "entry_kind": "amendment",
        },
    )
    assert response.status_code == 200, response.text
    revised = response.json()["version"]
    accepted = dana.post(
        f"/amendments/{aid}/accept",
        {
            "carried_out_in_version": revised,
            "notified": "Alex Moreno; Dr. Lee (primary care), who received the plan in March",
        },
    )
    assert accepted["version"] == revised + 1
    doc = dana.get()
    (row,) = doc["amendments"]
    assert row["status"] == "accepted"
    assert row["decision"]["carried_out_in_version"] == revised
    problem = next(p for p in doc["problems"] if p["id"] == dana.ids["problem"])
    assert problem["statement"] == "Low mood (not hopeless); PHQ-9 16"
    assert problem["entry_kind"] == "amendment"
    assert problem["amendment_ids"] == [aid]


def test_an_overdue_request_is_a_finding_until_it_is_decided(running: Practice) -> None:
    dana = Dana(running)
    aid = dana.request_amendment()["id"]

    def overdue(suffix: str = "/findings") -> list[dict[str, Any]]:
        found = dana.get(suffix)["findings"]
        return [f for f in found if f["code"] == "AMENDMENT_OVERDUE"]

    running.clock.advance(days=60)
    assert overdue() == []
    running.clock.advance(days=2)
    (finding,) = overdue()
    assert (finding["severity"], finding["item_id"]) == ("error", aid)
    assert dana.get()["amendments"][0]["overdue"] is True
    report = running.request("dana", "GET", "/reports/findings").json()["findings"]
    assert [f["item_id"] for f in report if f["code"] == "AMENDMENT_OVERDUE"] == [aid]
    dana.post(
        f"/amendments/{aid}/deny",
        {"denial_basis": "accurate_and_complete", "denial_text": "The record is accurate."},
    )
    assert overdue() == []
    (row,) = dana.get()["amendments"]
    assert (row["overdue"], row["decision"]["late"]) == (False, True)


def test_the_routes_keep_the_write_pipeline_guarantees(running: Practice) -> None:
    dana = Dana(running)
    version = dana.ids["version"]
    stale = dana.post(
        "/amendments",
        {
            "concerns": "Goal 1",
            "requested_change": "Part-time work",
            "reason": "My choice",
            "received_on": running.clock().date().isoformat(),
            "requested_by": "Alex Moreno",
        },
        412,
        headers={"If-Match": f'"{version - 1}"'},
    )
    assert stale["status"] == 412
    body = {
        "concerns": "Goal 1",
        "requested_change": "Part-time work",
        "reason": "My choice",
        "received_on": running.clock().date().isoformat(),
        "requested_by": "Alex Moreno",
    }
    headers = {"Idempotency-Key": "amend-1", "If-Match": f'"{version}"'}
    first = dana.post("/amendments", body, 201, headers=headers)
    again = dana.post("/amendments", body, 201, headers=headers)
    assert again == first
    assert len(dana.get()["amendments"]) == 1
    future = (running.clock().date() + timedelta(days=1)).isoformat()
    bad = dana.post("/amendments", {**body, "received_on": future}, 422)
    assert bad["errors"][0]["field"] == "received_on"
    basis = dana.post(
        f"/amendments/{first['id']}/deny",
        {"denial_basis": "we_disagree", "denial_text": "No"},
        422,
    )
    assert basis["errors"][0]["field"] == "denial_basis"
    unknown = running.request(
        "dana",
        "POST",
        f"{dana.plan}/amendments/nope/deny",
        json={"denial_basis": "accurate_and_complete", "denial_text": "No"},
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


def test_a_discharged_plan_takes_a_request_its_denial_and_statements(running: Practice) -> None:
    """The right to amend lasts as long as the record is kept (ADR 0015): after discharge a
    request is recorded, extended, denied, disagreed with and rebutted; accepting one, which
    needs a revision, and any change to the plan's content stay refused."""
    dana = Dana(running)
    dana.post("/discharge", {"reason": "Moved out of state"})
    aid = dana.request_amendment()["id"]
    due = date.fromisoformat(dana.get()["amendments"][0]["due_date"])
    dana.post(
        f"/amendments/{aid}/extend",
        {"new_due_date": (due + timedelta(days=10)).isoformat(), "reason": "Records archived"},
    )
    refused = dana.post(
        f"/amendments/{aid}/accept", {"carried_out_in_version": 1, "notified": "Alex"}, 422
    )
    assert refused["type"].endswith("plan-discharged")
    dana.post(
        f"/amendments/{aid}/deny",
        {"denial_basis": "accurate_and_complete", "denial_text": "The notes say hopeless."},
    )
    dana.post(f"/amendments/{aid}/disagreement", {"statement": "I never said hopeless."})
    dana.post(f"/amendments/{aid}/rebuttal", {"rebuttal": "The note quotes the client."})
    doc = dana.get()
    assert doc["status"] == "discharged"
    (row,) = doc["amendments"]
    assert row["disagreement_statement"]["statement"] == "I never said hopeless."
    assert row["rebuttal"]["rebuttal"] == "The note quotes the client."
    closed = dana.post("/strengths", {"text": "Still closed"}, 422)
    assert closed["type"].endswith("plan-discharged")
