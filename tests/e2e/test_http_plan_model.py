"""The 0.2.0 plan model (ADR 0014) over HTTP, on each store: a maintain objective and its breach
finding; a review that confirms one met objective and reopens another (refused without a
rationale, problem+json, nothing stored); the safety plan written, read as it stood, diffed and
found missing; a couples plan opened with its participants, and refused without them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support.http import Practice
from tests.support.plans import full_plan

SAFETY = {
    "warning_signs": ["Stops answering texts", "Gives away belongings"],
    "coping_strategies": ["Cold shower", "Walk the dog"],
    "contacts": [
        {"name": "Sister (Maya)", "kind": "support", "phone": "555-0142"},
        {"name": "988 Suicide and Crisis Lifeline", "kind": "crisis_line", "phone": "988"},
    ],
    "means_restriction": ["Medication locked, key with partner"],
}


class Dana:
    def __init__(self, running: Practice) -> None:
        self.running = running
        self.ids = full_plan(running.service, "dana")
        self.plan = f"/plans/{self.ids['plan_id']}"

    def send(self, method: str, suffix: str, body: dict[str, Any], status: int = 200) -> Any:
        response = self.running.request("dana", method, self.plan + suffix, json=body)
        assert response.status_code == status, response.text
        if status >= 400:
            assert response.headers["content-type"] == "application/problem+json"
        return response.json()

    def get(self, suffix: str = "") -> Any:
        response = self.running.request("dana", "GET", self.plan + suffix)
        assert response.status_code == 200, response.text
        return response.json()


def codes(dana: Dana) -> set[str]:
    return {f["code"] for f in dana.get("/findings")["findings"]}


def test_a_maintain_objective_and_a_breaching_score(running: Practice) -> None:
    dana = Dana(running)
    bad = {"instrument": "PHQ-9", "baseline": 3, "direction": "maintain", "threshold": 4}
    refused = dana.send(
        "POST",
        "/objectives",
        {"goal_id": dana.ids["goal"], "statement": "Stay well", "measure": bad},
        422,
    )
    assert "threshold and keep" in str(refused)
    created = dana.send(
        "POST",
        "/objectives",
        {
            "goal_id": dana.ids["goal"],
            "statement": "PHQ-9 stays at 4 or below",
            "measure": {**bad, "keep": "at_most"},
            "rationale": "Relapse prevention",
        },
        201,
    )
    [objective] = [o for o in dana.get()["objectives"] if o["id"] == created["id"]]
    assert objective["measure"]["direction"] == "maintain"
    assert (objective["measure"]["threshold"], objective["measure"]["keep"]) == (4, "at_most")
    today = running.clock().date().isoformat()
    dana.send(
        "POST",
        "/measurements",
        {
            "instrument": "PHQ-9",
            "score": 8,
            "administered_on": today,
            "objective_id": created["id"],
        },
        201,
    )
    [breach] = [
        f for f in dana.get("/findings")["findings"] if f["code"] == "MAINTAIN_THRESHOLD_BREACHED"
    ]
    assert breach["item_id"] == created["id"]


def test_a_review_confirms_a_met_objective_or_reopens_it_with_a_rationale(
    running: Practice,
) -> None:
    dana = Dana(running)
    objective = dana.ids["objective"]
    first = dana.send("POST", "/reviews", {"reason": "scheduled"}, 201)
    dana.send(
        "POST",
        f"/reviews/{first['id']}/complete",
        {
            "assessments": [{"objective_id": objective, "status": "met"}],
            "progress_summary": "PHQ-9 of 6",
        },
    )
    second = dana.send("POST", "/reviews", {"reason": "crisis"}, 201)
    before = dana.get()["version"]
    missing = dana.send(
        "POST",
        f"/reviews/{second['id']}/complete",
        {"assessments": [], "progress_summary": "Lost job"},
        422,
    )
    assert "met ones too" in str(missing)
    refused = dana.send(
        "POST",
        f"/reviews/{second['id']}/complete",
        {
            "assessments": [{"objective_id": objective, "status": "not_met"}],
            "progress_summary": "Lost job",
        },
        422,
    )
    assert "assessments.0.rationale" in str(refused)
    assert dana.get()["version"] == before  # nothing stored
    dana.send(
        "POST",
        f"/reviews/{second['id']}/complete",
        {
            "assessments": [
                {"objective_id": objective, "status": "not_met", "rationale": "PHQ-9 back at 15"}
            ],
            "progress_summary": "Lost job",
        },
    )
    reviews = dana.get("/reviews")["reviews"]
    assert [r["assessments"][0]["outcome"] for r in reviews] == ["assessed", "reopened"]
    assert reviews[1]["assessments"][0]["rationale"] == "PHQ-9 back at 15"
    assert reviews[1]["assessments"][0]["previous_status"] == "met"


def test_the_safety_plan_is_written_read_as_it_stood_and_diffed(running: Practice) -> None:
    dana = Dana(running)
    dana.send("POST", "/diagnoses", {"code": "R45.851", "description": "Suicidal ideations"}, 201)
    assert "SAFETY_PLAN_MISSING" in codes(dana)
    before = dana.get()["version"]
    refused = dana.send("PUT", "/safety-plan", {**SAFETY, "contacts": []}, 422)
    assert "contacts" in str(refused)
    dana.send("PUT", "/safety-plan", SAFETY)
    assert "SAFETY_PLAN_MISSING" not in codes(dana)
    document = dana.get()
    assert document["safety_plan"]["contacts"][1]["phone"] == "988"
    assert dana.get(f"?version={before}")["safety_plan"] is None
    unexplained = dana.send("PUT", "/safety-plan", {**SAFETY, "means_restriction": []}, 422)
    assert "rationale" in str(unexplained)
    dana.send(
        "PUT",
        "/safety-plan",
        {**SAFETY, "means_restriction": [], "rationale": "Partner moved out"},
    )
    diff = dana.get(f"/diff?from={document['version']}")
    assert [ch["path"] for ch in diff["changes"] if ch["path"].startswith("safety_plan")] == [
        "safety_plan.means_restriction"
    ]
    summaries = [r["summary"] for r in dana.get("/revisions")["revisions"]]
    assert any(s.startswith("Safety plan revised") for s in summaries)


def test_a_couples_plan_names_the_partner(running: Practice) -> None:
    today = running.clock().date()
    body: dict[str, Any] = {
        "client": {"id": "MRN-5501", "name": "Jo Park", "date_of_birth": "1984-02-02"},
        "plan_end_date": (today + timedelta(days=200)).isoformat(),
        "service_type": "couples",
    }
    refused = running.request("dana", "POST", "/plans", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "participants" in refused.text
    body["participants"] = [{"name": "Kim Park", "role": "partner", "client_id": "MRN-5502"}]
    opened = running.request("dana", "POST", "/plans", json=body)
    assert opened.status_code == 201, opened.text
    plan = running.request("dana", "GET", f"/plans/{opened.json()['plan_id']}").json()
    assert plan["participants"] == [
        {"name": "Kim Park", "role": "partner", "client_id": "MRN-5502"}
    ]


def test_one_client_id_names_one_client_across_caseloads(running: Practice) -> None:
    """Another clinician's plan under an existing MRN with another name or date of birth is
    refused (422 naming the field, never the recorded value), so FHIR's Patient and an export
    never have two people to choose from; the same client again is a new plan as before."""
    today = running.clock().date()
    client = {"id": "MRN-6601", "name": "Rae Olsen", "date_of_birth": "1979-03-03"}
    body: dict[str, Any] = {
        "client": client,
        "plan_end_date": (today + timedelta(days=200)).isoformat(),
    }
    assert running.request("dana", "POST", "/plans", json=body).status_code == 201
    for field, value in [("name", "Someone Else"), ("date_of_birth", "1980-01-01")]:
        other = {**body, "client": {**client, field: value}}
        refused = running.request("marcus", "POST", "/plans", json=other)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == f"client.{field}"
        assert "Rae Olsen" not in refused.text
        assert "1979-03-03" not in refused.text
    again = running.request("marcus", "POST", "/plans", json=body)
    assert again.status_code == 201, again.text
    plans = [p for p in running.request("alex", "GET", "/plans").json()["plans"]
             if p["client"]["id"] == "MRN-6601"]  # fmt: skip
    assert len(plans) == 2
    assert {p["client"]["name"] for p in plans} == {"Rae Olsen"}
