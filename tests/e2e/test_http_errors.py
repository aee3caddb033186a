"""Bad requests over HTTP: every one is a 4xx ``application/problem+json``, never a 500, and
never stores anything. Store failures are 503; an access log that cannot be written withholds
the data."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from plantrail.api.routing.problems import problem as problem_response
from plantrail.domain.errors import StorageError
from plantrail.projections.store.failures import translated
from tests.support.http import Practice
from tests.support.plans import full_plan


@pytest.fixture
def plan(running: Practice) -> dict[str, Any]:
    return full_plan(running.service)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "errors"} <= set(body)
    assert body["status"] == status
    assert body["type"].startswith("urn:plantrail:problem:")
    return body


def raw(
    running: Practice, path: str, content: bytes, content_type: str = "application/json"
) -> Any:
    return running.request(
        "dana", "POST", path, content=content, headers={"Content-Type": content_type}
    )


def test_malformed_bodies_are_422(running: Practice, plan: dict[str, Any]) -> None:
    path = f"/plans/{plan['plan_id']}/goals"
    cases = [
        b'{"statement":',  # truncated JSON
        b"\xff\xfe{}",  # not UTF-8
        b'["a list"]',  # not an object
        b'{"statement": 42}',  # wrong type
        b'{"statement": "a\\u0000b"}',  # NUL in text
        b'{"statement": "lone \\ud800 surrogate"}',  # lone surrogate
        b'{"statement": "   "}',  # blank
        b'{"statement": "x", "version": 9}',  # server-owned field
        b'{"statement": "x", "actor": {"user_id": "sam-okafor"}}',  # spoofed actor
        b'{"statement": "x", "effective_date": "2026-02-30"}',  # no such date
        b'{"statement": "' + b"x" * 10_001 + b'"}',  # too long
        b'{"statement": "x", "problem_ids": ["bad id!"]}',  # malformed id
        b"",  # nothing at all
    ]
    for body in cases:
        found = problem(raw(running, path, body), 422)
        assert found["errors"], body[:40]
        assert "\x00" not in found["detail"]
    problem(raw(running, path, b'{"statement": "x"}', "text/plain"), 415)
    assert running.service.load(plan["plan_id"]).version == plan["version"]


def test_only_the_json_the_contract_names_is_read(running: Practice, plan: dict[str, Any]) -> None:
    """application/json only (FHIR takes no bodies): another ``+json`` type is 415; a byte
    order mark or a key given twice is 422 naming the body, never read as one of its
    readings; nothing is stored."""
    path = f"/plans/{plan['plan_id']}/goals"
    body = b'{"statement": "Sleeps through the night"}'
    for content_type in ("application/vnd.evil+json", "application/merge-patch+json",
                         "application/fhir+json", "text/json"):  # fmt: skip
        found = problem(raw(running, path, body, content_type), 415)
        assert "application/json" in found["detail"]
    nested = b'{"measure": {"instrument": "PHQ-9", "instrument": "GAD-7"}, "statement": "x"}'
    for bad in (b"\xef\xbb\xbf" + body, b'{"statement": "Sleeps", "statement": "Eats"}', nested):
        found = problem(raw(running, path, bad), 422)
        assert found["errors"][0]["field"] == "body", bad
    assert running.service.load(plan["plan_id"]).version == plan["version"]
    fine = raw(running, path, body, "application/json; charset=utf-8")
    assert fine.status_code == 201, fine.text


def test_dates_outside_plausible_bounds_are_422(running: Practice, plan: dict[str, Any]) -> None:
    """A score before the client was born, a target date far past the plan's horizon."""
    base = f"/plans/{plan['plan_id']}"
    for path, body, field in [
        ("/measurements", {"instrument": "PHQ-9", "score": 3, "administered_on": "0001-01-01"},
         "administered_on"),
        ("/objectives", {"goal_id": plan["goal"], "statement": "Sleeps", "target_date":
                         "9999-12-31"}, "target_date"),
    ]:  # fmt: skip
        found = problem(running.request("dana", "POST", base + path, json=body), 422)
        assert found["errors"][0]["field"] == field
    assert running.service.load(plan["plan_id"]).version == plan["version"]


