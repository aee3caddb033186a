"""The hot read, ``GET /plans/{id}`` of the plan now, is served by the access-log middleware
without FastAPI (``routes_plans.FastPlanRead``). It must answer byte for byte as
the FastAPI route ``get_plan`` does, refuse the same callers with the same problems, and log
the same access-log entries. The FastAPI route still answers what the fast path leaves to it:
an id spelt in capitals (a valid UUID, not the canonical spelling) goes through FastAPI, so
each check compares the two answers for the same plan."""

from __future__ import annotations

from typing import Any

import pytest

from plantrail.domain.errors import StorageError
from tests.support.http import Practice
from tests.support.plans import full_plan

UNKNOWN = "00000000-0000-4000-8000-000000000000"
ENTRY_FIELDS = ("route", "method", "action", "outcome", "status", "plan_id", "user_id", "role")


@pytest.fixture
def plan_id(running: Practice) -> str:
    return str(full_plan(running.service)["plan_id"])


def both(running: Practice, who: str | None, plan_id: str) -> tuple[Any, Any, dict[str, Any]]:
    """The fast path's answer, the FastAPI route's answer, and their access-log entries."""
    fast = running.request(who, "GET", f"/plans/{plan_id}")
    fast_entry = running.access_log()[-1]
    routed = running.request(who, "GET", f"/plans/{plan_id.upper()}")
    routed_entry = running.access_log()[-1]
    assert routed_entry["route"] == "/plans/{plan_id}"  # it did go through the FastAPI route
    entries = {
        "fast": {k: fast_entry.get(k) for k in ENTRY_FIELDS},
        "routed": {k: routed_entry.get(k) for k in ENTRY_FIELDS},
    }
    return fast, routed, entries


def same(fast: Any, routed: Any) -> None:
    assert fast.status_code == routed.status_code
    assert fast.content == routed.content
    # The same headers in the same order; each request has its own id (X-Request-ID).
    assert [(k, v) for k, v in fast.headers.items() if k != "x-request-id"] == [
        (k, v) for k, v in routed.headers.items() if k != "x-request-id"
    ]
    assert fast.headers["x-request-id"] != routed.headers["x-request-id"]


def test_the_plan_now_is_the_routes_answer_byte_for_byte(running: Practice, plan_id: str) -> None:
    fast, routed, entries = both(running, "dana", plan_id)
    assert fast.status_code == 200
    assert fast.headers["etag"]
    assert fast.json()["plan_id"] == plan_id
    same(fast, routed)
    assert entries["fast"] == entries["routed"]
    assert entries["fast"]["action"] == "view:plan"
    assert entries["fast"]["outcome"] == "ok"
    assert running.verify_access_log()


@pytest.mark.parametrize(
    ("who", "status", "outcome"),
    [
        ("admin", 403, "denied"),  # the route's policy (READ_PLANS): a role that never reads
        ("marcus", 404, "denied"),  # the gateway's reach: not his plan, answered as unknown
        ("sam", 200, "ok"),  # the supervisor of the plan's clinician
        ("alex", 200, "ok"),  # an auditor
    ],
)
def test_refusals_are_the_routes_problems_and_entries(
    running: Practice, plan_id: str, who: str, status: int, outcome: str
) -> None:
    fast, routed, entries = both(running, who, plan_id)
    assert fast.status_code == status, fast.text
    same(fast, routed)
    assert entries["fast"] == entries["routed"]
    assert entries["fast"]["outcome"] == outcome
    if status >= 400:
        assert fast.headers["content-type"] == "application/problem+json"


def test_an_unknown_plan_reads_as_one_out_of_reach(running: Practice, plan_id: str) -> None:
    unknown, routed, entries = both(running, "dana", UNKNOWN)
    same(unknown, routed)
    assert entries["fast"] == entries["routed"]
    out_of_reach = running.request("marcus", "GET", f"/plans/{plan_id}")
    assert out_of_reach.status_code == unknown.status_code == 404
    assert out_of_reach.content == unknown.content


def test_without_a_token_it_is_401_and_logged(running: Practice, plan_id: str) -> None:
    answer = running.request(None, "GET", f"/plans/{plan_id}")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert running.access_log()[-1]["outcome"] == "unauthenticated"


def test_queries_go_through_the_route(running: Practice, plan_id: str) -> None:
    bad = running.request("dana", "GET", f"/plans/{plan_id}?version=nope")
    assert bad.status_code == 422  # FastAPI's validation of the query, as before
    first = running.request("dana", "GET", f"/plans/{plan_id}?version=1")
    assert first.status_code == 200
    assert first.headers["etag"] == '"1"'


def test_no_answer_before_its_access_log_row(
    running: Practice, plan_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise StorageError("disk full")

    monkeypatch.setattr(running.app.state.plantrail.access_log, "_store", broken)
    withheld = running.request("dana", "GET", f"/plans/{plan_id}")
    assert withheld.status_code == 503
    assert withheld.headers["content-type"] == "application/problem+json"
    assert "Alex Moreno" not in withheld.text


def test_an_unexpected_error_is_a_500_problem_and_logged(
    running: Practice, plan_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(running.service, "read_current", bug)
    answer = running.request("dana", "GET", f"/plans/{plan_id}")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert "secret" not in answer.text
    assert running.access_log()[-1]["outcome"] == "error"


def test_an_unknown_token_is_the_routes_401(running: Practice, plan_id: str) -> None:
    """The hot read authenticates in the same worker call as it reads: a token that does not
    authenticate must still be refused before anything is read, as the route refuses it."""
    wrong = {"Authorization": "Bearer pt_not-a-token"}
    fast = running.request(None, "GET", f"/plans/{plan_id}", headers=wrong)
    fast_entry = {k: running.access_log()[-1].get(k) for k in ("status", "outcome", "user_id")}
    routed = running.request(None, "GET", f"/plans/{plan_id.upper()}", headers=wrong)
    assert fast.status_code == 401
    assert fast.content == routed.content
    assert "Alex Moreno" not in fast.text
    assert fast_entry == {"status": 401, "outcome": "unauthenticated", "user_id": None}


def test_a_break_glass_read_goes_the_whole_way(running: Practice, plan_id: str) -> None:
    """A request with a reason for an emergency read (or a body) is left to the full path,
    with its checks in their order: a reason too short is refused, a good one is read."""
    short = running.request(
        "marcus", "GET", f"/plans/{plan_id}", headers={"X-Break-Glass-Reason": "urgent"}
    )
    assert short.status_code == 422  # InvalidInput, as on every other route
    assert "X-Break-Glass-Reason" in short.text
    reason = {"X-Break-Glass-Reason": "Covering the crisis line tonight; client called in."}
    read = running.request("marcus", "GET", f"/plans/{plan_id}", headers=reason)
    assert read.status_code == 200
    entry = running.access_log()[-1]
    assert entry["break_glass_reason"] == reason["X-Break-Glass-Reason"]
