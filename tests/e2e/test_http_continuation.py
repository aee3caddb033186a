"""The continuation rule over HTTP, on each store: a review or a renewal judged copied forward
(or nearly) needs a ``continuation_reason`` (422 naming the field, nothing stored, without it);
``?dry_run=true`` previews the verdict, stores nothing, and the verdict then recorded is the one
previewed; an updated review needs no reason; a retry under the same Idempotency-Key gets its
first answer; a write that lands between the check and the write has the check made again."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from plantrail.domain import commands as c
from plantrail.domain.errors import PlanNotFound
from plantrail.projections.access.access_log import AccessEntry
from tests.support.http import Practice, meta, principal
from tests.support.plans import full_plan

REASON = "Steady gains at this dose of therapy; nothing needs changing yet"


class Dana:
    def __init__(self, running: Practice) -> None:
        self.running = running
        self.ids = full_plan(running.service, "dana")
        self.plan = f"/plans/{self.ids['plan_id']}"

    def send(
        self,
        suffix: str,
        body: dict[str, Any],
        status: int = 200,
        *,
        headers: dict[str, str] | None = None,
        dry_run: bool = False,
    ) -> Any:
        response = self.running.request(
            "dana",
            "POST",
            self.plan + suffix,
            json=body,
            headers=headers or {},
            params={"dry_run": "true"} if dry_run else None,
        )
        assert response.status_code == status, response.text
        if status >= 400:
            assert response.headers["content-type"] == "application/problem+json"
        return response.json()

    def get(self, suffix: str = "") -> Any:
        response = self.running.request("dana", "GET", self.plan + suffix)
        assert response.status_code == 200, response.text
        return response.json()

    def version(self) -> int:
        return int(self.get()["version"])

    def start_review(self) -> str:
        return str(self.send("/reviews", {"reason": "scheduled"}, 201)["id"])

    def body(self, summary: str = "PHQ-9 of 12; three activities a week") -> dict[str, Any]:
        return {
            "assessments": [{"objective_id": self.ids["objective"], "status": "partially_met"}],
            "progress_summary": summary,
        }


def copied_forward(running: Practice) -> tuple[Dana, str]:
    """A plan with one updated review, and a second review open whose completion with the same
    assessments and summary would be copied forward."""
    dana = Dana(running)
    first = dana.start_review()
    # (d) an updated review needs no reason: the objective's status moved.
    dana.send(f"/reviews/{first}/complete", dana.body())
    return dana, dana.start_review()


def test_a_copied_forward_review_needs_a_reason_and_records_the_verdict_previewed(
    running: Practice,
) -> None:
    dana, review = copied_forward(running)
    before = dana.version()
    preview = dana.send(f"/reviews/{review}/complete", dana.body(), dry_run=True)
    assert preview["requires_reason"] is True
    assert preview["applies"] is True
    assert preview["verdict"]["verdict"] == "copied_forward"
    assert preview["version"] == before
    assert preview["message"].startswith("Completed now, Review 2 would be judged copied forward")
    assert dana.version() == before  # a dry run stores nothing

    # (a) without a reason: 422 naming the field, nothing stored.
    refused = dana.send(f"/reviews/{review}/complete", dana.body(), 422)
    assert [e["field"] for e in refused["errors"]] == ["continuation_reason"]
    assert refused["errors"][0]["message"] == preview["message"]
    entry = running.access_log()[-1]
    assert (entry["action"], entry["outcome"]) == ("CompleteReview", "rejected")
    assert dana.version() == before

    # (b) with one: stored, and the verdict recorded is the one previewed.
    key = {"Idempotency-Key": "complete-review-2"}
    body = {**dana.body(), "continuation_reason": REASON}
    done = dana.send(f"/reviews/{review}/complete", body, headers=key)
    assert done["version"] == before + 1
    history = dana.get("/reviews")["reviews"]
    assert history[-1]["copy_forward"] == preview["verdict"]
    assert history[-1]["continuation_reason"] == REASON
    [finding] = [
        f for f in dana.get("/findings")["findings"] if f["code"] == "REVIEW_COPIED_FORWARD"
    ]
    assert finding["message"].endswith(f"continuing unchanged is right: «{REASON}»")

    # A retry of the stored command gets its first answer: the check is not made again.
    again = dana.send(f"/reviews/{review}/complete", body, headers=key)
    assert again == done
    assert dana.version() == before + 1


def test_a_dry_run_is_logged_as_a_preview_and_refuses_what_the_engine_would(
    running: Practice,
) -> None:
    dana, review = copied_forward(running)
    dana.send(f"/reviews/{review}/complete", dana.body(), dry_run=True)
    entry = running.access_log()[-1]
    assert (entry["action"], entry["outcome"]) == ("PreviewCompleteReview", "ok")
    # A reopened met objective without its rationale, say: the engine's rule, not a preview.
    bad = {"assessments": [], "progress_summary": "x"}
    refused = dana.send("/reviews/no-such-review/complete", bad, 404, dry_run=True)
    assert refused["status"] == 404
    # Marcus may not reach Dana's plan: the unknown plan's 404, as for the write.
    response = running.request(
        "marcus", "POST", dana.plan + f"/reviews/{review}/complete",
        json=dana.body(), params={"dry_run": "true"},
    )  # fmt: skip
    assert response.status_code == 404


def test_a_stale_if_match_is_412_before_the_continuation_rule(running: Practice) -> None:
    dana, review = copied_forward(running)
    stale = dana.version() - 1
    dana.send(f"/reviews/{review}/complete", dana.body(), 412, headers={"If-Match": f'"{stale}"'})
    current = dana.version()
    refused = dana.send(
        f"/reviews/{review}/complete", dana.body(), 422, headers={"If-Match": f'"{current}"'}
    )
    assert refused["errors"][0]["field"] == "continuation_reason"
    body = {**dana.body(), "continuation_reason": REASON}
    done = dana.send(f"/reviews/{review}/complete", body, headers={"If-Match": f'"{current}"'})
    assert done["version"] == current + 1


def test_a_write_between_the_check_and_the_write_is_judged_again(
    running: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    dana, review = copied_forward(running)
    service = running.service
    original = service.execute
    calls: list[int | None] = []

    def racing(plan_id: Any, command: Any, envelope: c.CommandMeta) -> Any:
        calls.append(envelope.expected_version)
        if len(calls) == 1:
            # Another request records a score in between (its own thread, as a request would
            # run: not inside this request's pending access-log entry).
            score = c.RecordMeasurement(
                instrument="PHQ-9", score=12, administered_on=running.clock().date()
            )
            other = threading.Thread(target=original, args=(plan_id, score, meta("dana")))
            other.start()
            other.join()
        return original(plan_id, command, envelope)

    monkeypatch.setattr(service, "execute", racing)
    before = dana.version()
    body = {**dana.body(), "continuation_reason": REASON}
    done = dana.send(f"/reviews/{review}/complete", body)
    assert calls == [before, before + 1]  # judged at each version it was run on
    assert done["version"] == before + 2
    assert dana.get("/reviews")["reviews"][-1]["copy_forward"]["verdict"] == "copied_forward"


def test_a_renewal_judged_copied_forward_needs_a_reason(running: Practice) -> None:
    dana, review = copied_forward(running)
    dana.send(f"/reviews/{review}/complete", {**dana.body(), "continuation_reason": REASON})
    end = (running.clock().date() + timedelta(days=330)).isoformat()
    before = dana.version()
    why = {"plan_end_date": end, "rationale": "Annual renewal with the client"}
    preview = dana.send("/renew", why, dry_run=True)
    assert preview["requires_reason"] is True
    assert preview["message"].startswith(
        "Renewed now, the renewed plan would be judged copied forward: the plan language is "
        "100% the same as at Review 2."
    )
    # The engine's own rules come first: a renewal of an active plan needs its rationale.
    refused = dana.send("/renew", {"plan_end_date": end}, 422)
    assert [e["field"] for e in refused["errors"]] == ["rationale"]
    refused = dana.send("/renew", why, 422)
    assert [e["field"] for e in refused["errors"]] == ["continuation_reason"]
    assert dana.version() == before
    done = dana.send("/renew", {**why, "continuation_reason": REASON})
    assert done["version"] == before + 1
    plan = dana.get()
    assert plan["plan_end_date"] == end
    assert plan["renewals"][0]["continuation_reason"] == REASON
    summaries = [r["summary"] for r in dana.get("/revisions")["revisions"]]
    assert any(s.startswith(f"Plan renewed until {end}") for s in summaries)


def test_an_updated_renewal_needs_no_reason(running: Practice) -> None:
    dana = Dana(running)
    first = dana.start_review()
    dana.send(f"/reviews/{first}/complete", dana.body())
    dana.send("/strengths", {"text": "Walks the dog every morning"}, 201)
    end = (running.clock().date() + timedelta(days=330)).isoformat()
    why = {"plan_end_date": end, "rationale": "Annual renewal with the client"}
    assert dana.send("/renew", why, dry_run=True)["requires_reason"] is False
    dana.send("/renew", why)


def test_statements_shared_with_other_clients_are_counted_never_named(running: Practice) -> None:
    dana, review = copied_forward(running)
    full_plan(running.service, "marcus")  # another client's plan: the same objective statement
    preview = dana.send(f"/reviews/{review}/complete", dana.body(), dry_run=True)
    [shared] = preview["shared_statements"]
    assert shared["objective_id"] == dana.ids["objective"]
    assert shared["statement"] == "PHQ-9 below 10"
    assert shared["other_clients"] == 1
    assert "Alex Moreno" not in str(preview)  # the other client is counted, never named

    gateway = running.app.state.plantrail.gateway
    entry = AccessEntry("POST", "/web/plans/{plan_id}/objectives")
    count = gateway.statement_elsewhere(
        principal("dana"), dana.ids["plan_id"], "phq-9  Below 10.", entry
    )
    assert count == 1
    assert (
        gateway.statement_elsewhere(principal("dana"), dana.ids["plan_id"], "Sleep 7 h", entry) == 0
    )
    with pytest.raises(PlanNotFound):  # only the plan's own clinician writes its pages
        gateway.statement_elsewhere(principal("marcus"), dana.ids["plan_id"], "x", entry)


def test_the_audit_packet_prints_the_continuation_reason(running: Practice) -> None:
    dana, review = copied_forward(running)
    dana.send(f"/reviews/{review}/complete", {**dana.body(), "continuation_reason": REASON})
    period = {"from": "2026-01-01", "to": "2026-12-31"}
    html = running.request(
        "dana", "GET", dana.plan + "/packet", params={**period, "format": "html"}
    )
    assert html.status_code == 200, html.text
    assert f"Continuation reason (why continuing unchanged is clinically right): {REASON}" in (
        html.text
    )
    pdf = running.request("dana", "GET", dana.plan + "/packet", params=period)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