def test_out_of_range_values_are_422(running: Practice, plan: dict[str, Any]) -> None:
    base = f"/plans/{plan['plan_id']}"
    cases = [
        ("/measurements", {"instrument": "PHQ-9", "score": 28, "administered_on": "2026-03-01"}),
        ("/measurements", {"instrument": "GAD-7", "score": 1e308, "administered_on": "2026-03-01"}),
        ("/measurements", {"instrument": "x", "score": 2**70, "administered_on": "2026-03-01"}),
        ("/measurements", {"instrument": "PHQ-9", "score": 3, "administered_on": "9999-12-31"}),
        ("/timeline", {"estimated_sessions": 2**64, "session_frequency": "weekly"}),
        ("/rationales", {"text": "why", "explains_version": 2**40}),
        ("/strengths", {"text": "x", "effective_date": "9999-12-31"}),
        ("/strengths", {"text": "x", "effective_date": "0001-01-01"}),
    ]
    for suffix, body in cases:
        method = "PUT" if suffix == "/timeline" else "POST"
        problem(running.request("dana", method, base + suffix, json=body), 422)
    non_finite = raw(
        running,
        base + "/measurements",
        b'{"instrument": "x", "score": NaN, "administered_on": "2026-03-01"}',
    )
    problem(non_finite, 422)
    assert running.service.load(plan["plan_id"]).version == plan["version"]


def test_bad_queries_and_headers_are_4xx(running: Practice, plan: dict[str, Any]) -> None:
    path = f"/plans/{plan['plan_id']}"
    for query in (
        "?as_of=2026-03-02T09:00:00",  # no time zone
        "?as_of=yesterday",
        "?version=0",
        "?version=99999999999999999999",
        "?effective_on=2026-13-01",
        "?as_of=%00",
    ):
        problem(running.request("dana", "GET", path + query), 422)
    problem(running.request("dana", "GET", path + "?version=999"), 404)
    problem(running.request("dana", "GET", path + "/diff?from=abc"), 422)
    problem(running.request("dana", "GET", path + "/diff"), 422)
    problem(running.request("dana", "GET", "/plans?clinician_id=%00"), 422)
    problem(running.request("dana", "GET", "/plans?status=closed"), 422)
    problem(running.request("dana", "GET", "/plans/not-a-uuid"), 422)
    key = running.request(
        "dana",
        "POST",
        path + "/strengths",
        json={"text": "x"},
        headers={"Idempotency-Key": "k" * 101},
    )
    assert problem(key, 422)["errors"][0]["field"] == "Idempotency-Key"
    assert running.service.load(plan["plan_id"]).version == plan["version"]


def test_unknown_items_are_404(running: Practice, plan: dict[str, Any]) -> None:
    base = f"/plans/{plan['plan_id']}"
    problem(
        running.request(
            "dana", "PATCH", base + "/goals/no-such-goal", json={"statement": "x", "rationale": "y"}
        ),
        404,
    )
    problem(
        running.request("dana", "DELETE", base + "/diagnoses/F99", json={"rationale": "y"}), 404
    )
    problem(
        running.request(
            "dana",
            "POST",
            base + "/reviews/nope/complete",
            json={"assessments": [], "progress_summary": "x"},
        ),
        404,
    )


def test_rule_violations_are_422_and_name_the_field(
    running: Practice, plan: dict[str, Any]
) -> None:
    base = f"/plans/{plan['plan_id']}"
    missing = running.request(
        "dana",
        "PATCH",
        f"{base}/goals/{plan['goal']}",
        json={"statement": "Changed without a reason"},
    )
    body = problem(missing, 422)
    assert body["errors"] == [{"field": "rationale", "message": body["errors"][0]["message"]}]
    running.request("dana", "POST", base + "/discharge", json={"reason": "Moved away"})
    after = running.request("dana", "POST", base + "/strengths", json={"text": "x"})
    assert problem(after, 422)["type"].endswith("plan-discharged")


def test_huge_bodies_are_413(running: Practice, plan: dict[str, Any]) -> None:
    path = f"/plans/{plan['plan_id']}/strengths"
    declared = raw(running, path, b'{"text": "' + b"x" * 2_000_000 + b'"}')
    problem(declared, 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"text": "'
        for _ in range(40):
            yield b"y" * 50_000
        yield b'"}'

    streamed = running.request(
        "dana", "POST", path, content=chunks(), headers={"Content-Type": "application/json"}
    )
    problem(streamed, 413)
    assert running.service.load(plan["plan_id"]).version == plan["version"]


def test_authentication_comes_first(running: Practice, plan: dict[str, Any]) -> None:
    path = f"/plans/{plan['plan_id']}/strengths"
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer pt_0123456789abcdef_" + "A" * 43},
    ):
        anonymous = running.client.post(
            path, content=b"{not json", headers={"Content-Type": "application/json", **headers}
        )
        body = problem(anonymous, 401)
        assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        assert "token" in body["detail"]
    problem(running.client.get("/no/such/address"), 401)
    assert running.client.get("/health").json() == {"status": "ok"}


