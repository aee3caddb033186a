"""One plan's life over HTTP, as a practice lives it: Dana opens and writes a plan, Sam co-signs,
the client signs, three reviews follow (one genuinely updated, two copied forward, the last typed
in late), and then the record is read back the way a supervisor and an auditor read it: review
history with verdicts, the plan as it stood and as it was in effect, the diff, findings, the
caseload and reports, the integrity check and the access log of it all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support.http import Practice


class Session:
    """Requests on one plan as one user, checking the ETag of every plan answer."""

    def __init__(self, running: Practice, who: str, plan_id: str = "") -> None:
        self.running = running
        self.who = who
        self.plan_id = plan_id
        self.requests = 0

    def call(self, method: str, suffix: str = "", status: int = 200, **kwargs: Any) -> Any:
        path = f"/plans/{self.plan_id}{suffix}" if self.plan_id else suffix
        response = self.running.request(self.who, method, path, **kwargs)
        self.requests += 1
        assert response.status_code == status, (method, path, response.text)
        body = response.json()
        if self.plan_id and response.status_code < 300:
            assert response.headers["ETag"] == f'"{body["version"]}"'
        return body

    def post(self, suffix: str, body: dict[str, Any], status: int = 201) -> Any:
        return self.call("POST", suffix, status, json=body)


def test_from_opening_to_the_third_review(running: Practice) -> None:
    clock = running.clock
    start = clock().date()
    dana = Session(running, "dana")
    opened = dana.post("/plans", {
        "client": {"id": "MRN-3141", "name": "Jordan Ellis", "date_of_birth": "1984-02-09"},
        "plan_end_date": (start + timedelta(days=360)).isoformat(),
        "review_interval_days": 90,
        "session_minutes": 53,
    })  # fmt: skip
    dana.plan_id = opened["plan_id"]
    assert opened["version"] == 1

    dana.post("/diagnoses", {"code": "F32.1", "description": "Major depressive disorder",
                             "primary": True})  # fmt: skip
    problem = dana.post("/problems", {"statement": "Low mood most days; PHQ-9 of 16 at intake",
                                      "diagnosis_codes": ["F32.1"]})  # fmt: skip
    assert problem["label"] == "Problem 1"
    goal = dana.post("/goals", {"statement": "Mood lifts enough to return to work",
                                "problem_ids": [problem["id"]],
                                "client_words": "I want to feel like myself"})  # fmt: skip
    phq = dana.post("/objectives", {
        "goal_id": goal["id"], "statement": "PHQ-9 below 10 on two administrations",
        "measure": {"instrument": "phq9", "baseline": 16, "target": 9},
        "target_date": (start + timedelta(days=180)).isoformat(),
    })  # fmt: skip
    activity = dana.post("/objectives", {
        "goal_id": goal["id"], "statement": "Four planned activities a week",
        "measure": {"instrument": "activity log", "baseline": 1, "target": 4,
                    "direction": "increase"},
        "target_date": (start + timedelta(days=120)).isoformat(),
    })  # fmt: skip
    assert [phq["label"], activity["label"]] == ["Objective 1.1", "Objective 1.2"]
    dana.post("/interventions", {"modality": "CBT", "technique": "Behavioural activation",
                                 "frequency": "weekly",
                                 "objective_ids": [phq["id"], activity["id"]]})  # fmt: skip
    dana.post("/strengths", {"text": "Close to her sister"})
    dana.post("/barriers", {"text": "Rotating shifts"})
    dana.call("PUT", "/timeline", json={"estimated_sessions": 16, "session_frequency": "weekly"})
    dana.call("PUT", "/discharge-criteria", json={"criteria": ["PHQ-9 below 10 twice"]})
    dana.post("/measurements", {"instrument": "PHQ-9", "score": 16,
                                "administered_on": start.isoformat()})  # fmt: skip
    signed = dana.post("/signatures", {"role": "clinician", "meaning": "authored"})
    dana.post("/signature-requests", {"role": "supervisor", "meaning": "approved",
                                      "signer_id": "sam-okafor"})  # fmt: skip
    pending = dana.call("GET")["signature_requests"]
    assert [r["status"] for r in pending] == ["pending"]

    sam = Session(running, "sam", dana.plan_id)
    sam.post("/signatures", {"role": "supervisor", "meaning": "approved"})
    sam.post("/signatures", {"role": "clinician", "meaning": "authored"}, status=403)
    sam.post("/goals", {"statement": "Supervisors do not write goals"}, status=403)
    dana.post("/signatures", {"role": "client", "meaning": "agreed",
                              "signer_name": "Jordan Ellis"})  # fmt: skip
    plan = dana.call("GET")
    assert plan["status"] == "active"
    assert plan["signature_requests"][0]["status"] == "fulfilled"
    by_role = {s["role"]: s for s in plan["signatures"]}
    assert by_role["clinician"]["id"] == signed["id"]
    assert by_role["clinician"]["signer_name"] == "Dana Reyes"
    assert by_role["supervisor"]["signer_credentials"] == "PhD"
    activated = plan["version"]

    def review(
        days: int, summary: str, statuses: dict[str, str], why: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        clock.advance(days=days)
        started = dana.post("/reviews", {"reason": "scheduled", **extra})
        body = {
            "assessments": [{"objective_id": k, "status": v} for k, v in statuses.items()],
            "progress_summary": summary,
            **extra,
        }
        if why is not None:
            # A copied-forward review needs its reason: without it, 422 and nothing stored.
            before = dana.call("GET")["version"]
            refused = dana.post(f"/reviews/{started['id']}/complete", body, status=422)
            assert [e["field"] for e in refused["errors"]] == ["continuation_reason"]
            assert dana.call("GET")["version"] == before
            body["continuation_reason"] = why
        done: dict[str, Any] = dana.post(f"/reviews/{started['id']}/complete", body, status=200)
        return done

    # Review 1: real work; the PHQ-9 objective is rewritten, with its reason.
    clock.advance(days=85)
    dana.post("/measurements", {"instrument": "PHQ-9", "score": 12,
                                "administered_on": clock().date().isoformat()})  # fmt: skip
    dana.call("PATCH", f"/objectives/{phq['id']}", json={
        "statement": "PHQ-9 below 10 on two administrations a month apart",
        "rationale": "Two scores a month apart show a stable change",
    })  # fmt: skip
    first = review(5, "Activities up to three a week; mood improving",
                   {phq["id"]: "partially_met", activity["id"]: "partially_met"})  # fmt: skip
    after_first = clock()
    # Review 2: nothing changed but the date.
    second = review(90, "Activities up to three a week; mood improving.",
                    {phq["id"]: "partially_met", activity["id"]: "partially_met"},
                    why="Steady gains on the current plan; no change is indicated")  # fmt: skip
    # Review 3: held 10 days ago, typed in today (a late entry), again nothing changed.
    clock.advance(days=100)
    held = (clock().date() - timedelta(days=10)).isoformat()
    third = review(0, "Stable; continue plan",
                   {phq["id"]: "partially_met", activity["id"]: "partially_met"},
                   why="Still improving at this dose of therapy", effective_date=held)  # fmt: skip
    assert third["version"] == second["version"] + 2 == first["version"] + 4

    # The review history, as the supervisor reads it.
    history = sam.call("GET", "/reviews")["reviews"]
    assert len(history) == 3
    verdicts = [r["copy_forward"]["verdict"] for r in history]
    assert verdicts == ["updated", "copied_forward", "copied_forward"]
    assert [r["copy_forward"]["streak"] for r in history] == [0, 1, 2]
    assert history[1]["copy_forward"]["summary_repeated"] is True
    assert history[2]["effective_date"] == held
    assert history[2]["late_entry"] is True
    assert any("statement" in c["path"] for c in history[0]["copy_forward"]["changes"])

    # The plan as the chart showed it right after review 1, and in clinical effect back then.
    as_of = after_first.isoformat().replace("+00:00", "Z")
    then = sam.call("GET", params={"as_of": as_of})
    assert then["version"] == first["version"]
    assert [r["status"] for r in then["reviews"]] == ["completed"]
    in_effect = sam.call("GET", params={"effective_on": held})
    assert len([r for r in in_effect["reviews"] if r["status"] == "completed"]) == 3
    day_before = (clock().date() - timedelta(days=11)).isoformat()
    earlier = sam.call("GET", params={"effective_on": day_before})
    assert len([r for r in earlier["reviews"] if r["status"] == "completed"]) == 2
    draft = sam.call("GET", params={"version": 1})
    assert draft["status"] == "draft"
    assert draft["goals"] == []
    too_early = sam.call("GET", params={"as_of": "2000-01-01T00:00:00Z"}, status=404)
    assert too_early["status"] == 404

    # What changed between activation and now, item by item.
    diff = sam.call("GET", "/diff", params={"from": activated})
    assert diff["from_version"] == activated
    assert diff["to_version"] == third["version"]
    assert any(c["item_id"] == phq["id"] and c["kind"] == "changed" for c in diff["changes"])

    # The revision log: every change with who, both times and its rationale.
    revisions = sam.call("GET", "/revisions")["revisions"]
    assert len(revisions) == third["version"]
    sam.post("/rationales", {"text": "Why no change after two reviews?",
                             "explains_version": third["version"],
                             "kind": "rationale_request"}, status=200)  # fmt: skip

    # The event history flags the late entry.
    events = dana.call("GET", "/events")["events"]
    completed = [e for e in events if e["type"] == "ReviewCompleted"]
    assert [e["late_entry"] for e in completed] == [False, False, True]
    assert completed[-1]["entry_kind"] == "delayed_entry"
    assert completed[-1]["actor"]["user_id"] == "dana-reyes"

    # Findings, for the plan and across the caseload.
    codes = {f["code"] for f in dana.call("GET", "/findings")["findings"]}
    assert {"REVIEW_COPIED_FORWARD", "LATE_ENTRY", "RATIONALE_REQUESTED"} <= codes
    caseload = Session(running, "sam")
    rows = caseload.call("GET", "/plans", params={"flag": "copied_forward"})["plans"]
    assert [r["plan_id"] for r in rows] == [dana.plan_id]
    assert rows[0]["review_overdue"] is False
    assert rows[0]["findings_count"] >= len(codes)
    report = caseload.call("GET", "/reports/copy-forward")
    assert [p["plan_id"] for p in report["plans"]] == [dana.plan_id]
    findings = caseload.call("GET", "/reports/findings")["findings"]
    assert {f["code"] for f in findings if f["plan_id"] == dana.plan_id} == codes
    outsider = Session(running, "marcus")
    assert outsider.call("GET", "/plans")["plans"] == []
    assert outsider.call("GET", "/reports/findings")["findings"] == []
    marcus = Session(running, "marcus", dana.plan_id)
    marcus.call("GET", status=404)

    # An auditor checks the chain; the access log accounts for every request.
    auditor = Session(running, "alex", dana.plan_id)
    verified = auditor.call("GET", "/verify")
    assert verified["ok"] is True
    assert verified["events_checked"] == third["version"] + 1
    auditor.call("POST", "/strengths", 403, json={"text": "Auditors write nothing"})

    logged = running.access_log(plan_id=dana.plan_id)
    assert len(logged) == dana.requests + sam.requests + marcus.requests + auditor.requests
    by_user = {(e["user_id"], e["outcome"]) for e in logged}
    assert ("sam-okafor", "denied") in by_user
    assert ("marcus-hill", "denied") in by_user
    assert ("alex-kim", "denied") in by_user
    views = {e["action"] for e in logged if e["user_id"] == "sam-okafor"}
    assert {"view:reviews", "view:plan", "view:diff", "view:revisions"} <= views
    assert running.verify_access_log()