def test_disabled_users_and_replaced_tokens_are_refused(running: Practice) -> None:
    accounts = running.app.state.plantrail.accounts
    assert running.request("marcus", "GET", "/me").status_code == 200
    accounts.disable("marcus-hill")
    problem(running.request("marcus", "GET", "/me"), 401)
    old = running.tokens["dana"]
    running.tokens["dana"] = accounts.issue_token("dana-reyes")
    assert running.request("dana", "GET", "/me").json()["user_id"] == "dana-reyes"
    problem(running.client.get("/me", headers={"Authorization": f"Bearer {old}"}), 401)


def test_routing_errors_are_problems(running: Practice, plan: dict[str, Any]) -> None:
    problem(running.request("dana", "GET", "/no/such/address"), 404)
    wrong = running.request("dana", "DELETE", f"/plans/{plan['plan_id']}")
    problem(wrong, 405)
    assert "GET" in wrong.headers["Allow"]


def test_store_failures_are_503(
    running: Practice, plan: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(*_: Any, **__: Any) -> Any:
        raise StorageError("cannot save the change: the database stayed busy; nothing was saved")

    monkeypatch.setattr(running.service, "execute", busy)
    found = problem(
        running.request("dana", "POST", f"/plans/{plan['plan_id']}/strengths", json={"text": "x"}),
        503,
    )
    assert "busy" in found["detail"]


def test_no_read_without_an_access_log_entry(
    running: Practice, plan: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = running.app.state.plantrail.access_log

    def broken(*_: Any, **__: Any) -> Any:
        raise StorageError("disk full")

    # The group-commit writer's store step: the row cannot be made durable.
    monkeypatch.setattr(log, "_store", broken)
    withheld = running.request("dana", "GET", f"/plans/{plan['plan_id']}")
    problem(withheld, 503)
    assert "Alex Moreno" not in withheld.text


def test_a_503_for_an_unwritable_access_log_says_retry_after_and_what_failed(
    running: Practice, plan: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every 503 carries ``Retry-After``; when the store itself is full, the detail says so
    (the access log is only where the failure showed)."""
    log = running.app.state.plantrail.access_log

    def full(*_: Any, **__: Any) -> Any:
        with translated("write the access log"):
            raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(log, "_store", full)
    for method, path, body in (
        ("GET", f"/plans/{plan['plan_id']}", None),
        ("POST", f"/plans/{plan['plan_id']}/strengths", {"text": "Walks daily"}),
        ("GET", "/me", None),
    ):
        withheld = running.request("dana", method, path, json=body)
        found = problem(withheld, 503)
        assert withheld.headers["Retry-After"] == "1"
        assert "disk is full" in found["detail"]
        assert found["detail"].startswith("the store")
        assert "Alex Moreno" not in withheld.text


def test_every_503_carries_retry_after() -> None:
    assert problem_response(503, "down").headers["Retry-After"] == "1"


def test_unexpected_errors_are_500_problems_without_details(
    running: Practice, plan: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(running.service, "load_at", bug)
    monkeypatch.setattr(running.service, "read_current", bug)  # the current read's path
    found = problem(running.request("dana", "GET", f"/plans/{plan['plan_id']}"), 500)
    assert "secret" not in found["detail"]
    assert running.access_log()[-1]["outcome"] == "error"


def test_dates_at_the_ends_of_the_calendar_are_422(running: Practice, plan: dict[str, Any]) -> None:
    """A period in year 9999 or an instant at +14:00 on 0001-01-01 cannot be computed with:
    the caller's input, so 422 (never a 500 that drops the connection), also on the pages."""
    base = f"/plans/{plan['plan_id']}"
    for path in [
        f"{base}/findings?from=9999-01-01&to=9999-12-31",
        "/reports/findings?from=9999-01-01&to=9999-12-31",
        f"{base}/packet?from=9999-01-01&to=9999-12-31",
        f"{base}/packet?from=2026-01-01&to=2026-02-01&generated_at=0001-01-01T00:00:00%2B14:00",
        f"{base}/findings?from=0001-01-01&to=0001-12-31",
    ]:
        problem(running.request("alex", "GET", path), 422)
    token = running.tokens["alex"]
    form = running.client.get("/web/sign-in")
    guard = re.search(r'name="guard" value="([^"]+)"', form.text)
    assert guard
    running.client.post("/web/sign-in", data={"guard": guard.group(1), "token": token})
    for page in [
        f"/web{base}/findings?from=9999-01-01&to=9999-12-31",
        f"/web{base}/packet?from=9999-01-01&to=9999-12-31&format=html",
        f"/web{base}?as_of=0001-01-01T00:00:00%2B14:00",
    ]:
        answer = running.client.get(page)
        assert answer.status_code < 500, (page, answer.status_code)
